"""Raster images: opened only once their headers are within the limits, every frame decoded once to prove it
decodes, measured as displayed (EXIF orientation), and previewed at ThingsBoard's 250 px."""

from __future__ import annotations

import io
import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import islice

from PIL import Image, ImageOps, UnidentifiedImageError
from PIL.MpoImagePlugin import MpoImageFile

from gallery.domain.errors import InvalidImage
from gallery.domain.model import Descriptor
from gallery.imaging.formats import PNG, DecodeLimits, Inspection, etag_of
from gallery.imaging.headers import HEADER_READERS, Layout, Rect
from gallery.imaging.jpeg import JpegWalk

PREVIEW_MAX = 250


# Orientations 5–8 turn the picture a quarter, so the displayed width is the stored height.
_TRANSPOSED = frozenset({5, 6, 7, 8})


# What bad bytes make Pillow raise; struct.error is a header cut short, for its readers and for ours below.
_BAD_BYTES = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error)


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
    except _BAD_BYTES as exc:
        raise InvalidImage(f"The {pillow_format} image is corrupt or truncated ({_plain(exc)})") from None


_INTERNALS = re.compile(r"\s*<[^<>]* at 0x[0-9a-fA-F]+>|\s*'?/[^\s']+\.py'?")


def _plain(exc: BaseException) -> str:
    """What went wrong in words for the client: Pillow's messages, less the object reprs and source paths of ours."""
    return _INTERNALS.sub("", str(exc)).strip() or type(exc).__name__


def open_raster(data: bytes, pillow_format: str, limits: DecodeLimits) -> Image.Image:
    """The image, opened once nothing in its headers is over the limits; not a pixel decoded yet."""
    if pillow_format == "JPEG":
        # Before Pillow reads a segment: it reads them, and the bytes between them, in Python.
        walk = JpegWalk(data, limits.max_pixels)
        first = walk.picture(0)
    else:
        # Before Pillow sees the file: opening an ICO decodes it, and opening a WebP allocates its canvas.
        _check_layout(HEADER_READERS[pillow_format](data, limits), pillow_format, limits)
    image = Image.open(io.BytesIO(data), formats=[pillow_format])
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("Image has no pixels")
    if width * height > limits.max_pixels:
        raise InvalidImage(_too_many_pixels(width, height, limits))
    if pillow_format == "JPEG":
        frames = [(0, 0, width, height)]
        if isinstance(image, MpoImageFile) and image.mpinfo:  # further pictures, walked before Pillow seeks them
            offsets = [int(entry["DataOffset"]) for entry in image.mpinfo[0xB002][1:]]
            frames += walk.more_pictures(first, offsets, limits.max_frames)
        _check_layout(Layout("frame", iter(frames), None), image.format or pillow_format, limits)
    return image


def _too_many_pixels(width: int, height: int, limits: DecodeLimits) -> str:
    return f"Image is {width}×{height} pixels; the limit is {limits.max_pixels} pixels"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_layout(layout: Layout, pillow_format: str, limits: DecodeLimits) -> None:
    """Refuses an image whose headers already show too many frames, a frame too large, or too much work in all."""
    if layout.canvas is not None and layout.canvas[0] * layout.canvas[1] > limits.max_pixels:
        raise InvalidImage(_too_many_pixels(*layout.canvas, limits))
    frames = list(islice(layout.frames, limits.max_frames + 1))
    if len(frames) > limits.max_frames:
        raise InvalidImage(
            f"Image has more than {_plural(limits.max_frames, layout.noun)}; the limit is {limits.max_frames}"
        )
    for number, (_, _, width, height) in enumerate(frames, 1):
        if width * height > limits.max_pixels:
            raise InvalidImage(
                f"{layout.noun.capitalize()} {number} of the {pillow_format} is {width}×{height} pixels; "
                f"the limit is {limits.max_pixels:,} pixels"
            )
    if layout.canvas is None:
        _check_sum(frames, layout.noun, pillow_format, limits)
    else:
        _check_composited(frames, layout.canvas, limits)


def _check_sum(frames: list[Rect], noun: str, pillow_format: str, limits: DecodeLimits) -> None:
    total = sum(width * height for _, _, width, height in frames)
    if total > limits.max_pixels:
        raise InvalidImage(
            f"The {pillow_format}'s {_plural(len(frames), noun)} add up to {total:,} pixels to decode; "
            f"the limit is {limits.max_pixels:,} pixels"
        )


def _check_composited(frames: list[Rect], canvas: tuple[int, int], limits: DecodeLimits) -> None:
    # Pillow grows a GIF's canvas to hold any frame drawn outside it, so the work is measured on the union.
    width = max([canvas[0], *(left + w for left, _, w, _ in frames)])
    height = max([canvas[1], *(top + h for _, top, _, h in frames)])
    total = width * height * len(frames)
    if total > limits.max_pixels:
        raise InvalidImage(
            f"Image is {width}×{height} pixels over {_plural(len(frames), 'frame')} ({total:,} pixels to decode); "
            f"the limit is {limits.max_pixels:,} pixels"
        )


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


def _check_all_frames(image: Image.Image, limits: DecodeLimits) -> None:
    """Animated images: every frame must decode, not just the first one the preview uses. `open_raster` bounded the
    work from the headers; each frame is measured again as Pillow sees it before it is decoded, so a file that Pillow
    reads differently from our header readers still cannot make it decode more."""
    frames = getattr(image, "n_frames", 1)
    if frames > limits.max_frames:
        raise InvalidImage(f"Image has {frames} frames; the limit is {limits.max_frames}")
    decoded = image.width * image.height
    for index in range(1, frames):
        image.seek(index)
        decoded += image.width * image.height
        if decoded > limits.max_pixels:
            raise InvalidImage(
                f"Frames 1 to {index + 1} alone are {decoded:,} pixels to decode; "
                f"the limit is {limits.max_pixels:,} pixels"
            )
        image.load()
    image.seek(0)


def inspect_raster(data: bytes, etag: str, pillow_format: str, media_type: str, limits: DecodeLimits) -> Inspection:
    with decoding(pillow_format):
        image = open_raster(data, pillow_format, limits)
        displayed = displayed_size(image)
        has_alpha = alpha_mode(image) == "RGBA"
        original = Descriptor(media_type, displayed[0], displayed[1], len(data), etag)
        if media_type == PNG and preview_size(*displayed) == displayed:
            image.load()  # the original is its own preview, but it must still decode
            return Inspection(original, original, data, has_alpha)
        _check_all_frames(image, limits)
        preview = make_preview(image, displayed)
    width, height = preview_size(*displayed)
    return Inspection(original, Descriptor(PNG, width, height, len(preview), etag_of(preview)), preview, has_alpha)
