"""What every view needs: the services, and the caller — authenticated, and admitted by the role table
(`gallery.domain.access`) before the view runs. Parsing is `gallery.web.parsing`'s."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

from flask import current_app, g, request

from gallery.domain import errors
from gallery.domain.access import Action, Principal
from gallery.web.observe import TENANT
from gallery.wiring import Gallery

P = ParamSpec("P")
R = TypeVar("R")


def gallery() -> Gallery:
    return cast(Gallery, current_app.extensions["gallery"])


def bearer_token(header: Callable[[str], str] | None = None) -> str | None:
    """`X-Authorization: Bearer t`, or `Authorization: Bearer t` when X-Authorization is blank (ThingsBoard's rule).
    `header`: how to read a request header by name (default: Flask's request; the revalidation path reads the WSGI
    environment)."""
    read = header or (lambda name: request.headers.get(name, ""))
    for name in ("X-Authorization", "Authorization"):
        value = read(name).strip()
        if value:
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            raise errors.AuthenticationFailed()
    return None


def requires(action: Action) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the request and admit only the authorities the role table gives `action` (ThingsBoard's
    `@PreAuthorize`)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = bearer_token()
            if token is None:
                raise errors.AuthenticationFailed()
            caller = gallery().sessions.principal(token)
            caller.require(action)
            g.principal = caller
            request.environ[TENANT] = caller.tenant_id
            return view(*args, **kwargs)

        return wrapper

    return decorate


def caller() -> Principal:
    return cast(Principal, g.principal)
