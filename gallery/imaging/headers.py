"""What decoding an image will cost, read from its headers before anything is decoded: the frames, pages or icons it
holds and the canvas it composites them on."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import repeat

from PIL import Image

from gallery.domain.errors import InvalidImage
from gallery.imaging.formats import PNG_MAGIC

Rect = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True)
class Layout:
    """What decoding an image will cost, as its headers tell it before anything is decoded."""

    noun: str  # what messages call one of `frames`: frame, page or icon
    frames: Iterator[Rect]  # lazy, so a file of a million frames is refused after reading the first thousand
    canvas: tuple[int, int] | None  # formats that composite redraw this whole area for every frame; None: they don't


def seeking_layout(image: Image.Image, most: int) -> Layout:
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
    canvas, frames = _png_header(data, len(PNG_MAGIC))
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
    if data[offset : offset + len(PNG_MAGIC)] == PNG_MAGIC:
        canvas, _ = _png_header(data, offset + len(PNG_MAGIC))
        return 0, 0, *canvas
    header = data[offset : offset + 12]
    if len(header) < 12:
        return 0, 0, 0, 0  # nothing Pillow could decode either
    core = struct.unpack_from("<I", header)[0] == 12  # the old 12-byte header has 16-bit sizes
    width, height = struct.unpack_from("<HH" if core else "<ii", header, 4)
    return 0, 0, abs(width), abs(height) // 2  # a DIB in an icon counts its AND mask in its height


HEADER_READERS: dict[str, Callable[[bytes], Layout]] = {
    "GIF": _gif_layout,
    "PNG": _png_layout,
    "WEBP": _webp_layout,
    "ICO": _ico_layout,
}
