"""The built static gallery, served beside the API on the same origin (what CloudFront does in production: `/api/*`
to the API, everything else to the site bucket), so `gallery serve` is the whole product on one port.

Headers follow the publishing policy (`gallery.serving`); SVG files are sandboxed as the API's images are.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_file
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from gallery import errors
from gallery.api.common import gallery
from gallery.serving import NOSNIFF, SVG, SVG_CSP, site_cache_control, site_content_type

bp = Blueprint("site", __name__)


def _resolve(root: Path, path: str) -> Path | None:
    joined = safe_join(str(root), path)  # None for anything that would leave the site
    if joined is None:
        return None
    found = Path(joined)
    if found.is_dir():
        found = found / "index.html"
    return found if found.is_file() else None


class SitePath(PathConverter):
    """Any path outside `/api`: an unknown API path, whatever its method, stays the API's JSON 404."""

    regex = r"(?!api(?:/|$))[^/].*?"


@bp.record_once
def _register_converter(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["site_path"] = SitePath


@bp.get("/", defaults={"path": ""})
@bp.get("/<site_path:path>")
def page(path: str) -> Response:
    settings = gallery().settings
    root = settings.site_dir.resolve()
    found = _resolve(root, path)
    if found is None:
        missing = root / "404.html"
        if missing.is_file():
            return Response(missing.read_bytes(), status=404, content_type="text/html; charset=utf-8")
        raise errors.NotFound()
    relative = found.relative_to(root).as_posix()
    # Flask adds the charset to text types itself.
    mimetype = site_content_type(found).split(";")[0]
    response = send_file(found, mimetype=mimetype, conditional=True, etag=True, max_age=None)
    response.headers["Cache-Control"] = site_cache_control(relative, settings)
    response.headers["X-Content-Type-Options"] = NOSNIFF
    if response.mimetype == SVG:
        response.headers["Content-Security-Policy"] = SVG_CSP
    return response
