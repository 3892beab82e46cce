"""The one answer with no body, given before Flask: an image the client already holds gets its 304 here.

Dashboards revalidate every image they show on every load, so this is the API's most frequent answer; through Flask
(request context, routing, a Response, the after-request hooks) it cost ~60 µs more than a bare Flask route answering
304 (`benchmarks/revalidate.py`). Here a conditional GET of `/api/images/{scope}/{key}[/preview]` or
`/api/images/public/{publicResourceKey}` is checked by the same services the views use (the token and the session,
the role table, the tenant's scope, the ETag cache) and answered with the same headers (`delivery` and `hardening`
declare them, and a cross-origin request gets flask-cors's own, from the options the app gave it;
`tests/test_revalidation.py` holds the two answers equal). The path is matched by the app's own routes (its
Werkzeug `Map`, which needs no request), so one route table serves both. Anything else — no `If-None-Match`, a tag
that no longer matches, any refusal, another route — goes to Flask untouched, which answers it as it always did,
errors included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from flask import Flask
from flask_cors.core import get_cors_headers, get_cors_options
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_etags

from gallery.domain import errors, validation
from gallery.services.downloads import Download
from gallery.web import delivery
from gallery.web.common import bearer_token
from gallery.web.hardening import DEFAULT_HEADERS
from gallery.web.observe import ROUTE, TENANT
from gallery.wiring import Gallery

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

NOT_MODIFIED = "304 NOT MODIFIED"  # werkzeug's status line, so both paths read alike


# The views whose answer this is (`endpoint` → preview), and the route each is named by in the log.
ENDPOINTS = {"images.download": False, "images.download_preview": True, "public.download_public": False}


class Revalidation:
    def __init__(
        self, app: WSGIApplication, gallery: Gallery, flask: Flask, cors: Mapping[str, Any] | None = None
    ) -> None:
        """`flask`: the app whose routes name the paths; `cors`: the options flask-cors was given, if any."""
        self.app = app
        self.gallery = gallery
        self.routes = flask.url_map
        self.cors = get_cors_options(flask, cors) if cors else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = self._not_modified(environ)
        if headers is None:
            return self.app(environ, start_response)
        start_response(NOT_MODIFIED, headers)
        return []

    def _not_modified(self, environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
        tags = environ.get("HTTP_IF_NONE_MATCH")
        method = environ.get("REQUEST_METHOD", "")
        if not tags or method not in ("GET", "HEAD") or ("HTTP_ORIGIN" in environ and self.cors is None):
            return None
        found = self._download(environ)
        if found is None or not delivery.not_modified(parse_etags(tags), found[0].etag):
            return None
        headers = delivery.not_modified_headers(self.gallery.settings, found[0], authenticated=found[1])
        answer = [*headers.items(), *DEFAULT_HEADERS.items()]
        if self.cors is not None:  # as flask-cors adds them after the view: appended, Vary too
            answer += [(k, str(v)) for k, v in get_cors_headers(self.cors, EnvironHeaders(environ), method).items()]
        return answer

    def _download(self, environ: WSGIEnvironment) -> tuple[Download, bool] | None:
        """The download the path names and whether it is an authenticated one; None for any other path or any
        refusal (Flask then gives the refusal its usual answer)."""
        try:
            rule, args = self.routes.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:  # no route, another method, a redirect: Flask's to answer
            return None
        preview = ENDPOINTS.get(rule.endpoint)
        if preview is None:
            return None
        environ[ROUTE] = rule.rule
        try:
            if "public_key" in args:
                return self.gallery.downloads.public(args["public_key"]), False
            token = bearer_token(lambda name: _header(environ, name))
            if token is None:
                return None
            principal = self.gallery.sessions.principal(token)
            environ[TENANT] = principal.tenant_id
            scope = validation.scope(args["scope"])
            # The download service checks the role table itself (VIEW_IMAGES), as it does for the view.
            return self.gallery.downloads.image(principal, scope, args["key"], preview), True
        except errors.GalleryError:
            return None


def _header(environ: dict[str, Any], name: str) -> str:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return value if isinstance(value, str) else ""
