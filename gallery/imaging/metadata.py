"""The public copy of an image: the same picture, without what its bytes say about the camera, the place and the
people — GPS position, make and model, body and lens serial numbers, owner and artist names, dates, comments, XMP,
IPTC, maker notes, and embedded thumbnails (an EXIF thumbnail can show the picture as it was before it was cropped).

A whitelist, not a blacklist: a copy keeps what changes how the picture looks — its pixels, the structures that
decode them, its colour profile, its animation, and the EXIF orientation (written anew, alone) — and nothing else,
wherever the format allows a writer to put something else. No pixel is re-encoded: segments, chunks, blocks and
directory entries are dropped or rewritten around the picture's own bytes, which are copied as they are. Bytes after
the picture's end (an MPO's further pictures, a phone's motion-photo video, anything appended) are dropped: each of
them can carry its own EXIF, and the site shows the first picture.

Copyright and Artist are dropped with the rest: cameras fill them in from the owner's name, which is personal data,
and the gallery states a picture's terms on its page, not in hidden bytes.

Each walk spends from the budgets the header readers use (`jpeg.py`, `headers.py`, `tiff.py`): a file made of far
more pieces than its size needs is refused with `InvalidImage` rather than walked, and so is a TIFF whose
directories cannot be read, since its metadata then cannot be told from its pixels. Anything else broken is passed
over as the decoders pass over it: bytes between JPEG segments, a segment or chunk cut short by the end of the file.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable, Iterator

from gallery.domain import formats
from gallery.domain.errors import InvalidImage
from gallery.imaging import jpeg, tiff
from gallery.imaging.formats import PNG_MAGIC
from gallery.imaging.headers import (
    GIF_BLOCK,
    chunk_steps,
    gif_palette_size,
    gif_sub_block,
    skip_gif_sub_blocks,
)
from gallery.imaging.steps import Steps, sized_budget

ORIENTATION = 0x0112
_TURNED = range(2, 9)  # orientations that turn or mirror the picture; 1 is as stored, others mean nothing
_XMP_JPEG = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_PNG = b"XML:com.adobe.xmp\x00"


def public_copy(data: bytes, media_type: str) -> bytes | None:
    """The bytes without their private metadata, or None when they carry none (the original can be served as it
    is). None, too, for the formats that carry no camera metadata (BMP, ICO) and for SVG: its `<metadata>` may name
    an author, but removing it safely needs an XML rewriter, which a document served sandboxed does not justify.

    `InvalidImage` when the bytes are not of `media_type`, are made of far more pieces than their size needs, or
    are a TIFF whose directories or pixel data cannot be found: never the original back for bytes not understood."""
    strip = _STRIPPERS.get(media_type)
    if strip is None:
        return None
    pieces = strip(data)
    return None if _unchanged(pieces, data) else b"".join(pieces)


def _unchanged(pieces: list[bytes | memoryview], data: bytes) -> bool:
    """Whether the pieces put together are `data` again, compared where they lie: the copy is never made for
    bytes with nothing to take out (an upload is held in memory once)."""
    view, at = memoryview(data), 0
    for piece in pieces:
        if view[at : at + len(piece)] != piece:
            return False
        at += len(piece)
    return at == len(data)


class _Orientation:
    """What a copy's EXIF says, and where it goes. Pillow reads the orientation from the EXIF's first directory
    or, when that has none, from XMP's `tiff:Orientation` (the renditions and the sizes in the catalog follow it),
    so the copy keeps either, as EXIF, where the first piece that could tell it was."""

    def __init__(self) -> None:
        self.exif = b""
        self.xmp = b""
        self.at = -1

    def note(self, out: list[bytes | memoryview], exif: bytes = b"", xmp: bytes = b"") -> None:
        if self.at < 0:
            self.at = len(out)
            out.append(b"")
        self.exif += exif
        self.xmp += xmp

    def place(self, out: list[bytes | memoryview], wrap: Callable[[bytes], bytes]) -> None:
        blob = self.exif.removeprefix(b"Exif\x00\x00")
        endian = tiff.byte_order(blob)
        found = _exif_orientation(blob, endian) if endian else None
        if found is None and (match := _XMP_ORIENTATION.search(self.xmp)) is not None:
            found = int(match[1])
        if found is not None and found in _TURNED:
            out[self.at] = wrap(_exif_of(found, endian or ">"))


# Pillow's own pattern (`Image.getexif`), which it looks for in the XMP packet's bytes.
_XMP_ORIENTATION = re.compile(rb'tiff:Orientation(?:="|>)([0-9])')


def _exif_orientation(blob: bytes, endian: str) -> int | None:
    """The orientation in the first directory of EXIF's TIFF structure, as Pillow reads it; None when there is none
    or the directory cannot be read (Pillow passes over broken EXIF too)."""
    try:
        (first,) = struct.unpack_from(endian + "I", blob, 4)
        directory = tiff.read_directory(blob, first, endian, tiff.Directories(len(blob)))
    except struct.error:
        return None
    return directory.number(ORIENTATION) if ORIENTATION in directory.tags else None


def _exif_of(orientation: int, endian: str) -> bytes:
    """EXIF of one entry, the orientation, in the byte order the original's came in (Pillow's own for one made
    anew), laid out as Pillow writes it: an EXIF that held the orientation alone comes back unchanged, and its file
    needs no copy."""
    head = b"MM\x00*" if endian == ">" else b"II*\x00"
    return head + struct.pack(endian + "IHHHIHHI", 8, 1, ORIENTATION, 3, 1, orientation, 0, 0)


# JPEG. Only APPn and COM segments hold metadata; every other segment is the picture's structure (tables, frame,
# scans) and is copied as it is, wherever it is.
_SOS, _EOI, _APP0, _APP1, _APP2, _APP14, _APP15, _COM = 0xDA, 0xD9, 0xE0, 0xE1, 0xE2, 0xEE, 0xEF, 0xFE
# A JFIF header: "JFIF\0", version, units, densities, the thumbnail's size (what libjpeg needs to know the header),
# then the thumbnail itself.
_JFIF_HEADER = 14


def _jpeg(data: bytes) -> list[bytes | memoryview]:
    if not data.startswith(b"\xff\xd8"):
        raise InvalidImage("The file is not a JPEG")
    view = memoryview(data)  # the pieces kept are views: the scans are not copied to be compared
    steps = Steps(jpeg.MAX_STEPS, f"The JPEG is made of more than {jpeg.MAX_STEPS:,} marker segments; it is not read")
    out: list[bytes | memoryview] = [b"\xff\xd8"]
    orientation, pos = _Orientation(), 2
    while (marker := jpeg.MARKER.search(data, pos)) is not None:
        steps.take()
        code, start, pos = marker[1][0], marker.start(1) - 1, marker.end()  # fill bytes before a marker are dropped
        if code == _EOI:
            out.append(data[start:pos])
            break
        if code in jpeg.WITHOUT_LENGTH:
            out.append(data[start:pos])
            continue
        if pos + 2 > len(data):
            break
        (length,) = struct.unpack_from(">H", data, pos)
        end = pos + max(length, 2)  # as `jpeg.JpegWalk` reads a length below 2
        body = data[pos + 2 : end]
        if code == _SOS:
            scan = jpeg.END_OF_SCAN.search(data, end)
            end = len(data) if scan is None else scan.start()
            out.append(view[start:end])
        elif code == _APP1 and body.startswith(b"Exif\x00\x00"):
            orientation.note(out, exif=body[6:])  # Pillow joins every EXIF segment into one blob
        elif code == _APP1 and body.startswith(_XMP_JPEG):
            orientation.note(out, xmp=body)
        elif _APP0 <= code <= _APP15 or code == _COM:
            out.append(_jpeg_app(code, body))
        else:
            out.append(view[start:end])
        pos = end
    orientation.place(out, lambda exif: b"\xff\xe1" + struct.pack(">H", len(exif) + 8) + b"Exif\x00\x00" + exif)
    return out


def _jpeg_app(code: int, body: bytes) -> bytes:
    """An APPn segment as the copy holds it: the JFIF header without its thumbnail, the ICC profile, Adobe's colour
    transform (it says how the samples decode); any other, nothing."""
    if code == _APP0 and body.startswith(b"JFIF\x00") and len(body) >= _JFIF_HEADER:
        body = body[: _JFIF_HEADER - 2] + b"\x00\x00"
    elif not (code == _APP2 and body.startswith(b"ICC_PROFILE\x00")) and not (
        code == _APP14 and body.startswith(b"Adobe")
    ):
        return b""
    return bytes((0xFF, code)) + struct.pack(">H", len(body) + 2) + body


# PNG. Critical chunks (an upper-case first letter) are the picture; of the others, those that change how it looks
# or moves: transparency, colour (gamma, chromaticities, sRGB, ICC, CICP and HDR levels), significant bits, the
# background, the pixels' aspect, and APNG's animation. Text (where XMP lives too), time and private chunks go.
_PNG_KEPT = frozenset(
    {b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"cICP", b"mDCV", b"cLLI", b"sBIT", b"bKGD", b"pHYs"}
    | {b"acTL", b"fcTL", b"fdAT"}
)


def _png(data: bytes) -> list[bytes | memoryview]:
    if not data.startswith(PNG_MAGIC):
        raise InvalidImage("The file is not a PNG")
    view = memoryview(data)
    steps = chunk_steps(data, "PNG")
    out: list[bytes | memoryview] = [PNG_MAGIC]
    orientation, pos = _Orientation(), len(PNG_MAGIC)
    while pos + 8 <= len(data):
        steps.take()
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        content = data[pos + 8 : pos + 8 + length]
        if kind == b"eXIf":
            orientation.note(out, exif=content)
        elif kind in (b"iTXt", b"tEXt") and content.startswith(_XMP_PNG):
            orientation.note(out, xmp=content)
        elif not kind[0] & 0x20 or kind in _PNG_KEPT:
            out.append(view[pos:end])
        if kind == b"IEND":
            break
        pos = end
    orientation.place(out, lambda exif: struct.pack(">I", len(exif)) + b"eXIf" + exif + _crc(b"eXIf" + exif))
    return out


def _crc(content: bytes) -> bytes:
    return struct.pack(">I", zlib.crc32(content))


# WebP. What libwebp reads to draw the picture: the extended header, the ICC profile, the animation, alpha and the
# bitstreams. EXIF is kept with the orientation alone; XMP and unknown chunks go, and the header's flags follow.
_WEBP_KEPT = frozenset({b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"})
_WEBP_EXIF, _WEBP_XMP = 0x08, 0x04


def _webp(data: bytes) -> list[bytes | memoryview]:
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise InvalidImage("The file is not a WebP")
    steps = chunk_steps(data, "WebP")
    riff_end = min(len(data), 8 + struct.unpack_from("<I", data, 4)[0])  # what follows the RIFF is no part of it
    extended = data[12:16] == b"VP8X"  # a simple WebP (one bitstream) has no header to announce EXIF in
    chunks: list[bytes | memoryview] = [b"WEBP"]
    orientation, pos = _Orientation(), 12
    while pos + 8 <= riff_end:
        steps.take()
        kind, length = struct.unpack_from("<4sI", data, pos)
        end = min(pos + 8 + length + length % 2, riff_end)
        if kind == b"EXIF" and extended:
            orientation.note(chunks, exif=data[pos + 8 : end])
        elif kind == b"XMP " and extended:
            orientation.note(chunks, xmp=data[pos + 8 : end])
        elif kind in _WEBP_KEPT:
            chunks.append(data[pos:end])
        pos = end
    orientation.place(chunks, lambda exif: b"EXIF" + struct.pack("<I", len(exif)) + exif)
    header = bytes(chunks[1][:18]) if len(chunks) > 1 else b""  # a VP8X chunk is 18 bytes; others are not read
    if header.startswith(b"VP8X") and len(header) > 8:
        has_exif = orientation.at >= 0 and chunks[orientation.at] != b""
        flags = header[8] & ~(_WEBP_EXIF | _WEBP_XMP) | (_WEBP_EXIF if has_exif else 0)
        chunks[1] = header[:8] + bytes((flags,)) + header[9:]
    return [b"RIFF", struct.pack("<I", sum(len(chunk) for chunk in chunks)), *chunks]


# GIF. Frames, their graphic controls and plain text are the picture; of the application extensions, the loop count
# and the ICC profile. Comments, XMP (`XMP DataXMP`) and every other extension go.
_GIF_CONTROL, _GIF_TEXT, _GIF_APPLICATION = 0xF9, 0x01, 0xFF
_GIF_APPLICATIONS_KEPT = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")


def _gif(data: bytes) -> list[bytes | memoryview]:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise InvalidImage("The file is not a GIF")
    view = memoryview(data)
    # As `headers._gif_layout` counts them: real GIFs are made of 255-byte sub-blocks.
    refusal = "The GIF is made of far more blocks than its size needs; it is not read"
    steps = Steps(sized_budget(len(data), 64, 10_000), refusal)
    pos = 13 + gif_palette_size(data[10])
    out: list[bytes | memoryview] = [view[:pos]]
    # Decoders pass over any byte that starts no block, and so does this walk.
    while (block := GIF_BLOCK.search(data, pos)) is not None:
        steps.take()
        pos = block.start()
        if block[0] == b";":  # the trailer
            out.append(block[0])
            break
        if block[0] == b",":  # a frame: its descriptor, its palette, the LZW code size, its data
            palette = gif_palette_size(data[pos + 9]) if pos + 9 < len(data) else 0
            end = skip_gif_sub_blocks(data, pos + 10 + palette + 1, steps)
            out.append(view[pos:end])
        else:
            label = data[pos + 1] if pos + 1 < len(data) else 0
            first, after = gif_sub_block(data, pos + 2)
            end = skip_gif_sub_blocks(data, after, steps) if first else after
            if label in (_GIF_CONTROL, _GIF_TEXT) or (
                label == _GIF_APPLICATION and first is not None and first[:11] in _GIF_APPLICATIONS_KEPT
            ):
                out.append(view[pos:end])
        pos = end
    return out


# TIFF. The picture and its metadata share a directory, so each page's directory is written anew with the tags
# that say what the pixels are and how they look, and every byte that no kept tag points to is zeroed (or cut, at
# the end of the file): the Exif and GPS directories, XMP, IPTC, Photoshop's resources, sub-images (thumbnails, a
# DNG's raw data), and whatever an editor left behind when it wrote a directory anew elsewhere.
_TIFF_KEPT = frozenset(
    {254, 255, 256, 257, 258, 259, 262, 263, 264, 265, 266, 273, 274, 277, 278, 279, 280, 281, 282, 283, 284}
    | {290, 291, 292, 293, 296, 301, 317, 318, 319, 320, 321, 322, 323, 324, 325, 332, 334, 336, 338, 339, 340}
    | {341, 342, 347, 512, 513, 514, 515, 517, 518, 519, 520, 521, 529, 530, 531, 532, 34675}
)
# The pixels, each piece where one tag says and as long as the other says: strips, tiles, an old-style JPEG stream.
_TIFF_DATA = ((273, 279), (324, 325))
# An old-style JPEG stream: where it starts, and its length, which writers often leave out (it then runs to its EOI).
_OJPEG_STREAM, _OJPEG_LENGTH = 513, 514
# An old-style JPEG's own tables: quantisation (64 bytes each), then Huffman (16 counts, then as many values).
_OJPEG_QUANTISATION, _OJPEG_HUFFMAN = 519, (520, 521)


def _tiff(data: bytes) -> list[bytes | memoryview]:
    endian = tiff.byte_order(data)
    if endian is None:
        raise InvalidImage("The file is not a TIFF")
    try:
        pages = _tiff_directories(data, endian)
        kept = [(0, 8), *(piece for _, directory in pages for piece in _tiff_pieces(data, directory))]
    except struct.error:
        raise InvalidImage("The TIFF's directories point outside the file; its public copy cannot be made") from None
    out = bytearray(len(data))
    for start, end in kept:
        out[start:end] = data[start:end]
    at = {pos for pos, _ in pages}
    for pos, directory in pages:
        table = _tiff_table(directory, directory.next if directory.next in at else 0)
        out[pos : pos + len(table)] = table
        kept.append((pos, pos + len(table)))
    return [bytes(out[: max(min(end, len(data)) for _, end in kept)])]


def _tiff_directories(data: bytes, endian: str) -> list[tuple[int, tiff.Directory]]:
    """Each page's directory and where it is, read as Pillow reads the chain (to a directory already read); a link
    that leads out of the file ends the chain there."""
    budget = tiff.Directories(len(data))
    (pos,) = struct.unpack_from(endian + "I", data, 4)
    pages: dict[int, tiff.Directory] = {}
    while pos and pos not in pages:
        budget.entries.take()  # a chain of empty directories costs its links
        try:
            pages[pos] = tiff.read_directory(data, pos, endian, budget)
        except struct.error:
            if not pages:
                raise
            break
        pos = pages[pos].next
    return list(pages.items())


def _tiff_pieces(data: bytes, directory: tiff.Directory) -> Iterator[tuple[int, int]]:
    """Where the bytes a page keeps are, (start, end): the values of its kept tags stored outside the directory, and
    its pixel data."""
    for tag, (kind, count, raw) in directory.tags.items():
        if tag in _TIFF_KEPT and count * tiff.UNIT[kind] > 4:
            (offset,) = struct.unpack_from(directory.endian + "I", raw)
            yield offset, offset + count * tiff.UNIT[kind]
    for offsets_tag, sizes_tag in _TIFF_DATA:
        offsets, sizes = _numbers(data, directory, offsets_tag), _numbers(data, directory, sizes_tag)
        if len(sizes) < len(offsets):
            raise InvalidImage("The TIFF does not say how long its pixel data is; its public copy cannot be made")
        yield from ((offset, offset + size) for offset, size in zip(offsets, sizes, strict=False))
    for offset in _numbers(data, directory, _OJPEG_STREAM):
        lengths = _numbers(data, directory, _OJPEG_LENGTH)
        yield offset, offset + lengths[0] if lengths else _end_of_jpeg(data, offset)
    yield from ((offset, offset + 64) for offset in _numbers(data, directory, _OJPEG_QUANTISATION))
    for tag in _OJPEG_HUFFMAN:
        yield from (
            (offset, offset + 16 + sum(data[offset : offset + 16])) for offset in _numbers(data, directory, tag)
        )


def _end_of_jpeg(data: bytes, start: int) -> int:
    end = data.find(b"\xff\xd9", start)
    return len(data) if end < 0 else end + 2


def _numbers(data: bytes, directory: tiff.Directory, tag: int) -> tuple[int, ...]:
    """Every value of a SHORT or LONG tag, held in the entry or stored where it points; none for another type."""
    kind, count, raw = directory.tags.get(tag, (0, 0, b""))
    code = {3: "H", 4: "I"}.get(kind)
    if code is None:
        return ()
    layout = f"{directory.endian}{count}{code}"
    if struct.calcsize(layout) <= 4:
        return struct.unpack_from(layout, raw)
    return struct.unpack_from(layout, data, struct.unpack_from(directory.endian + "I", raw)[0])


def _tiff_table(directory: tiff.Directory, following: int) -> bytes:
    """The directory with its kept entries alone, byte for byte as they were, in their order."""
    endian, tags = directory.endian, directory.tags
    entries = [struct.pack(endian + "HHI", tag, *tags[tag][:2]) + tags[tag][2] for tag in tags if tag in _TIFF_KEPT]
    return struct.pack(endian + "H", len(entries)) + b"".join(entries) + struct.pack(endian + "I", following)


_STRIPPERS: dict[str, Callable[[bytes], list[bytes | memoryview]]] = {
    formats.JPEG.media_type: _jpeg,
    formats.PNG.media_type: _png,
    formats.WEBP.media_type: _webp,
    formats.GIF.media_type: _gif,
    formats.TIFF.media_type: _tiff,
}
