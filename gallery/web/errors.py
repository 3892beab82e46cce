"""The one place errors become HTTP: every `GalleryError` and every framework error renders the same JSON body."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from gallery.domain import errors
from gallery.web.observe import REQUEST_ID

log = logging.getLogger(__name__)

_BY_STATUS: dict[int, type[errors.GalleryError]] = {
    400: errors.BadRequest,
    401: errors.AuthenticationFailed,
    403: errors.PermissionDenied,
    404: errors.NotFound,
    405: errors.MethodNotAllowed,
    409: errors.Conflict,
    413: errors.PayloadTooLarge,
}


def render(error: errors.GalleryError) -> Response:
    response = jsonify(error.to_json())
    response.status_code = error.status
    if isinstance(error, errors.TooManyRequests):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def _gallery_error(error: errors.GalleryError) -> Response:
    if error.status >= 500:
        log.error("request %s failed: %s", _request_id(), error.message)
    return render(error)


def _http_error(error: HTTPException) -> Response:
    """Routing and protocol errors raised by Werkzeug: our class for the status, or its own words if we have none."""
    status = error.code or 500
    kind = _BY_STATUS.get(status)
    rendered = render(kind() if kind else errors.GalleryError(error.description))
    rendered.status_code = status
    return rendered


def _unexpected(error: Exception) -> Response:
    # Internals stay in the log, under the id the response carries (X-Request-Id): a user's report finds them.
    log.exception("request %s: unexpected error", _request_id(), exc_info=error)
    return render(errors.GalleryError())


def _request_id() -> str:
    return str(request.environ.get(REQUEST_ID, "-"))


def init_app(app: Flask) -> None:
    app.register_error_handler(errors.GalleryError, _gallery_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
