"""What the bytes are: the formats we take, told from their first bytes (never from a name or a declared type), the
content address (SHA-256) of the bytes, and what inspecting them yields."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from gallery.domain import formats
from gallery.domain.model import Descriptor

SVG = formats.SVG.media_type
PNG = formats.PNG.media_type
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# (magic test, its offset, the format), cheapest checks first.
_RASTER: tuple[tuple[bytes, int, formats.ImageFormat], ...] = (
    (PNG_MAGIC, 0, formats.PNG),
    (b"\xff\xd8\xff", 0, formats.JPEG),
    (b"GIF87a", 0, formats.GIF),
    (b"GIF89a", 0, formats.GIF),
    (b"WEBP", 8, formats.WEBP),
    (b"BM", 0, formats.BMP),
    (b"\x00\x00\x01\x00", 0, formats.ICO),
    (b"II*\x00", 0, formats.TIFF),
    (b"MM\x00*", 0, formats.TIFF),
)
SUPPORTED = formats.SUPPORTED

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
    """(Pillow's format, media type) of a raster image's bytes, or None."""
    for magic, offset, found in _RASTER:
        if data[offset : offset + len(magic)] == magic and (found is not formats.WEBP or data[:4] == b"RIFF"):
            assert found.pillow is not None
            return found.pillow, found.media_type
    return None
