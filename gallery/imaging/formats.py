"""What the bytes are: the formats we take, told from their first bytes (never from a name or a declared type), the
content address (SHA-256) of the bytes, and what inspecting them yields."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from gallery.domain.model import Descriptor

SVG = "image/svg+xml"


PNG = "image/png"


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# (magic test, Pillow format, media type), cheapest checks first.
_RASTER: tuple[tuple[bytes, int, str, str], ...] = (
    (PNG_MAGIC, 0, "PNG", PNG),
    (b"\xff\xd8\xff", 0, "JPEG", "image/jpeg"),
    (b"GIF87a", 0, "GIF", "image/gif"),
    (b"GIF89a", 0, "GIF", "image/gif"),
    (b"WEBP", 8, "WEBP", "image/webp"),
    (b"BM", 0, "BMP", "image/bmp"),
    (b"\x00\x00\x01\x00", 0, "ICO", "image/x-icon"),
    (b"II*\x00", 0, "TIFF", "image/tiff"),
    (b"MM\x00*", 0, "TIFF", "image/tiff"),
)


SUPPORTED = "PNG, JPEG, GIF, WebP, BMP, ICO, TIFF and SVG"


SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*<svg[\s>/]",
    re.S | re.I,
)


@dataclass(frozen=True)
class DecodeLimits:
    max_pixels: int
    max_frames: int


@dataclass(frozen=True)
class Inspection:
    original: Descriptor
    preview: Descriptor
    preview_bytes: bytes
    # Whether the picture may be see-through (an alpha channel or a transparent colour): its web renditions then
    # fall back to PNG rather than JPEG. Known here, where the image is open anyway, so no build decodes it again.
    has_alpha: bool = False


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The media type the bytes say they are, or None. Names and client-declared types are never consulted."""
    raster = raster_format(data)
    if raster is not None:
        return raster[1]
    return SVG if SVG_START.match(data[:4096]) else None


def raster_format(data: bytes) -> tuple[str, str] | None:
    for magic, offset, pillow_format, media_type in _RASTER:
        if data[offset : offset + len(magic)] == magic and (pillow_format != "WEBP" or data[:4] == b"RIFF"):
            return pillow_format, media_type
    return None
