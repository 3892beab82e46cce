"""The one answer with no body, given before Flask: an image the client already holds gets its 304 here.

Dashboards revalidate every image they show on every load, so this is the API's most frequent answer; through Flask
(request context, routing, a Response, the after-request hooks) it cost ~60 µs more than a bare Flask route answering
304 (`benchmarks/revalidate.py`). Here a conditional GET of `/api/images/{scope}/{key}[/preview]` or
`/api/images/public/{publicResourceKey}` is checked by the same services the views use (the token and the session,
the role table, the tenant's scope, the ETag cache) and answered with the same headers (`delivery` and `hardening`
declare them; `tests/test_revalidation.py` holds the two answers equal). Anything else — no `If-None-Match`, a tag
that no longer matches, any refusal, a path of another shape, a cross-origin request — goes to Flask untouched, which
answers it as it always did, errors included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

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


class Revalidation:
    def __init__(self, app: WSGIApplication, gallery: Gallery) -> None:
        self.app = app
        self.gallery = gallery
        # Cross-origin answers carry CORS headers that only Flask (flask-cors) adds.
        self.enabled = not gallery.settings.cors_origins

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        headers = self._not_modified(environ) if self.enabled else None
        if headers is None:
            return self.app(environ, start_response)
        start_response(NOT_MODIFIED, headers)
        return []

    def _not_modified(self, environ: WSGIEnvironment) -> list[tuple[str, str]] | None:
        tags = environ.get("HTTP_IF_NONE_MATCH")
        if not tags or environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or "HTTP_ORIGIN" in environ:
            return None
        found = self._download(environ)
        if found is None or not delivery.not_modified(parse_etags(tags), found[0].etag):
            return None
        headers = delivery.not_modified_headers(self.gallery.settings, found[0], authenticated=found[1])
        return [*headers.items(), *DEFAULT_HEADERS.items()]

    def _download(self, environ: WSGIEnvironment) -> tuple[Download, bool] | None:
        """The download the path names and whether it is an authenticated one; None for any other path or any
        refusal (Flask then gives the refusal its usual answer)."""
        try:
            # PEP 3333 hands the decoded path over as latin-1; werkzeug's routing reads it as UTF-8, as here.
            parts = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8").split("/")
        except UnicodeError:
            return None
        if len(parts) not in (5, 6) or parts[:3] != ["", "api", "images"] or "" in parts[3:]:
            return None
        preview = len(parts) == 6
        if preview and parts[5] != "preview":
            return None
        try:
            if parts[3] == "public":
                if preview:
                    return None
                environ[ROUTE] = "/api/images/public/<public_key>"
                return self.gallery.downloads.public(parts[4]), False
            token = bearer_token(lambda name: _header(environ, name))
            if token is None:
                return None
            principal = self.gallery.sessions.principal(token)
            environ[ROUTE] = "/api/images/<scope>/<key>" + ("/preview" if preview else "")
            environ[TENANT] = principal.tenant_id
            scope = validation.scope(parts[3])
            # The download service checks the role table itself (VIEW_IMAGES), as it does for the view.
            return self.gallery.downloads.image(principal, scope, parts[4], preview), True
        except errors.GalleryError:
            return None


def _header(environ: dict[str, Any], name: str) -> str:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"), "")
    return value if isinstance(value, str) else ""
