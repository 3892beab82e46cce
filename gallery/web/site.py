"""The built static gallery, served beside the API on the same origin (what CloudFront does in production: `/api/*`
to the API, everything else to the site bucket), so `gallery serve` is the whole product on one port.

What the site lacks comes from the shell `gallery serve` hands the app, if any (the management page and its assets,
from the package), so `/manage/` works before any build.

Headers follow the publishing policy (`gallery.domain.serving.site_headers`): users' bytes are typed by the names we
gave them and never render as documents; pages get a strict Content-Security-Policy and may not be framed.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from flask import Blueprint, Response, current_app, send_file
from flask.blueprints import BlueprintSetupState
from werkzeug.routing import PathConverter
from werkzeug.security import safe_join

from gallery.domain import errors
from gallery.domain.serving import site_headers
from gallery.web.common import gallery

bp = Blueprint("site", __name__)


def _resolve(root: Path, path: str) -> Path | None:
    joined = safe_join(str(root), path)  # None for anything that would leave the site
    if joined is None:
        return None
    found = Path(joined)
    if found.name.startswith("."):  # the build's own (its pages manifest, a file being written), not the site's
        return None
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
    root = settings.site_dir.resolve()  # once per request: a rebuild swapping the site in mid-request changes nothing
    found = _resolve(root, path)
    shell: Path | None = current_app.config.get("GALLERY_SHELL")
    if found is None and shell is not None:
        fallback = shell.resolve()
        if (from_shell := _resolve(fallback, path)) is not None:
            root, found = fallback, from_shell
    if found is None:
        first_build: Callable[[], str | None] | None = current_app.config.get("GALLERY_FIRST_BUILD")
        state = first_build() if first_build is not None else None
        if state is not None and _is_page(path) and not (settings.site_dir / "index.html").is_file():
            return _not_built_yet(state)
        missing = root / "404.html"
        if missing.is_file():
            headers = site_headers("404.html")
            return Response(missing.read_bytes(), status=404, headers=headers)
        raise errors.NotFound()
    relative = found.relative_to(root).as_posix()
    headers = site_headers(relative, gallery().uploads.elsewhere)
    # Flask adds the charset to text types itself.
    mimetype = headers.pop("Content-Type").split(";")[0]
    response = send_file(found, mimetype=mimetype, conditional=True, etag=True, max_age=None)
    response.headers.update(headers)
    return response


def _is_page(path: str) -> bool:
    """What a person navigates to (a folder, or an HTML file), not an asset a page asks for."""
    last = path.rsplit("/", 1)[-1]
    return not last or last.endswith(".html") or "." not in last


_WAITING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">{refresh}<title>Image Gallery</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>{title}</h1><p>{text}</p>
<p><a href="/manage/">Manage images</a> · <a href="/api-docs/">API</a></p></body></html>
"""


def _not_built_yet(state: str) -> Response:
    """The site's first build is under way (a page that reloads itself), or failed: a page that says so, never the
    API's JSON 404 a person cannot read."""
    if state == "building":
        title, text = "The gallery is being built…", "This page reloads itself in a moment."
        refresh = '<meta http-equiv="refresh" content="2">'
    else:
        title = "The gallery could not be built"
        text = f"{html.escape(state)}. The server's log says more; managing images works meanwhile."
        refresh = ""
    headers = site_headers("index.html")
    headers.pop("Content-Type")
    headers.update({"Cache-Control": "no-store", "Retry-After": "2"})
    body = _WAITING.format(refresh=refresh, title=title, text=text)
    return Response(body, status=503, headers=headers, mimetype="text/html")
