"""How stored bytes are served, by the API (`gallery.web.delivery`) and by the static site (`gallery serve` and S3
through `gallery publish`): Cache-Control by scope and by path, content types, and the headers that keep what users
upload from running as a document on our origin.

It sits below both and imports neither, so either can be imported alone.
"""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from gallery.domain import formats
from gallery.domain.site_layout import HASHED_DIRS, USER_BYTES_DIRS

SVG = formats.SVG.media_type
NOSNIFF = "nosniff"
# Image bytes never run as a document on our origin. An SVG is a document when opened directly, so it is also
# sandboxed (no scripts, no same-origin access); its inline styles still apply.
IMAGE_CSP = "default-src 'none'"
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
# What users' bytes on the static site get: nothing loads, nothing runs, no origin (non-raster ones also download).
ATTACHMENT_CSP = "default-src 'none'; sandbox"


def html_csp(uploads_to: tuple[str, ...] = ()) -> str:
    """The site's own pages: scripts and styles from our files only (none inline), images also from object URLs (the
    management page's previews, <gallery-img>), no plugins, no <base>, never in a frame. Requests go to our origin,
    and to where large uploads go when that is elsewhere (the S3 bucket a presigned form posts to)."""
    connect = " ".join(("'self'", *uploads_to))
    return (
        f"default-src 'self'; connect-src {connect}; img-src 'self' data: blob:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


HTML_CSP = html_csp()
# API answers are data: nothing in them may load anything or be framed.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
REFERRER_POLICY = "no-referrer"

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

# Stored (sniffed) media type → the extension a site file of that type is named with, and back.
EXTENSIONS = {f.media_type: f.extension for f in formats.FORMATS}
RASTER_TYPES = formats.RASTER_TYPES
_USER_BYTES_TYPES = {extension: media_type for media_type, extension in EXTENSIONS.items()} | {
    "json": "application/json"
}
_SITE_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".webp": formats.WEBP.media_type,
    ".svg": SVG,
    ".ico": formats.ICO.media_type,
    ".md": "text/markdown; charset=utf-8",
    # A gzipped file (the sitemap.xml.gz) is served as what it is: named by `mimetypes` from its inner
    # type, it would reach clients as XML they cannot read, since nothing sends a Content-Encoding for it.
    ".gz": "application/gzip",
}
OCTET_STREAM = "application/octet-stream"


def cache_control(minutes: int, shared: bool) -> str:
    """An image's Cache-Control for a browser TTL in minutes (`CACHE_SPECS_IMAGE_{SYSTEM,TENANT}_BROWSER_TTL`; 0:
    revalidate). Only public links (`shared`) may sit in shared caches: an authenticated URL is tenant-relative, so a
    CDN or proxy must never hand one tenant's image to another."""
    if minutes <= 0:
        return REVALIDATE
    return f"{'public' if shared else 'private'}, max-age={minutes * 60}"


# Authenticated answers differ by caller: caches that keep them at all must key them by the token.
AUTHENTICATED_VARY = "X-Authorization, Authorization"


def image_headers(media_type: str) -> dict[str, str]:
    """What every response carrying an image's bytes says besides its type, wherever it is served from."""
    return {"X-Content-Type-Options": NOSNIFF, "Content-Security-Policy": SVG_CSP if media_type == SVG else IMAGE_CSP}


def extension_for(media_type: str) -> str:
    return EXTENSIONS.get(media_type, "bin")


def site_content_type(relative: str) -> str:
    """A site file's type from its name. In the users' bytes folders only names we made count (an extension from
    the stored media type); anything else there is opaque bytes."""
    extension = PurePosixPath(relative).suffix.lower()
    if relative.startswith(USER_BYTES_DIRS):
        return _USER_BYTES_TYPES.get(extension.lstrip("."), OCTET_STREAM)
    return _SITE_TYPES.get(extension) or mimetypes.guess_type(relative)[0] or OCTET_STREAM


def site_cache_control(relative: str) -> str:
    """Content-addressed files (renditions, originals) forever; pages, JSON and every other fixed name revalidated."""
    return IMMUTABLE if relative.startswith(HASHED_DIRS) else REVALIDATE


def site_headers(relative: str, uploads_to: tuple[str, ...] = ()) -> dict[str, str]:
    """Every header a static site file is served with, by `gallery serve` and (what S3 can hold of it) by
    `gallery publish`; CloudFront's response headers policy adds the rest there (SECURITY.md). `uploads_to`: the
    origins large uploads are posted to, when not this one."""
    content_type = site_content_type(relative)
    media_type = content_type.split(";")[0]
    headers = {
        "Content-Type": content_type,
        "Cache-Control": site_cache_control(relative),
        "X-Content-Type-Options": NOSNIFF,
    }
    if relative.startswith(USER_BYTES_DIRS):
        # Sandboxed whatever they are (as CloudFront's one policy for these folders says); only raster images may
        # show in the browser's own viewer rather than download.
        headers["Content-Security-Policy"] = ATTACHMENT_CSP
        if media_type not in RASTER_TYPES:
            headers["Content-Disposition"] = "attachment"
    elif media_type == "text/html":
        headers.update(
            {
                "Content-Security-Policy": html_csp(uploads_to),
                "X-Frame-Options": "DENY",
                "Referrer-Policy": REFERRER_POLICY,
            }
        )
    elif media_type == SVG:
        headers["Content-Security-Policy"] = SVG_CSP
    return headers
