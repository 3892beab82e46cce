"""What decoding an image will cost, read from its headers before anything is decoded: the frames, pages or icons it
holds and the canvas it composites them on; and, as each reader walks the file, the work that is not pixels
(`steps.py`): chunks, blocks, entries and runs beyond what the file's size or pixels need are refused on the way."""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import repeat

from gallery.domain.errors import InvalidImage
from gallery.imaging import tiff
from gallery.imaging.formats import PNG_MAGIC, DecodeLimits
from gallery.imaging.steps import Steps, sized_budget

Rect = tuple[int, int, int, int]  # left, top, width, height


@dataclass(frozen=True)
class Layout:
    """What decoding an image will cost, as its headers tell it before anything is decoded."""

    noun: str  # what messages call one of `frames`: frame, page or icon
    frames: Iterator[Rect]  # lazy, so a file of a million frames is refused after reading the first thousand
    canvas: tuple[int, int] | None  # formats that composite redraw this whole area for every frame; None: they don't


# Every format is read here rather than by Pillow, whose seeking composites the canvas (GIF, APNG), decodes every
# frame before it (WebP) or reads every directory entry and value in Python (TIFF), and whose opening decodes (ICO).
# Each reader finds at least the frames Pillow would find: where Pillow tolerates a quirk, so does the reader.
GIF_BLOCK = re.compile(rb"[!,;]")


def _gif_layout(data: bytes, limits: DecodeLimits) -> Layout:
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    # Image data comes in sub-blocks of up to 255 bytes, so a GIF of any real size needs far fewer blocks than one
    # per 64 bytes; a file of millions of 1-byte sub-blocks (cheap to send, seconds to walk) is refused instead.
    steps = Steps(
        sized_budget(len(data), 64, 10_000), "The GIF is made of far more blocks than its size needs; it is not read"
    )
    return Layout("frame", _gif_frames(data, 13 + gif_palette_size(flags), steps), (width, height))


def gif_palette_size(flags: int) -> int:
    return 3 << (flags & 7) + 1 if flags & 0x80 else 0


def _gif_frames(data: bytes, pos: int, steps: Steps) -> Iterator[Rect]:
    first = True
    # Pillow skips any byte that starts no block rather than stopping, so a frame can follow stray bytes.
    while (block := GIF_BLOCK.search(data, pos)) is not None and block[0] != b";":
        steps.take()
        pos = block.end()
        if block[0] == b"!":
            pos = _skip_gif_extension(data, pos, first, steps)
            continue
        left, top, width, height, flags = struct.unpack_from("<4HB", data, pos)
        yield left, top, width, height
        first = False
        pos = skip_gif_sub_blocks(data, pos + 9 + gif_palette_size(flags) + 1, steps)  # + 1: the LZW code size


def _skip_gif_extension(data: bytes, pos: int, first_frame: bool, steps: Steps) -> int:
    """Mirrors `GifImageFile._seek`, quirks included: after an extension's first sub-block it skips a further run of
    sub-blocks even when that first one was the terminator. Reading the extension any other way would let the bytes
    Pillow skips hide frames from us, or hide from us the frames Pillow finds."""
    label = data[pos]
    block, pos = gif_sub_block(data, pos + 1)
    if label == 0xFE:  # a comment reads up to its terminator and no further
        while block:
            steps.take()
            block, pos = gif_sub_block(data, pos)
        return pos
    if label == 0xFF and first_frame and block is not None and block.startswith(b"NETSCAPE2.0"):
        _, pos = gif_sub_block(data, pos)
    return skip_gif_sub_blocks(data, pos, steps)


def gif_sub_block(data: bytes, pos: int) -> tuple[bytes | None, int]:
    """One sub-block as `GifImageFile.data` reads it: None for the terminator or the end of the file."""
    if pos >= len(data) or not data[pos]:
        return None, pos + 1
    end = pos + 1 + data[pos]
    return data[pos + 1 : end], end


def skip_gif_sub_blocks(data: bytes, pos: int, steps: Steps) -> int:
    block, pos = gif_sub_block(data, pos)
    while block:
        steps.take()
        block, pos = gif_sub_block(data, pos)
    return pos


def chunk_steps(data: bytes, noun: str) -> Steps:
    """Pillow reads a PNG's chunks, and this module a PNG's or WebP's, one at a time in Python: 3 million empty
    chunks (36 MB) took 19 s. Encoders write image data in chunks of kilobytes (libpng: 8 KB), or a chunk a row."""
    refusal = f"The {noun} is made of far more chunks than its size needs; it is not read"
    return Steps(sized_budget(len(data), 1024, 10_000), refusal)


