"""JSON from outside — a request body, an export file, another server's answer — read as RFC 8259 has it, or a 400.

Python's `json` takes more than JSON: `NaN` and `Infinity`, and numbers such as `1e999` that become infinity. Kept,
they would be written back as JSON no client can read. It also recurses once per level, so a document nested
hundreds deep costs every later walk of it a recursion (and ten thousand deep, a `RecursionError`). Everything we
read from outside goes through `parse`: nesting at most `MAX_DEPTH` levels, every number finite, every string text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from gallery.domain.errors import BadRequest

MAX_DEPTH = 64

# JSON may escape half of a UTF-16 pair (`"\ud800"`): valid JSON, but no text, and nothing can store or encode it.
# The (rare) escape is looked for in the raw bytes before any string is walked.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _NotJson(ValueError):
    pass


def _constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"{text[:40]} is beyond any number")
    return value


def parse(raw: bytes | str, what: str = "The request body") -> Any:
    """The value `raw` holds; `what` names it in the 400 (an export file, the server's answer)."""
    try:
        value = json.loads(raw, parse_constant=_constant, parse_float=_finite)
    except _NotJson as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadRequest(f"{what} is nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError; so are 4,300-digit numbers
        raise BadRequest(f"{what} is not valid JSON ({type(exc).__name__})") from None
    if depth(value) > MAX_DEPTH:  # kept, it would cost every later walk of it (and `json.dumps`) a recursion
        raise BadRequest(f"{what} is nested deeper than {MAX_DEPTH} levels")
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if _SURROGATE_ESCAPE.search(data) and any(_unencodable(text) for text in _strings(value)):
        raise BadRequest(f"{what} holds a \\u escape that is not a character (a lone surrogate)")
    return value


def depth(value: Any) -> int:
    """How deeply lists and objects nest, counted without recursion (the value may be as deep as it is hostile)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _strings(value: Any) -> Iterator[str]:
    """Every string of `value`, keys too; `parse` has bounded its depth first, so the recursion is bounded."""
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
