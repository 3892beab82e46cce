"""Checks on what clients send: names, titles, keys, enums, paging. Each failure is a 400 that says what is wrong."""

from __future__ import annotations

import re

from gallery.domain.errors import BadRequest
from gallery.domain.model import SORT_PROPERTIES, PageQuery, Scope, SortOrder, SubType

MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SORT_PROPERTY = re.compile(r"^[\w-]+$")


def file_name(value: str | None) -> str:
    if value is None or not value.strip():
        raise BadRequest("Resource file name should be specified!")
    if "/" in value or "\\" in value or value == "." or _CONTROL.search(value):
        raise BadRequest("File name contains forbidden symbols")
    if len(value) > MAX_NAME:
        raise BadRequest(f"File name is longer than {MAX_NAME} characters")
    return value


def title(value: str | None) -> str:
    if value is None or not value.strip():
        raise BadRequest("Resource title should be specified!")
    if "\x00" in value:
        raise BadRequest("Resource title contains forbidden symbols")
    if len(value) > MAX_NAME:
        raise BadRequest(f"Resource title is longer than {MAX_NAME} characters")
    return value


def resource_key(value: str) -> str:
    """Keys end up in URLs and, for the AWS backend, in item keys: no separators, no dot segments (a URL path
    collapses `.` and `..`, encoded or not), nothing invisible."""
    if not value.strip():
        raise BadRequest("Resource key should be specified!")
    if "/" in value or "\\" in value or ".." in value or value == "." or _CONTROL.search(value):
        raise BadRequest(
            f"Resource key {value!r} contains forbidden symbols ('/', '\\\\', '.', '..' or control characters)"
        )
    if len(value) > MAX_NAME:
        raise BadRequest(f"Resource key is longer than {MAX_NAME} characters")
    return value


def scope(value: str) -> Scope:
    try:
        return Scope(value)
    except ValueError:
        raise BadRequest("Invalid image URL") from None


def sub_type(value: str | None, default: SubType = SubType.IMAGE) -> SubType:
    if value is None or value == "":
        return default
    try:
        return SubType(value)
    except ValueError:
        allowed = ", ".join(s.value for s in SubType)
        raise BadRequest(f"Unsupported image sub type '{value}'; use one of {allowed}") from None


def page_query(
    page_size: int,
    page: int,
    max_page_size: int,
    text_search: str | None = None,
    sort_property: str | None = None,
    sort_order: str | None = None,
    sort_properties: frozenset[str] = SORT_PROPERTIES,
) -> PageQuery:
    if not 1 <= page_size <= max_page_size:
        raise BadRequest(f"pageSize must be between 1 and {max_page_size}")
    if page < 0:
        raise BadRequest("page must not be negative")
    order = SortOrder.ASC
    if sort_order:
        try:
            order = SortOrder(sort_order.upper())
        except ValueError:
            raise BadRequest(
                f"Unsupported sort order '{sort_order}'! Only 'ASC' or 'DESC' types are allowed."
            ) from None
    prop = sort_property or None
    if prop is not None and (not _SORT_PROPERTY.match(prop) or prop not in sort_properties):
        raise BadRequest("Invalid sort property")
    return PageQuery(page_size, page, (text_search or "").strip(), prop, order)