def _png_layout(data: bytes, limits: DecodeLimits) -> Layout:
    canvas, frames = _png_header(data, len(PNG_MAGIC), chunk_steps(data, "PNG"))
    # Every APNG frame lies inside the canvas (Pillow refuses an fcTL that leaves it), so its canvas is its cost.
    return Layout("frame", repeat((0, 0, *canvas), frames), canvas)


def _png_header(data: bytes, pos: int, steps: Steps) -> tuple[tuple[int, int], int]:
    """The canvas and the number of frames, read from the chunks as `PngImageFile._open` reads them: up to the first
    image data, the last IHDR winning, a second acTL cancelling the animation, the IDAT image a frame of its own
    unless an fcTL precedes it. Every chunk up to IEND is counted, and EXIF checked (`tiff.check_header`)."""
    canvas, animation, idat_is_frame, opening = (0, 0), None, False, True
    while pos + 8 <= len(data):
        steps.take()
        length, kind = struct.unpack_from(">I4s", data, pos)
        if kind == b"IEND":
            break
        if kind in {b"IDAT", b"fdAT"}:
            opening = False
        elif kind == b"eXIf":
            tiff.check_header(data[pos + 8 : pos + 8 + length])
        elif not opening:
            pass
        elif kind == b"IHDR" and length >= 13:
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


def _webp_layout(data: bytes, limits: DecodeLimits) -> Layout:
    canvas = _webp_canvas(data)
    return Layout("frame", _webp_frames(data, canvas, chunk_steps(data, "WebP")), canvas)


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


def _webp_frames(data: bytes, canvas: tuple[int, int], steps: Steps) -> Iterator[Rect]:
    animated = False
    pos = 12
    while pos + 8 <= len(data):
        steps.take()
        kind, size = struct.unpack_from("<4sI", data, pos)
        if kind == b"EXIF":
            tiff.check_header(data[pos + 8 : pos + 8 + size])
        if kind != b"ANMF":
            pos += 8 + size + size % 2
            continue
        animated = True
        at = pos + 8
        yield 2 * _u24(data, at), 2 * _u24(data, at + 3), _u24(data, at + 6) + 1, _u24(data, at + 9) + 1
        pos = _after_webp_frame(data, at + 16, steps)
    if not animated:
        yield 0, 0, *canvas


def _after_webp_frame(data: bytes, pos: int, steps: Steps) -> int:
    """Where libwebp's demuxer reads on after a frame: past the frame's own ALPH and image chunks, not where the ANMF
    size says, so an ANMF declaring more than it holds cannot hide the frames after it from us."""
    seen: set[bytes] = set()
    while pos + 8 <= len(data):
        steps.take()
        kind, size = struct.unpack_from("<4sI", data, pos)
        part = b"image" if kind in {b"VP8 ", b"VP8L"} else kind
        if part not in {b"ALPH", b"image"} or part in seen:
            break
        seen.add(part)
        pos += 8 + size + size % 2
    return pos


def _u24(data: bytes, pos: int) -> int:
    return int.from_bytes(data[pos : pos + 3], "little")


# Pillow decodes run-length BMPs in Python, a command at a time (and a 4-bit run a pixel at a time): 24 million
# one-pixel runs (49 MB) took 13.7 s. A file may hold `MAX_RUNS` commands in all (a third of a second), and a 4-bit one
# counts `RLE4_COST` times its pixels against the pixel limit (9 Mpx took 0.73 s, ten times an 8-bit one).
MAX_RUNS = 1 << 19
RLE4_COST = 10
_RLE8, _RLE4 = 1, 2


