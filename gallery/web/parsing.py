"""Parsing what a request carries into typed values, or a 400 that says what is wrong: query parameters, JSON bodies
(depth-bounded, no lone surrogates), the multipart file, and the typed requests the services take. Fields of a JSON
object are read with `gallery.domain.fields`, the one home of those rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import werkzeug.exceptions
from flask import request

from gallery.config import parse_bool
from gallery.domain import errors, fields, validation
from gallery.domain.fields import JsonObject
from gallery.domain.model import FileLimits, PageQuery, Scope
from gallery.services.dashboards import DashboardDraft
from gallery.services.uploads import UploadStart
from gallery.web.common import gallery

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


def json_object(required: bool = True) -> JsonObject:
    if not required and not request.data:
        return {}
    body = json_body()
    if not isinstance(body, dict):
        raise errors.BadRequest("The request body must be a JSON object")
    return body


def file_part() -> tuple[str | None, bytes]:
    """The multipart `file` part: its name as the client gave it, and its bytes."""
    upload = request.files.get("file")
    if upload is None:
        raise errors.BadRequest("Required request part 'file' is not present")
    return upload.filename, upload.read()


# --- typed requests ---------------------------------------------------------------------------------------------
def file_limits(body: JsonObject) -> FileLimits:
    """A tenant profile's limits, where ThingsBoard keeps them: `profileData.configuration`."""
    profile_data = body.get("profileData") or {}
    config = profile_data.get("configuration") if isinstance(profile_data, dict) else None
    config = config if isinstance(config, dict) else {}
    return FileLimits(
        fields.whole_number(config, "maxResourceSize"), fields.whole_number(config, "maxResourcesInBytes")
    )


def dashboard_draft(body: JsonObject) -> DashboardDraft:
    title = body.get("title")
    return DashboardDraft(
        title=title if isinstance(title, str) else None,
        image=fields.optional_text(body, "image"),
        configuration=fields.json_object(body, "configuration"),
        id=fields.entity_id(body, "id"),
    )


def upload_start(body: JsonObject) -> UploadStart:
    name = body.get("fileName")
    return UploadStart(name if isinstance(name, str) else None, body.get("size"))  # which checks the size


def image_targets(body: JsonObject) -> list[tuple[Scope, str]]:
    """A bulk delete's `images`: `[{"type": "tenant", "key": "a.png"}, …]`, every entry checked before any is used."""
    items = body.get("images")
    if not isinstance(items, list):  # how many it may hold is the image service's rule
        raise errors.BadRequest('\'images\' must be a list of {"type", "key"} objects')
    targets = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("type"), str):
            raise errors.BadRequest("Each entry of 'images' must be an object with string 'type' and 'key'")
        targets.append((validation.scope(item["type"]), item["key"]))
    return targets
