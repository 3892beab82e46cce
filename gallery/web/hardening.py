"""Headers every answer carries unless its view set its own: nothing is sniffed into another type, API answers are
data that may load nothing and never be framed, and JSON (tokens, lists, exports) is never stored by any cache."""

from __future__ import annotations

from flask import Flask, Response

from gallery.domain.serving import API_CSP, NOSNIFF

# Every answer's, unless its view set its own.
DEFAULT_HEADERS = {"X-Content-Type-Options": NOSNIFF, "Content-Security-Policy": API_CSP}


def _harden(response: Response) -> Response:
    headers = response.headers
    for name, value in DEFAULT_HEADERS.items():
        headers.setdefault(name, value)
    if response.mimetype == "application/json":
        headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.after_request(_harden)
