"""Parsing what a request carries into typed values, or a 400 that says what is wrong: query parameters, JSON bodies
(`gallery.domain.json_text`: depth-bounded, finite numbers, no lone surrogates), the multipart file, and the typed
requests the services take. Fields of a JSON object are read with `gallery.domain.fields`, the one home of those
rules.
"""

from __future__ import annotations

from typing import Any

from flask import request

from gallery.config import parse_bool
from gallery.domain import errors, fields, json_text, validation
from gallery.domain.fields import JsonObject
from gallery.domain.model import FileLimits, PageQuery, Scope
from gallery.services.dashboards import DashboardDraft
from gallery.services.uploads import UploadStart
from gallery.web.common import gallery

# ThingsBoard's parameters are Java ints; beyond them nothing is meaningful (and SQLite's integers overflow).
INT_RANGE = range(-(2**31), 2**31)


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


def list_arg(name: str) -> list[str]:
    """A comma-separated parameter (`tags=a,b`), or repeated (`tags=a&tags=b`); empty items dropped."""
    return [item for raw in request.args.getlist(name) for item in raw.split(",") if item.strip()]


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
    return json_text.parse(request.data)


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
def _configuration(body: JsonObject) -> JsonObject:
    """A tenant profile's settings, where ThingsBoard keeps them: `profileData.configuration`."""
    profile_data = body.get("profileData") or {}
    config = profile_data.get("configuration") if isinstance(profile_data, dict) else None
    return config if isinstance(config, dict) else {}


def file_limits(body: JsonObject) -> FileLimits:
    config = _configuration(body)
    return FileLimits(
        fields.whole_number(config, "maxResourceSize"), fields.whole_number(config, "maxResourcesInBytes")
    )


def public_metadata(body: JsonObject) -> bool | None:
    """Ours, beside ThingsBoard's limits; None when the body does not say (ThingsBoard's clients never do)."""
    config = _configuration(body)
    return None if config.get("publicImageMetadata") is None else fields.flag(config, "publicImageMetadata", False)


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
