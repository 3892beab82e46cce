"""The Flask application factory. Nothing is bound at import time; `create_app()` builds everything."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from gallery.config import Settings
from gallery.web import register
from gallery.web.observe import Metrics, Observed
from gallery.web.revalidation import Revalidation
from gallery.wiring import Gallery


def create_app(
    settings: Settings | None = None,
    gallery: Gallery | None = None,
    shell: Path | None = None,
    first_build: Callable[[], str | None] | None = None,
    metrics: Metrics | None = None,
) -> Flask:
    """`shell`: a folder of site files served where the static gallery has none (the management page and its
    assets, which `gallery serve` writes from the package). `first_build`: while the site is first built, what
    that build is doing ("building", or why it failed), for the pages to say instead of a 404."""
    gallery = gallery or Gallery.open(settings)
    app = Flask(__name__)
    app.config["GALLERY_SHELL"] = shell
    app.config["GALLERY_FIRST_BUILD"] = first_build
    app.config["MAX_CONTENT_LENGTH"] = gallery.settings.max_request_bytes
    # Multipart text fields (title, imageSubType) are small; the file part is bounded by MAX_CONTENT_LENGTH.
    app.config["MAX_FORM_MEMORY_SIZE"] = 1 << 20
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["gallery"] = gallery
    register(app)
    cors = _allow_cross_origin(app, gallery.settings.cors_origins) if gallery.settings.cors_origins else None
    observed = metrics or Metrics()
    app.extensions["gallery_metrics"] = observed
    revalidating = Revalidation(app.wsgi_app, gallery, app, cors)
    settings = gallery.settings
    app.wsgi_app = Observed(revalidating, observed, settings.log_format, settings.request_id_header)  # type: ignore[method-assign]
    return app


def _allow_cross_origin(app: Flask, origins: tuple[str, ...]) -> dict[str, Any]:
    """Browsers on these origins may call the API. Tokens travel in a header, never in cookies, so no credentials
    mode is needed; the headers a client reads (ETag, the download's file name) are exposed. Returns the options,
    which the fast 304 path answers with too."""
    from flask_cors import CORS

    options: dict[str, Any] = {
        "origins": list(origins),
        "allow_headers": ["X-Authorization", "Authorization", "Content-Type", "If-None-Match"],
        "expose_headers": ["ETag", "Content-Disposition"],
        "max_age": 3600,
    }
    CORS(app, resources={r"/api/*": options})
    return options
