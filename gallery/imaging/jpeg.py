"""What a JPEG will cost besides its pixels, read from its marker segments before Pillow parses one of them.

- **Scans.** A progressive JPEG arrives in scans, and libjpeg goes over every block of the components a scan
  covers, however little the scan holds: a 7000×7000 grey picture whose smallest scan was repeated 2,000 times
  (341 KB) took 11 s to decode, against 0.26 s with its 6 scans. A picture may have `MAX_SCANS` scans (libtiff's
  own limit for JPEG data; libjpeg's progressive script writes 6 for grey and 10 for colour), and all scans of all
  pictures together may go over at most `SCAN_PASSES` times the pixel limit in samples.
- **Segments before the first scan** are read by Pillow in Python one at a time, and so is every stray or fill
  byte between them: a million empty comments (4 MB) took 2.7 s, 5 MB of 0xFF fill 2 s. Those, and the segments
  after the first scan that this walk itself reads one at a time, spend `MAX_STEPS` in all.
- **EXIF and multi-picture headers** are TIFF directories (`tiff.check_header`).

A multi-picture file (MPO, what some cameras write) holds further JPEG streams at offsets its header names:
`more_pictures` walks each, on the same budgets, before Pillow seeks to it.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass, field

from gallery.domain.errors import InvalidImage
from gallery.imaging import tiff
from gallery.imaging.steps import Steps

MAX_SCANS = 100
SCAN_PASSES = 32
MAX_STEPS = 20_000

# A marker: one or more 0xFF, then its code; 0xFF 0x00 is not one (a stuffed byte in entropy-coded data). Written
# with a literal first byte, which the regular expression engine then looks for at C speed: `\xff+` made it try
# every position (200 ms through a 20 MB photo, against 9 ms).
MARKER = re.compile(rb"\xff\xff*([^\x00\xff])")
# The end of a scan's entropy-coded data: a marker other than a restart (RST0–RST7 sit inside the data).
END_OF_SCAN = re.compile(rb"\xff\xff*[^\x00\xd0-\xd7\xff]")
WITHOUT_LENGTH = frozenset({0x01, *range(0xD0, 0xD9)})  # TEM, RST0–7, SOI
_EOI, _SOS, _APP1, _APP2 = 0xD9, 0xDA, 0xE1, 0xE2
_FRAME = frozenset({*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), *range(0xCD, 0xD0)})


@dataclass
class Picture:
    width: int = 0
    height: int = 0
    samples: dict[int, int] = field(default_factory=dict)  # component id → its samples
    scans: int = 0
    mp_header: int | None = None  # where the offsets of an MPO's pictures count from


class JpegWalk:
    """The walk of one file's pictures, sharing the budgets: steps, and samples scanned against `max_pixels`."""

    def __init__(self, data: bytes, max_pixels: int) -> None:
        self.data = data
        self.max_pixels = max_pixels
        self.steps = Steps(
            MAX_STEPS,
            f"The JPEG is made of more than {MAX_STEPS:,} marker segments and stray bytes; it is not read",
        )
        self.scanned = 0

    def picture(self, start: int) -> Picture:
        """The picture whose SOI is at `start`, walked to its EOI (or the end of the file)."""
        data, found = self.data, Picture()
        pos, in_header = start + 2, True
        while (marker := MARKER.search(data, pos)) is not None:
            # Before the first scan Pillow reads each stray byte, each fill byte and each segment in a Python loop.
            self.steps.take(marker.start(1) - pos if in_header else 1)
            code, pos = marker[1][0], marker.end()
            if code == _EOI:
                break
            if code in WITHOUT_LENGTH:
                continue
            if pos + 2 > len(data):
                break
            (length,) = struct.unpack_from(">H", data, pos)
            segment = data[pos + 2 : pos + length]
            if code in _FRAME and not found.samples:
                _read_frame(segment, found)
            elif code == _APP1 and segment.startswith(b"Exif\x00\x00"):
                tiff.check_header(segment)
            elif code == _APP2 and segment.startswith(b"MPF\x00"):
                tiff.check_header(segment[4:])
                found.mp_header = pos + 2 + 4  # as Pillow counts it: the last such segment wins
            pos += max(length, 2)  # Pillow reads past a length below 2 as if it were 2
            if code == _SOS:
                in_header = False
                self._scan(segment, found)
                end = END_OF_SCAN.search(data, pos)
                pos = len(data) if end is None else end.start()
        return found

    def _scan(self, header: bytes, picture: Picture) -> None:
        picture.scans += 1
        if picture.scans > MAX_SCANS:
            raise InvalidImage(f"The JPEG has more than {MAX_SCANS} scans; it is not decoded")
        components = header[1 : 1 + 2 * header[0] : 2] if header else b""
        self.scanned += sum(picture.samples.get(component, 0) for component in components)
        budget = SCAN_PASSES * self.max_pixels
        if self.scanned > budget:
            raise InvalidImage(
                f"The JPEG's scans go over more than {budget:,} samples ({SCAN_PASSES} times the pixel limit); "
                "it is not decoded"
            )

    def more_pictures(self, first: Picture, offsets: list[int], most: int) -> list[tuple[int, int, int, int]]:
        """The size of each further picture of an MPO (`offsets`: its header's, counted from `first.mp_header` as
        Pillow counts them), each walked before Pillow reads it; no more than `most` + 1 of them."""
        sizes = []
        for offset in offsets[: most + 1]:
            start = offset + (first.mp_header or 0)
            picture = self.picture(start) if self.data[start : start + 3] == b"\xff\xd8\xff" else Picture()
            sizes.append((0, 0, picture.width, picture.height))
        return sizes


def _read_frame(segment: bytes, picture: Picture) -> None:
    """SOF: the size, and each component's sampling, from which its samples (what a scan of it goes over)."""
    if len(segment) < 6:
        return
    picture.height, picture.width = struct.unpack_from(">HH", segment, 1)
    parts = [segment[6 + 3 * n : 9 + 3 * n] for n in range(segment[5])]
    parts = [part for part in parts if len(part) == 3]
    if not parts:
        return
    h_max = max(part[1] >> 4 for part in parts) or 1
    v_max = max(part[1] & 15 for part in parts) or 1
    for component, sampling, _ in parts:
        width = math.ceil(picture.width * (sampling >> 4) / h_max)
        height = math.ceil(picture.height * (sampling & 15) / v_max)
        picture.samples[component] = width * height
