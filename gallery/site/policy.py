"""How the static site's files are served, wherever they are served from (S3 via `gallery publish`, or `gallery
serve`): their Content-Type and Cache-Control, decided by path alone."""

from __future__ import annotations

import mimetypes
from pathlib import Path

from gallery.api.delivery import cache_control
from gallery.config import Settings

SVG = "image/svg+xml"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASHED_DIRS = ("r/",)
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".md": "text/markdown; charset=utf-8",
}


def content_type(path: Path) -> str:
    return _TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def headers_for(relative: str, settings: Settings) -> str:
    if relative.startswith(HASHED_DIRS):
        return IMMUTABLE
    if relative.startswith("originals/"):
        system = relative.startswith("originals/system/")
        value = cache_control(settings, system)
        return f"public, {value}" if value.startswith("max-age") else value
    return REVALIDATE
