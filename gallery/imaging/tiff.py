"""TIFF's image file directories, walked as Pillow walks them, and counted before it does: the pages of a TIFF, and
the directories inside the EXIF and multi-picture (MPO) headers that other formats carry, which are TIFF too.

Pillow reads every entry of a directory it opens in Python, and copies out every value stored outside the entry.
Two directories can share their bytes, and so can two values: a 40 MB TIFF of a thousand one-pixel pages, each
naming the same 40 MB value, had Pillow copy 40 GB (62 s). So every directory a file holds shares one budget of
entries and one of value bytes (twice the file: real files do not share values), and each page's strips or tiles
must be in proportion to its pixels (Pillow sets up each uncompressed one in Python: 16×16 tiles over 7000×7000
pixels took 2 s, against 0.4 s in strips).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from gallery.domain.errors import InvalidImage
from gallery.imaging.steps import Steps

# Bytes per value of each field type Pillow reads (`TiffImagePlugin.ImageFileDirectory_v2._load_dispatch`); it
# skips entries of any other type, reading nothing for them.
UNIT = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
MAX_ENTRIES = 65_536  # every directory of one file together (a 1000-page scan has ~20,000)
# Strips or tiles a page may have: one per row, and one per 1,024 pixels (32×32 tiles) besides.
PIXELS_PER_BLOCK = 1024

WIDTH, HEIGHT, STRIP_OFFSETS, SAMPLES, PLANAR, TILE_OFFSETS = 256, 257, 273, 277, 284, 324
_SUB_DIRECTORIES = (0x8769, 0x8825, 0xA005)  # Exif, GPS and (inside Exif) interoperability


class Directories:
    """What reading every directory of one file may cost, shared by all of them."""

    def __init__(self, size: int) -> None:
        self.entries = Steps(MAX_ENTRIES, f"The file's directories hold more than {MAX_ENTRIES:,} entries")
        self.values = Steps(
            2 * size + (1 << 20), "The file's directories name more bytes of values than the file holds"
        )


@dataclass(frozen=True)
class Directory:
    tags: dict[int, tuple[int, int, bytes]]  # tag → (type, count, the entry's value or the value's offset)
    next: int
    endian: str

    def number(self, tag: int, default: int = 0) -> int:
        """A SHORT or LONG held in the entry itself (sizes, counts), or `default`."""
        kind, count, raw = self.tags.get(tag, (0, 0, b""))
        if count < 1 or kind not in (3, 4):
            return default
        return int(struct.unpack_from(self.endian + ("H" if kind == 3 else "I"), raw)[0])

    def count(self, tag: int) -> int:
        return self.tags.get(tag, (0, 0, b""))[1]


def read_directory(data: bytes, pos: int, endian: str, budget: Directories) -> Directory:
    """One directory at `pos`, as `ImageFileDirectory_v2.load` reads it: every entry counted, the first of two
    entries with one tag kept, each value stored elsewhere charged by its size."""
    (count,) = struct.unpack_from(endian + "H", data, pos)
    budget.entries.take(count)
    tags: dict[int, tuple[int, int, bytes]] = {}
    for index in range(count):
        tag, kind, number, raw = struct.unpack_from(endian + "HHI4s", data, pos + 2 + 12 * index)
        unit = UNIT.get(kind)
        if tag in tags or unit is None:
            continue
        if number * unit > 4:
            budget.values.take(number * unit)
        tags[tag] = (kind, number, raw)
    (following,) = struct.unpack_from(endian + "I", data, pos + 2 + 12 * count)
    return Directory(tags, following, endian)


def byte_order(data: bytes) -> str | None:
    return {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])


def _sub_directories(data: bytes, directory: Directory, budget: Directories) -> None:
    """The Exif, GPS and interoperability directories a directory points to: Pillow reads them when an EXIF
    orientation is applied (`ImageOps.exif_transpose` writes the EXIF back out)."""
    pending, seen = [directory], set()
    while pending:
        current = pending.pop()
        for tag in _SUB_DIRECTORIES:
            offset = current.number(tag)
            if offset and offset not in seen:
                seen.add(offset)
                pending.append(read_directory(data, offset, current.endian, budget))


def check_header(blob: bytes) -> None:
    """An EXIF or MPO header (a TIFF header and its directories, `Exif\\0\\0` first or not): refused when reading it
    would cost more than its size, left to Pillow when it is merely broken (cameras write broken EXIF; Pillow
    passes over it)."""
    blob = blob.removeprefix(b"Exif\x00\x00")
    endian = byte_order(blob)
    if endian is None:
        return
    budget = Directories(len(blob))
    try:
        (first,) = struct.unpack_from(endian + "I", blob, 4)
        _sub_directories(blob, read_directory(blob, first, endian, budget), budget)
    except struct.error:
        return


def pages(data: bytes, most: int) -> Iterator[tuple[int, int, int, int]]:
    """Each page of a TIFF as (0, 0, width, height), read as `TiffImageFile._seek` reads them — the chain of
    directories from the header's, ending where a directory points back to one already read — and no more than
    `most` + 1 of them. Refused when reading them costs more than the file's size, or a page is cut in more strips
    or tiles than its pixels need."""
    endian = byte_order(data)
    assert endian is not None  # sniffed as TIFF
    budget = Directories(len(data))
    (pos,) = struct.unpack_from(endian + "I", data, 4)
    seen: set[int] = set()
    while pos and pos not in seen and len(seen) <= most:
        seen.add(pos)
        directory = read_directory(data, pos, endian, budget)
        if len(seen) == 1:
            _sub_directories(data, directory, budget)
        width, height = directory.number(WIDTH), directory.number(HEIGHT)
        _check_blocks(directory, width, height, len(seen))
        yield 0, 0, width, height
        pos = directory.next


def _check_blocks(directory: Directory, width: int, height: int, number: int) -> None:
    blocks = max(directory.count(STRIP_OFFSETS), directory.count(TILE_OFFSETS))
    planes = directory.number(SAMPLES, 1) if directory.number(PLANAR, 1) == 2 else 1
    allowed = max(1, planes) * (height + width * height // PIXELS_PER_BLOCK) + 64
    if blocks > allowed:
        raise InvalidImage(
            f"Page {number} of the TIFF is cut into {blocks:,} strips or tiles for {width}×{height} pixels; "
            f"at most {allowed:,} are read (a strip per row, or tiles of 32×32 pixels)"
        )
