"""Pure image processing: sniff the type from the bytes, check limits before decoding, measure, make a preview.

No Flask and no storage here. Pillow's globals are never changed: the pixel limit is ours and checked from the header,
and every decoder but the sniffed one is ruled out with `formats=`.

The limit bounds the whole decoding work, not only the first frame: formats that composite (GIF, APNG, animated WebP)
redraw their whole canvas for every frame, so they cost canvas pixels × frames; TIFF pages and ICO entries cost their
own pixels, added up. Every frame, page and icon is measured from the headers before anything is decoded.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from itertools import islice, repeat
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from PIL import Image, ImageOps, UnidentifiedImageError

from gallery.domain.errors import InvalidImage
from gallery.domain.model import Descriptor

PREVIEW_MAX = 250
SVG = "image/svg+xml"
PNG = "image/png"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

# (magic test, Pillow format, media type), cheapest checks first.
_RASTER: tuple[tuple[bytes, int, str, str], ...] = (
    (_PNG_MAGIC, 0, "PNG", PNG),
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


Rect = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True)
class Layout:
    """What decoding an image will cost, as its headers tell it before anything is decoded."""

    noun: str  # what messages call one of `frames`: frame, page or icon
    frames: Iterator[Rect]  # lazy, so a file of a million frames is refused after reading the first thousand
    canvas: tuple[int, int] | None  # formats that composite redraw this whole area for every frame; None: they don't


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


def open_raster(data: bytes, pillow_format: str, limits: Limits) -> Image.Image:
    """The image, opened once nothing in its headers is over the limits; not a pixel decoded yet."""
    read_headers = _HEADER_READERS.get(pillow_format)
    if read_headers is not None:
        # Before Pillow sees the file: opening an ICO decodes it, and opening a WebP allocates its canvas.
        _check_layout(read_headers(data), pillow_format, limits)
    image = Image.open(io.BytesIO(data), formats=[pillow_format])
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("Image has no pixels")
    if width * height > limits.max_pixels:
        raise InvalidImage(_too_many_pixels(width, height, limits))
    if read_headers is None:
        _check_layout(_seeking_layout(image, limits.max_frames), image.format or pillow_format, limits)
    return image


def _too_many_pixels(width: int, height: int, limits: Limits) -> str:
    return f"Image is {width}×{height} pixels; the limit is {limits.max_pixels} pixels"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_layout(layout: Layout, pillow_format: str, limits: Limits) -> None:
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


def _check_sum(frames: list[Rect], noun: str, pillow_format: str, limits: Limits) -> None:
    total = sum(width * height for _, _, width, height in frames)
    if total > limits.max_pixels:
        raise InvalidImage(
            f"The {pillow_format}'s {_plural(len(frames), noun)} add up to {total:,} pixels to decode; "
            f"the limit is {limits.max_pixels:,} pixels"
        )


def _check_composited(frames: list[Rect], canvas: tuple[int, int], limits: Limits) -> None:
    # Pillow grows a GIF's canvas to hold any frame drawn outside it, so the work is measured on the union.
    width = max([canvas[0], *(left + w for left, _, w, _ in frames)])
    height = max([canvas[1], *(top + h for _, top, _, h in frames)])
    total = width * height * len(frames)
    if total > limits.max_pixels:
        raise InvalidImage(
            f"Image is {width}×{height} pixels over {_plural(len(frames), 'frame')} ({total:,} pixels to decode); "
            f"the limit is {limits.max_pixels:,} pixels"
        )


def _seeking_layout(image: Image.Image, most: int) -> Layout:
    """TIFF pages and MPO pictures (JPEG) are separate images whose headers Pillow reads on seek, decoding nothing."""
    sizes: list[Rect] = []
    with suppress(EOFError):
        for index in range(most + 1):
            image.seek(index)
            sizes.append((0, 0, image.width, image.height))
    image.seek(0)
    return Layout("page" if image.format == "TIFF" else "frame", iter(sizes), None)


# GIF, PNG, WebP and ICO are read here rather than by Pillow, whose seeking composites the canvas (GIF, APNG) or
# decodes every frame before it (WebP), and whose opening decodes (ICO). Each reader finds at least the frames
# Pillow would find: where Pillow tolerates a quirk, so does the reader.
_GIF_BLOCK = re.compile(rb"[!,;]")


def _gif_layout(data: bytes) -> Layout:
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    return Layout("frame", _gif_frames(data, 13 + _gif_palette_size(flags), _GifSteps(len(data))), (width, height))


class _GifSteps:
    """How many blocks and sub-blocks the header walk may visit. Image data comes in sub-blocks of up to 255 bytes,
    so a GIF of any real size needs far fewer than one per 64 bytes; a file of millions of 1-byte sub-blocks (cheap
    to send, a second or more to walk in Python) is refused rather than walked."""

    def __init__(self, size: int) -> None:
        self.left = size // 64 + 10_000

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise InvalidImage("The GIF is made of far more blocks than its size needs; it is not read")


def _gif_palette_size(flags: int) -> int:
    return 3 << (flags & 7) + 1 if flags & 0x80 else 0


def _gif_frames(data: bytes, pos: int, steps: _GifSteps) -> Iterator[Rect]:
    first = True
    # Pillow skips any byte that starts no block rather than stopping, so a frame can follow stray bytes.
    while (block := _GIF_BLOCK.search(data, pos)) is not None and block[0] != b";":
        steps.take()
        pos = block.end()
        if block[0] == b"!":
            pos = _skip_gif_extension(data, pos, first, steps)
            continue
        left, top, width, height, flags = struct.unpack_from("<4HB", data, pos)
        yield left, top, width, height
        first = False
        pos = _skip_gif_sub_blocks(data, pos + 9 + _gif_palette_size(flags) + 1, steps)  # + 1: the LZW code size


def _skip_gif_extension(data: bytes, pos: int, first_frame: bool, steps: _GifSteps) -> int:
    """Mirrors `GifImageFile._seek`, quirks included: after an extension's first sub-block it skips a further run of
    sub-blocks even when that first one was the terminator. Reading the extension any other way would let the bytes
    Pillow skips hide frames from us, or hide from us the frames Pillow finds."""
    label = data[pos]
    block, pos = _gif_sub_block(data, pos + 1)
    if label == 0xFE:  # a comment reads up to its terminator and no further
        while block:
            steps.take()
            block, pos = _gif_sub_block(data, pos)
        return pos
    if label == 0xFF and first_frame and block is not None and block.startswith(b"NETSCAPE2.0"):
        _, pos = _gif_sub_block(data, pos)
    return _skip_gif_sub_blocks(data, pos, steps)


def _gif_sub_block(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """One sub-block as `GifImageFile.data` reads it: None for the terminator or the end of the file."""
    if pos >= len(data) or not data[pos]:
        return None, pos + 1
    end = pos + 1 + data[pos]
    return data[pos + 1 : end], end


def _skip_gif_sub_blocks(data: bytes, pos: int, steps: _GifSteps) -> int:
    block, pos = _gif_sub_block(data, pos)
    while block:
        steps.take()
        block, pos = _gif_sub_block(data, pos)
    return pos


def _png_layout(data: bytes) -> Layout:
    canvas, frames = _png_header(data, len(_PNG_MAGIC))
    # Every APNG frame lies inside the canvas (Pillow refuses an fcTL that leaves it), so its canvas is its cost.
    return Layout("frame", repeat((0, 0, *canvas), frames), canvas)


def _png_header(data: bytes, pos: int) -> tuple[tuple[int, int], int]:
    """The canvas and the number of frames, read from the chunks as `PngImageFile._open` reads them: up to the first
    image data, the last IHDR winning, a second acTL cancelling the animation, the IDAT image a frame of its own
    unless an fcTL precedes it."""
    canvas, animation, idat_is_frame = (0, 0), None, False
    while pos + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind in {b"IDAT", b"fdAT", b"IEND"}:
            break
        if kind == b"IHDR" and length >= 13:
            canvas = struct.unpack_from(">II", data, pos + 8)
        elif kind == b"acTL" and length >= 8:
            (count,) = struct.unpack_from(">I", data, pos + 8)
            if animation is not None:
                animation = None
            elif 0 < count <= 0x80000000:
                animation = count
        elif kind == b"fcTL":
            idat_is_frame = True
        pos += 12 + length
    if animation is None:
        return canvas, 1
    return canvas, animation + (0 if idat_is_frame else 1)


def _webp_layout(data: bytes) -> Layout:
    canvas = _webp_canvas(data)
    return Layout("frame", _webp_frames(data, canvas), canvas)


def _webp_canvas(data: bytes) -> tuple[int, int]:
    """From the first chunk, as Pillow's `_get_size` reads it: VP8X's canvas, or the size in the bitstream."""
    kind = data[12:16]
    if kind == b"VP8X":
        return _u24(data, 24) + 1, _u24(data, 27) + 1
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack_from("<HH", data, 26)
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and data[20:21] == b"\x2f":
        (bits,) = struct.unpack_from("<I", data, 21)
        return (bits & 0x3FFF) + 1, (bits >> 14 & 0x3FFF) + 1
    return 0, 0


def _webp_frames(data: bytes, canvas: tuple[int, int]) -> Iterator[Rect]:
    animated = False
    pos = 12
    while pos + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, pos)
        if kind != b"ANMF":
            pos += 8 + size + size % 2
            continue
        animated = True
        at = pos + 8
        yield 2 * _u24(data, at), 2 * _u24(data, at + 3), _u24(data, at + 6) + 1, _u24(data, at + 9) + 1
        pos = _after_webp_frame(data, at + 16)
    if not animated:
        yield 0, 0, *canvas


def _after_webp_frame(data: bytes, pos: int) -> int:
    """Where libwebp's demuxer reads on after a frame: past the frame's own ALPH and image chunks, not where the ANMF
    size says, so an ANMF declaring more than it holds cannot hide the frames after it from us."""
    seen: set[bytes] = set()
    while pos + 8 <= len(data):
        kind, size = struct.unpack_from("<4sI", data, pos)
        part = b"image" if kind in {b"VP8 ", b"VP8L"} else kind
        if part not in {b"ALPH", b"image"} or part in seen:
            break
        seen.add(part)
        pos += 8 + size + size % 2
    return pos


def _u24(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 3], "little")


def _ico_layout(data: bytes) -> Layout:
    (count,) = struct.unpack_from("<H", data, 4)
    return Layout("icon", (_ico_entry(data, 6 + 16 * index) for index in range(count)), None)


def _ico_entry(data: bytes, entry: int) -> Rect:
    """The size the embedded image's own header declares: Pillow decodes that, whatever the directory claims."""
    (offset,) = struct.unpack_from("<I", data, entry + 12)
    if data[offset : offset + len(_PNG_MAGIC)] == _PNG_MAGIC:
        canvas, _ = _png_header(data, offset + len(_PNG_MAGIC))
        return 0, 0, *canvas
    header = data[offset : offset + 12]
    if len(header) < 12:
        return 0, 0, 0, 0  # nothing Pillow could decode either
    core = struct.unpack_from("<I", header)[0] == 12  # the old 12-byte header has 16-bit sizes
    width, height = struct.unpack_from("<HH" if core else "<ii", header, 4)
    return 0, 0, abs(width), abs(height) // 2  # a DIB in an icon counts its AND mask in its height


_HEADER_READERS: dict[str, Callable[[bytes], Layout]] = {
    "GIF": _gif_layout,
    "PNG": _png_layout,
    "WEBP": _webp_layout,
    "ICO": _ico_layout,
}


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


def _check_all_frames(image: Image.Image, limits: Limits) -> None:
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


def _inspect_raster(data: bytes, etag: str, pillow_format: str, media_type: str, limits: Limits) -> Inspection:
    with decoding(pillow_format):
        image = open_raster(data, pillow_format, limits)
        displayed = displayed_size(image)
        original = Descriptor(media_type, displayed[0], displayed[1], len(data), etag)
        if media_type == PNG and preview_size(*displayed) == displayed:
            image.load()  # the original is its own preview, but it must still decode
            return Inspection(original, original, data)
        _check_all_frames(image, limits)
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
