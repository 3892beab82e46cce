"""Checks on what clients send: names, titles, keys, enums, paging. Each failure is a 400 that says what is wrong."""

from __future__ import annotations

import re

from gallery.domain.errors import BadRequest
from gallery.domain.model import SORT_PROPERTIES, PageQuery, Scope, SortOrder, SubType

MAX_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_ALT_TEXT = 500
MAX_DESCRIPTION = 4000
MAX_TAGS = 20
MAX_TAG = 40
# A tag is a word people type and a folder of the static site (`tags/<tag>/`): letters and digits of any script
# with `-`, `_` and `.` between them, so it is never `.` or `..`, never holds a `/` and needs no quoting in a list.
_TAG = re.compile(r"[^\W_](?:[\w.-]*[^\W_])?")
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


def alt_text(value: str) -> str:
    """What a screen reader says for the picture: one line, at most MAX_ALT_TEXT characters."""
    if _CONTROL.search(value):
        raise BadRequest("Alt text must be one line without control characters")
    if len(value) > MAX_ALT_TEXT:
        raise BadRequest(f"Alt text is longer than {MAX_ALT_TEXT} characters")
    return value.strip()


def description(value: str) -> str:
    if _CONTROL_BUT_LINES.search(value):
        raise BadRequest("Description contains control characters")
    if len(value) > MAX_DESCRIPTION:
        raise BadRequest(f"Description is longer than {MAX_DESCRIPTION} characters")
    return value.strip()


# A tag is a folder of the static site beside `tags/index.html`, the page of every tag.
_RESERVED_TAGS = frozenset({"index.html"})


def tag(value: str) -> str:
    """A tag as it is kept: lowercase, runs of spaces made one `-` ("Solar Panel" is `solar-panel`)."""
    folded = "-".join(value.split()).lower()
    if folded in _RESERVED_TAGS:
        raise BadRequest(f"Tag {folded!r} is reserved: the static site's page of every tag has that name")
    if len(folded) > MAX_TAG:
        raise BadRequest(f"Tag '{folded[:MAX_TAG]}…' is longer than {MAX_TAG} characters")
    if not _TAG.fullmatch(folded):
        raise BadRequest(
            f"Tag {folded[:MAX_TAG]!r} must be letters and digits, with '-', '_' or '.' between them"
            if folded
            else "A tag must not be empty"
        )
    return folded


def tags(values: list[str]) -> tuple[str, ...]:
    """An image's tags: each checked and folded, repeats dropped (the first kept in place), at most MAX_TAGS."""
    kept = tuple(dict.fromkeys(tag(value) for value in values))
    if len(kept) > MAX_TAGS:
        raise BadRequest(f"An image carries at most {MAX_TAGS} tags")
    return kept


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
