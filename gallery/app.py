"""The Flask application factory. Nothing is bound at import time; `create_app()` builds everything."""

from __future__ import annotations

from flask import Flask

from gallery.api import register
from gallery.config import Settings
from gallery.core import Gallery


def create_app(settings: Settings | None = None, gallery: Gallery | None = None) -> Flask:
    gallery = gallery or Gallery.open(settings)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = gallery.settings.max_request_bytes
    # Multipart text fields (title, imageSubType) are small; the file part is bounded by MAX_CONTENT_LENGTH.
    app.config["MAX_FORM_MEMORY_SIZE"] = 1 << 20
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["gallery"] = gallery
    register(app)
    return app
