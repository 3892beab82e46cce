"""HTTP blueprints: thin views that parse, call the services, and render."""

from __future__ import annotations

from flask import Flask

from gallery.api import admin, auth, dashboards, errors, images, public, uploads


def register(app: Flask) -> None:
    errors.init_app(app)
    for module in (auth, images, public, admin, dashboards, uploads):
        app.register_blueprint(module.bp)
