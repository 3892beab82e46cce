"""Pure image processing: sniff the type from the bytes, check limits before decoding, measure, make a preview.

No Flask and no storage here. Pillow's globals are never changed: the pixel limit is ours and checked from the header,
and every decoder but the sniffed one is ruled out with `formats=`.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from PIL import Image, ImageOps, UnidentifiedImageError

from gallery.errors import InvalidImage
from gallery.model import Descriptor

PREVIEW_MAX = 250
SVG = "image/svg+xml"
PNG = "image/png"

# (magic test, Pillow format, media type), cheapest checks first.
_RASTER: tuple[tuple[bytes, int, str, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "PNG", PNG),
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
_SVG_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*\?>\s*)?(?:<!--.*?-->\s*|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>\s*)*<svg[\s>/]",
    re.S | re.I,
)
_LENGTH = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(px|pt|pc|mm|cm|in)?\s*$")
_PER_PX = {None: 1.0, "px": 1.0, "pt": 96 / 72, "pc": 16.0, "mm": 96 / 25.4, "cm": 96 / 2.54, "in": 96.0}
# Orientations 5–8 turn the picture a quarter, so the displayed width is the stored height.
_TRANSPOSED = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class Limits:
    max_pixels: int
    max_frames: int


@dataclass(frozen=True)
class Inspection:
    original: Descriptor
    preview: Descriptor
    preview_bytes: bytes


def etag_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sniff(data: bytes) -> str | None:
    """The media type the bytes say they are, or None. Names and client-declared types are never consulted."""
    raster = raster_format(data)
    if raster is not None:
        return raster[1]
    return SVG if _SVG_START.match(data[:4096]) else None


def raster_format(data: bytes) -> tuple[str, str] | None:
    for magic, offset, pillow_format, media_type in _RASTER:
        if data[offset : offset + len(magic)] == magic and (pillow_format != "WEBP" or data[:4] == b"RIFF"):
            return pillow_format, media_type
    return None


def inspect(data: bytes, limits: Limits) -> Inspection:
    if not data:
        raise InvalidImage("The file is empty")
    etag = etag_of(data)
    raster = raster_format(data)
    if raster is not None:
        return _inspect_raster(data, etag, raster[0], raster[1], limits)
    if _SVG_START.match(data[:4096]):
        return _inspect_svg(data, etag)
    raise InvalidImage(f"The file is not a supported image; supported formats: {SUPPORTED}")


# --- raster ---------------------------------------------------------------------------------------------------------
@contextmanager
def decoding(pillow_format: str) -> Iterator[None]:
    """Pillow's failures on bad input become one clear 400."""
    try:
        with warnings.catch_warnings():
            # Our own pixel limit replaces Pillow's warning; its hard error above 2x still counts as a bomb.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            yield
    except Image.DecompressionBombError as exc:
        raise InvalidImage(f"Image is too large to decode: {exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as exc:
        raise InvalidImage(f"The {pillow_format} image is corrupt or truncated ({exc})") from None


def open_raster(data: bytes, pillow_format: str, limits: Limits) -> Image.Image:
    image = Image.open(io.BytesIO(data), formats=[pillow_format])
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("Image has no pixels")
    if width * height > limits.max_pixels:
        raise InvalidImage(f"Image is {width}×{height} pixels; the limit is {limits.max_pixels} pixels")
    frames = getattr(image, "n_frames", 1)
    if frames > limits.max_frames:
        raise InvalidImage(f"Image has {frames} frames; the limit is {limits.max_frames}")
    return image


def displayed_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    width, height = image.size
    return (height, width) if orientation in _TRANSPOSED else (width, height)


def preview_size(width: int, height: int) -> tuple[int, int]:
    """ThingsBoard's rule: the long side becomes 250, the other scales and is truncated (never below 1)."""
    if width <= PREVIEW_MAX and height <= PREVIEW_MAX:
        return width, height
    if width > height:
        return PREVIEW_MAX, max(1, int(PREVIEW_MAX / (width / height)))
    return max(1, int(PREVIEW_MAX * (width / height))), PREVIEW_MAX


def alpha_mode(image: Image.Image) -> str:
    has_alpha = image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or "transparency" in image.info
    return "RGBA" if has_alpha else "RGB"


def make_preview(image: Image.Image, displayed: tuple[int, int]) -> bytes:
    """A PNG of at most 250 px a side. JPEG decodes at a reduced scale (draft mode), so full resolution never is."""
    target = preview_size(*displayed)
    # Draft sizes are in stored orientation, so swap back when EXIF turns the picture.
    stored_target = target if displayed == image.size else (target[1], target[0])
    if image.format == "JPEG":
        image.draft("RGB", stored_target)
    image.seek(0)
    image.load()  # decodes everything (at draft scale): truncation and corruption surface here
    frame = ImageOps.exif_transpose(image)
    frame = frame.convert(alpha_mode(frame))
    if frame.size != target:
        frame = frame.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    frame.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _check_all_frames(image: Image.Image) -> None:
    """Animated images: every frame must decode, not just the first one the preview uses."""
    for index in range(1, getattr(image, "n_frames", 1)):
        image.seek(index)
        image.load()
    image.seek(0)


def _inspect_raster(data: bytes, etag: str, pillow_format: str, media_type: str, limits: Limits) -> Inspection:
    with decoding(pillow_format):
        image = open_raster(data, pillow_format, limits)
        displayed = displayed_size(image)
        original = Descriptor(media_type, displayed[0], displayed[1], len(data), etag)
        if media_type == PNG and preview_size(*displayed) == displayed:
            image.load()  # the original is its own preview, but it must still decode
            return Inspection(original, original, data)
        _check_all_frames(image)
        preview = make_preview(image, displayed)
    width, height = preview_size(*displayed)
    return Inspection(original, Descriptor(PNG, width, height, len(preview), etag_of(preview)), preview)


# --- SVG ------------------------------------------------------------------------------------------------------------
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


def _inspect_svg(data: bytes, etag: str) -> Inspection:
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