class _Runs:
    """The run-length commands of every bitmap in one file (a BMP, or an icon's entries), against `MAX_RUNS`."""

    def __init__(self, limits: DecodeLimits) -> None:
        self.limits = limits
        self.steps = Steps(MAX_RUNS, f"The bitmap is more than {MAX_RUNS:,} run-length commands; it is not decoded")

    def check(self, data: bytes, pos: int, width: int, height: int, compression: int) -> None:
        if compression not in (_RLE8, _RLE4) or width < 1 or height < 1:
            return
        if compression == _RLE4 and width * height * RLE4_COST > self.limits.max_pixels:
            raise InvalidImage(
                f"A 4-bit run-length bitmap of {width}×{height} pixels is decoded a pixel at a time; at most "
                f"{self.limits.max_pixels // RLE4_COST:,} pixels are"
            )
        most = (len(data) - pos) // 2  # each command takes two bytes at least
        if most <= self.steps.left:
            self.steps.take(most)
        else:
            self._walk(data, pos, width, height, compression == _RLE4)

    def _walk(self, data: bytes, pos: int, width: int, height: int, rle4: bool) -> None:
        """The commands as `BmpRleDecoder` reads them: until the picture is full, its end, or the file's. Runs of
        encoded commands are counted by the regular expression engine, escapes one at a time."""
        total, done, x = width * height, 0, 0
        while done < total and pos + 1 < len(data):
            encoded = _ENCODED_RUNS.match(data, pos)
            if encoded is not None:
                counts = encoded[0][::2]
                self.steps.take(len(counts))
                if x + (pixels := sum(counts)) <= width:
                    done, x = done + pixels, x + pixels
                else:
                    for count in counts:  # capped at the row's end, as Pillow caps them
                        count = min(count, max(0, width - x))
                        done, x = done + count, x + count
                pos = encoded.end()
                continue
            self.steps.take()
            code = data[pos + 1]
            pos += 2
            if code == 0:  # end of line
                done, x = -(-done // width) * width, 0
            elif code == 1:  # end of bitmap
                return
            elif code == 2:  # delta: right, up
                if pos + 1 >= len(data):
                    return
                done += min(total - done, data[pos] + data[pos + 1] * width)
                x, pos = done % width, pos + 2
            else:  # absolute: `code` pixels follow, padded to a word
                count = min(total - done, code)
                pos += (count + 1) // 2 if rle4 else count
                done, x = done + count, x + code
                pos += pos % 2


# Encoded runs: a count that is not 0, then the colour.
_ENCODED_RUNS = re.compile(rb"(?:[^\x00].){1,4096}", re.S)


def _bmp_layout(data: bytes, limits: DecodeLimits) -> Layout:
    offset, header = struct.unpack_from("<I4xI", data, 10)
    if header == 12:  # the old core header: 16-bit sizes, never compressed
        width, height = struct.unpack_from("<HH", data, 18)
    else:
        width, height, bits, compression, colours = struct.unpack_from("<iiH2xI12xI", data, 18)
        pixels_at = offset or 14 + header + _palette_size(bits, colours)
        _Runs(limits).check(data, pixels_at, width, abs(height), compression)
    return Layout("frame", iter([(0, 0, width, abs(height))]), None)


def _ico_layout(data: bytes, limits: DecodeLimits) -> Layout:
    (count,) = struct.unpack_from("<H", data, 4)
    steps, runs = chunk_steps(data, "icon"), _Runs(limits)
    return Layout("icon", (_ico_entry(data, 6 + 16 * index, steps, runs) for index in range(count)), None)


def _ico_entry(data: bytes, entry: int, steps: Steps, runs: _Runs) -> Rect:
    """The size the embedded image's own header declares: Pillow decodes that, whatever the directory claims."""
    (offset,) = struct.unpack_from("<I", data, entry + 12)
    if data[offset : offset + len(PNG_MAGIC)] == PNG_MAGIC:
        canvas, _ = _png_header(data, offset + len(PNG_MAGIC), steps)
        return 0, 0, *canvas
    header = data[offset : offset + 36]
    if len(header) < 12:
        return 0, 0, 0, 0  # nothing Pillow could decode either
    size = struct.unpack_from("<I", header)[0]
    core = size == 12  # the old 12-byte header has 16-bit sizes
    width, height = struct.unpack_from("<HH" if core else "<ii", header, 4)
    height = abs(height) // 2  # a DIB in an icon counts its AND mask in its height
    if not core and len(header) == 36:
        bits, compression, colours = struct.unpack_from("<HI12xI", header, 14)
        runs.check(data, offset + size + _palette_size(bits, colours), abs(width), height, compression)
    return 0, 0, abs(width), height


def _palette_size(bits: int, colours: int) -> int:
    """The bytes of a bitmap's palette, as Pillow finds where its pixels start."""
    return (colours or 1 << bits) * 4 if bits <= 8 else 0


def _tiff_layout(data: bytes, limits: DecodeLimits) -> Layout:
    return Layout("page", tiff.pages(data, limits.max_frames), None)


HEADER_READERS: dict[str, Callable[[bytes, DecodeLimits], Layout]] = {
    "GIF": _gif_layout,
    "PNG": _png_layout,
    "WEBP": _webp_layout,
    "ICO": _ico_layout,
    "BMP": _bmp_layout,
    "TIFF": _tiff_layout,
}
