"""Reading one field of a JSON object a client or a file sent: the type checked, a 400 that names the field.

Every JSON shape we take (request bodies, ThingsBoard export files) is read through these, so a field of the wrong
type is refused the same way wherever it arrives.
"""

from __future__ import annotations

from typing import Any

from gallery.domain.errors import BadRequest

JsonObject = dict[str, Any]


def optional_text(body: JsonObject, name: str) -> str | None:
    """The string, or None when the field is absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be a string")
    return value


def text(body: JsonObject, name: str, default: str = "") -> str:
    found = optional_text(body, name)
    return default if found is None else found


def optional_texts(body: JsonObject, name: str) -> list[str] | None:
    """A list of strings, or None when the field is absent or null."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise BadRequest(f"'{name}' must be a list of strings")
    return value


def required_text(body: JsonObject, name: str) -> str:
    found = optional_text(body, name)
    if not found:
        raise BadRequest(f"'{name}' is required")
    return found


def flag(body: JsonObject, name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BadRequest(f"'{name}' must be true or false")
    return value


def whole_number(body: JsonObject, name: str, default: int = 0) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):  # JSON's true is Python's 1: not a number here
        raise BadRequest(f"'{name}' must be a whole number")
    return value


def entity_id(body: JsonObject, name: str) -> str | None:
    """ThingsBoard ids travel as `{"entityType": …, "id": "…"}`; a bare string is accepted too. Absent, null or an
    object whose id is null: None (ThingsBoard's clients send `"id": {"id": null}` for something new)."""
    value = body.get(name)
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"'{name}' must be an id")
    return value


def json_object(body: JsonObject, name: str) -> JsonObject:
    """A nested object; absent or null reads as empty."""
    value = body.get(name) or {}
    if not isinstance(value, dict):
        raise BadRequest(f"'{name}' must be a JSON object")
    return value
