"""HTTP blueprints: thin views that parse, call the services, and render."""

from __future__ import annotations

from flask import Flask

from gallery.web import admin, auth, dashboards, errors, hardening, images, openapi, public, site, uploads


def register(app: Flask) -> None:
    errors.init_app(app)
    hardening.init_app(app)
    # The site's catch-all route ranks below every API rule, so it only sees paths the API does not own.
    for module in (auth, images, public, admin, dashboards, uploads, openapi, site):
        app.register_blueprint(module.bp)
