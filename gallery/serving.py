"""How stored bytes are served, by the API (`gallery.api.delivery`) and by the static site (`gallery serve` and S3
through `gallery publish`): Cache-Control by scope and by path, content types, and the headers that keep what users
upload from running as a document on our origin.

It sits below both and imports neither, so either can be imported alone.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from gallery.config import Settings

SVG = "image/svg+xml"
NOSNIFF = "nosniff"
# Image bytes never run as a document on our origin. An SVG is a document when opened directly, so it is also
# sandboxed (no scripts, no same-origin access); its inline styles still apply.
IMAGE_CSP = "default-src 'none'"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"
HASHED_DIRS = ("r/",)  # the static site's content-hashed renditions

_SITE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".webp": "image/webp",
    ".svg": SVG,
    ".ico": "image/x-icon",
    ".md": "text/markdown; charset=utf-8",
}


def cache_control(settings: Settings, system: bool) -> str:
    """An image's Cache-Control from `CACHE_SPECS_IMAGE_{SYSTEM,TENANT}_BROWSER_TTL` (minutes; 0: revalidate)."""
    minutes = settings.system_browser_ttl if system else settings.tenant_browser_ttl
    return f"max-age={minutes * 60}" if minutes > 0 else REVALIDATE


def image_headers(media_type: str) -> dict[str, str]:
    """What every response carrying an image's bytes says besides its type, wherever it is served from."""
    return {"X-Content-Type-Options": NOSNIFF, "Content-Security-Policy": SVG_CSP if media_type == SVG else IMAGE_CSP}


def site_content_type(path: Path) -> str:
    return _SITE_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def site_cache_control(relative: str, settings: Settings) -> str:
    """A static site file's Cache-Control, by its path in the site: hashed renditions forever, originals by scope as
    the API serves them (shared caches may keep them too), everything else revalidated."""
    if relative.startswith(HASHED_DIRS):
        return IMMUTABLE
    if relative.startswith("originals/"):
        value = cache_control(settings, relative.startswith("originals/system/"))
        return f"public, {value}" if value.startswith("max-age") else value
    return REVALIDATE
