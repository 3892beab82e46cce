"""SVG: parsed safely (no entities, no external references) and within bounds, sized from width/height or the viewBox,
and never rasterised — the preview is the document itself, served sandboxed.

The parse builds no tree: it follows the elements as they open and close, keeps the root's attributes, and stops at
the first element beyond `MAX_DEPTH` or `MAX_ELEMENTS`. A 42 MB document of nested groups once took the server from
113 MB to 1.8 GB while a tree was built; a document of millions of siblings is the same problem, wide instead of
deep. The limits are the parsers' own: libxml2 refuses nesting deeper than 256 unless told otherwise, and librsvg
a document of more than 200,000 elements when it first bounded them; the bytes (`MAX_SVG_BYTES`) bound the rest
(attributes, text).
"""

from __future__ import annotations

import math
import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from gallery.domain.errors import InvalidImage, display_size
from gallery.domain.model import Descriptor
from gallery.imaging.formats import SVG, Inspection

MAX_SVG_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 256
MAX_ELEMENTS = 200_000
# Sizes are Java ints in ThingsBoard's image descriptor (and 64-bit integers in SQLite): beyond, no size is meant.
MAX_SIDE = 2**31 - 1

_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*$")


_PER_PX = {None: 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


class _Outline:
    """The parser's target: counts and depth as elements open and close, the root's tag and attributes."""

    def __init__(self) -> None:
        self.root: tuple[str, dict[str, str]] | None = None
        self.depth = 0
        self.elements = 0

    def start(self, tag: str, attributes: dict[str, str]) -> None:
        self.depth += 1
        self.elements += 1
        if self.root is None:
            self.root = tag, dict(attributes)
        if self.depth > MAX_DEPTH:
            raise InvalidImage(f"The SVG nests elements deeper than {MAX_DEPTH} levels")
        if self.elements > MAX_ELEMENTS:
            raise InvalidImage(f"The SVG has more than {MAX_ELEMENTS:,} elements")

    def end(self, tag: str) -> None:
        self.depth -= 1


def _svg_length(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    return float(match.group(1)) * _PER_PX[match.group(2)] if match else None


def _side(name: str, value: float | None, text: str | None) -> int:
    """A size as stored: whole pixels, refused when no size is meant (infinite, not a number, negative, huge)."""
    if value is None:
        return 0
    if not math.isfinite(value) or not 0 <= value <= MAX_SIDE:
        raise InvalidImage(f"The SVG's {name} ({(text or '')[:40]!r}) is not a size from 0 to {MAX_SIDE:,} pixels")
    return round(value)


def _svg_size(attributes: dict[str, str]) -> tuple[int, int]:
    width_text, height_text = attributes.get("width"), attributes.get("height")
    width, height = _svg_length(width_text), _svg_length(height_text)
    if width is None or height is None:
        box_text = attributes.get("viewBox") or ""
        try:
            box = [float(part) for part in box_text.replace(",", " ").split()]
        except ValueError:
            box = []
        if len(box) == 4:
            if not all(math.isfinite(part) for part in box):
                raise InvalidImage(f"The SVG's viewBox ({box_text[:60]!r}) holds a number that is not finite")
            if width is None:
                width, width_text = box[2], box_text
            if height is None:
                height, height_text = box[3], box_text
    return _side("width", width, width_text), _side("height", height, height_text)


def inspect_svg(data: bytes, etag: str) -> Inspection:
    if len(data) > MAX_SVG_BYTES:
        raise InvalidImage(f"The SVG is {display_size(len(data))}; an SVG may be at most {display_size(MAX_SVG_BYTES)}")
    outline = _Outline()
    parser = DefusedXMLParser(target=outline)
    try:
        # A plain DOCTYPE is common in editors' output; entity declarations and external references are refused.
        parser.feed(data)
        parser.close()
        root = outline.root
    except DefusedXmlException:
        raise InvalidImage("SVG contains forbidden XML (entities or DTD)") from None
    except (ParseError, ValueError) as exc:
        raise InvalidImage(f"The SVG is not well-formed XML ({exc})") from None
    if root is None or root[0] not in {"svg", "{http://www.w3.org/2000/svg}svg"}:
        raise InvalidImage("The XML document is not an SVG image")
    width, height = _svg_size(root[1])
    original = Descriptor(SVG, width, height, len(data), etag)
    # We never rasterise SVG (no renderer on the server): the preview is the document itself, served sandboxed.
    return Inspection(original, original, data)
