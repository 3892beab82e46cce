"""Pure image processing: sniff the type from the bytes, check limits before decoding, measure, make a preview.

No Flask and no storage here. Pillow's globals are never changed: the pixel limit is ours and checked from the header,
and every decoder but the sniffed one is ruled out with `formats=`.

The limit bounds the whole decoding work, not only the first frame: formats that composite (GIF, APNG, animated WebP)
redraw their whole canvas for every frame, so they cost canvas pixels × frames; TIFF pages and ICO entries cost their
own pixels, added up. Every frame, page and icon is measured from the headers before anything is decoded.
"""

from __future__ import annotations

from gallery.domain.errors import InvalidImage
from gallery.imaging.formats import SUPPORTED, SVG, SVG_START, DecodeLimits, Inspection, etag_of, raster_format, sniff
from gallery.imaging.raster import alpha_mode, decoding, displayed_size, inspect_raster, open_raster, preview_size
from gallery.imaging.svg import inspect_svg

__all__ = [
    "SVG",
    "DecodeLimits",
    "Inspection",
    "alpha_mode",
    "decoding",
    "displayed_size",
    "etag_of",
    "inspect",
    "open_raster",
    "preview_size",
    "raster_format",
    "sniff",
]


def inspect(data: bytes, limits: DecodeLimits) -> Inspection:
    if not data:
        raise InvalidImage("The file is empty")
    etag = etag_of(data)
    raster = raster_format(data)
    if raster is not None:
        return inspect_raster(data, etag, raster[0], raster[1], limits)
    if SVG_START.match(data[:4096]):
        return inspect_svg(data, etag)
    raise InvalidImage(f"The file is not a supported image; supported formats: {SUPPORTED}")
