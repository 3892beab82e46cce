"""Sending image bytes: ETag revalidation (304 without touching the bytes), cache and safety headers, SVG gzip."""

from __future__ import annotations

import gzip
from urllib.parse import quote

from flask import Response, request
from werkzeug.datastructures import ETags
from werkzeug.wsgi import wrap_file

from gallery.config import Settings
from gallery.domain.serving import AUTHENTICATED_VARY, SVG, cache_control, image_headers
from gallery.services.downloads import Download

_TOKEN_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~()[]{}@,=")


def not_modified(if_none_match: ETags, etag: str) -> bool:
    """Weak comparison (RFC 9110 §13.1.2): `W/"x"`, `"x"`, unquoted `x`, lists and `*` all count."""
    return if_none_match.contains_weak(etag) or if_none_match.star_tag


def not_modified_headers(settings: Settings, download: Download, *, authenticated: bool) -> dict[str, str]:
    """A 304's headers (before the defaults every answer gets): the tag, how long to keep it, and for an
    authenticated download that it varies with the caller."""
    headers = {
        "ETag": f'"{download.etag}"',
        "Cache-Control": cache_control(settings.browser_ttl(download.system), shared=not authenticated),
    }
    if authenticated:
        headers["Vary"] = AUTHENTICATED_VARY
    return headers


def _disposition(file_name: str) -> tuple[str, str]:
    """ThingsBoard's `attachment;filename=x` where the name allows it; RFC 6266 `filename*` otherwise."""
    if file_name and set(file_name) <= _TOKEN_SAFE:
        return f"attachment;filename={file_name}", file_name
    encoded = quote(file_name, safe="")
    return f"attachment; filename=\"{encoded}\"; filename*=UTF-8''{encoded}", encoded


def _redirect(url: str) -> Response:
    response = Response(status=302)
    response.headers["Location"] = url
    # The signed URL expires within minutes: no cache may keep the redirect.
    response.headers["Cache-Control"] = "no-store"
    return response


def send(settings: Settings, download: Download, *, authenticated: bool) -> Response:
    """An image's bytes, or 304. Authenticated downloads carry ThingsBoard's attachment headers and are private to
    the caller; public links may be cached anywhere."""
    if not_modified(request.if_none_match, download.etag):
        return Response(status=304, headers=not_modified_headers(settings, download, authenticated=authenticated))
    vary = [AUTHENTICATED_VARY] if authenticated else []
    found = download.content()
    media_type = found.descriptor.media_type
    headers = {
        "ETag": f'"{found.descriptor.etag}"',
        "Cache-Control": cache_control(settings.browser_ttl(found.system), shared=not authenticated),
        **image_headers(media_type),
    }
    if authenticated:
        headers["Content-Disposition"], headers["x-filename"] = _disposition(found.file_name)
    if media_type == SVG:
        vary.append("Accept-Encoding")
    if vary:
        headers["Vary"] = ", ".join(vary)
    if media_type != SVG and 0 < settings.redirect_above_bytes < found.descriptor.size:
        # Bigger than a Lambda response can carry: let storage serve it. (SVG stays here, under our CSP.)
        url = found.link({"Content-Type": media_type, **headers})
        if url:
            return _redirect(url)
    stream = found.open()
    if media_type == SVG and request.accept_encodings["gzip"]:
        with stream:
            body = gzip.compress(stream.read(), compresslevel=6)
        headers["Content-Encoding"] = "gzip"
        return Response(body, headers=headers, content_type=media_type)
    response = Response(
        wrap_file(request.environ, stream), headers=headers, content_type=media_type, direct_passthrough=True
    )
    response.content_length = found.descriptor.size
    return response
