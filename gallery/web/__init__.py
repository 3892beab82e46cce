"""HTTP blueprints: thin views that parse, call the services, and render."""

from __future__ import annotations

from flask import Flask, request

from gallery.web import admin, auth, dashboards, errors, hardening, images, openapi, ops, public, site, uploads
from gallery.web.observe import ROUTE


def register(app: Flask) -> None:
    errors.init_app(app)
    hardening.init_app(app)
    # The site's catch-all route ranks below every API rule, so it only sees paths the API does not own.
    for module in (auth, images, public, admin, dashboards, uploads, openapi, ops, site):
        app.register_blueprint(module.bp)

    @app.before_request
    def _route() -> None:
        """The rule's template, for the request log and the metrics (never the path: it holds users' keys)."""
        request.environ[ROUTE] = request.url_rule.rule if request.url_rule is not None else None
