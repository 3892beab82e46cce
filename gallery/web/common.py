"""What every view needs: the services, the caller, and parsing of parameters into typed values or 400s."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any, ParamSpec, TypeVar, cast

import werkzeug.exceptions
from flask import current_app, g, request

from gallery.config import parse_bool
from gallery.domain import errors, validation
from gallery.domain.model import Authority, PageQuery
from gallery.services.auth import Principal
from gallery.wiring import Gallery

P = ParamSpec("P")
R = TypeVar("R")

ADMINS = (Authority.SYS_ADMIN, Authority.TENANT_ADMIN)
ANYONE = (Authority.SYS_ADMIN, Authority.TENANT_ADMIN, Authority.CUSTOMER_USER)


def gallery() -> Gallery:
    return cast(Gallery, current_app.extensions["gallery"])


def bearer_token() -> str | None:
    """`X-Authorization: Bearer t`, or `Authorization: Bearer t` when X-Authorization is blank (ThingsBoard's rule)."""
    for header in ("X-Authorization", "Authorization"):
        value = request.headers.get(header, "").strip()
        if value:
            scheme, _, token = value.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            raise errors.AuthenticationFailed()
    return None


def roles(*allowed: Authority) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Authenticate the request and admit only the given authorities (ThingsBoard's `@PreAuthorize`)."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            token = bearer_token()
            if token is None:
                raise errors.AuthenticationFailed()
            caller = gallery().accounts.principal(token)
            if caller.authority not in allowed:
                raise errors.PermissionDenied()
            g.principal = caller
            return view(*args, **kwargs)

        return wrapper

    return decorate


def caller() -> Principal:
    return cast(Principal, g.principal)


# ThingsBoard's parameters are Java ints; beyond them nothing is meaningful (and SQLite's integers overflow).
INT_RANGE = range(-(2**31), 2**31)
MAX_JSON_DEPTH = 64


def int_arg(name: str) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        raise errors.BadRequest(f"Required request parameter '{name}' is not present")
    try:
        value = int(raw)
    except ValueError:
        raise errors.BadRequest(f"Parameter '{name}' must be a whole number, got '{raw[:40]}'") from None
    if value not in INT_RANGE:
        raise errors.BadRequest(f"Parameter '{name}' must be between {INT_RANGE.start} and {INT_RANGE.stop - 1}")
    return value


def bool_value(name: str, raw: str | None, default: bool = False) -> bool:
    if raw is None or raw == "":
        return default
    try:
        return parse_bool(raw)
    except ValueError:
        raise errors.BadRequest(f"Parameter '{name}' must be true or false, got '{raw}'") from None


def bool_arg(name: str, default: bool = False) -> bool:
    return bool_value(name, request.args.get(name), default)


def page_arg(sort_properties: frozenset[str] | None = None) -> PageQuery:
    extra = {} if sort_properties is None else {"sort_properties": sort_properties}
    return validation.page_query(
        int_arg("pageSize"),
        int_arg("page"),
        gallery().settings.max_page_size,
        request.args.get("textSearch"),
        request.args.get("sortProperty"),
        request.args.get("sortOrder"),
        **extra,
    )


def json_body() -> Any:
    if not request.data:
        raise errors.BadRequest("A JSON request body is required")
    try:
        body = request.get_json(force=True)
    except werkzeug.exceptions.BadRequest:
        raise errors.BadRequest("The request body is not valid JSON") from None
    except RecursionError:
        raise errors.BadRequest(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels") from None
    if _depth(body) > MAX_JSON_DEPTH:  # kept, it would cost every later walk of it (and `json.dumps`) a recursion
        raise errors.BadRequest(f"The request body is nested deeper than {MAX_JSON_DEPTH} levels")
    # JSON may escape half of a UTF-16 pair (`"\ud800"`): valid JSON, but no text, and nothing can store or encode
    # it. The (rare) escape is looked for in the raw bytes before any string is walked.
    if _SURROGATE_ESCAPE.search(request.data) and any(_unencodable(text) for text in _strings(body)):
        raise errors.BadRequest("The request body holds a \\u escape that is not a character (a lone surrogate)")
    return body


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _depth(value: Any) -> int:
    """How deeply lists and objects nest, counted without recursion (the value may be as deep as it is hostile)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _unencodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def json_object(required: bool = True) -> dict[str, Any]:
    if not required and not request.data:
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object")
    return body
