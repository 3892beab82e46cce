"""SVG: parsed safely (no entities, no external references), sized from width/height or the viewBox, and never
rasterised — the preview is the document itself, served sandboxed."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from gallery.domain.errors import InvalidImage
from gallery.domain.model import Descriptor
from gallery.imaging.formats import SVG, Inspection

_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*$")


_PER_PX = {None: 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}


def _svg_length(value: str | None) -> float | None:
    if value is None:
        return None
    match = _LENGTH.match(value)
    return float(match.group(1)) * _PER_PX[match.group(2)] if match else None


def _svg_size(root: Element) -> tuple[int, int]:
    width, height = _svg_length(root.get("width")), _svg_length(root.get("height"))
    if width is None or height is None:
        parts = (root.get("viewBox") or "").replace(",", " ").split()
        try:
            box = [float(p) for p in parts]
        except ValueError:
            box = []
        if len(box) == 4:
            width = box[2] if width is None else width
            height = box[3] if height is None else height
    return round(width or 0), round(height or 0)


def inspect_svg(data: bytes, etag: str) -> Inspection:
    try:
        # A plain DOCTYPE is common in editors' output; entity declarations and external references are refused.
        root = fromstring(data)
    except DefusedXmlException:
        raise InvalidImage("SVG contains forbidden XML (entities or DTD)") from None
    except (ParseError, ValueError) as exc:
        raise InvalidImage(f"The SVG is not well-formed XML ({exc})") from None
    if root.tag not in {"svg", "{http://www.w3.org/2000/svg}svg"}:
        raise InvalidImage("The XML document is not an SVG image")
    width, height = _svg_size(root)
    original = Descriptor(SVG, width, height, len(data), etag)
    # We never rasterise SVG (no renderer on the server): the preview is the document itself, served sandboxed.
    return Inspection(original, original, data)
