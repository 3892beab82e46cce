"""What the fast rendering path costs in quality, and what it saves in time, on the benchmark photos.

For each default rendition of a 3000×2000 photo, ours (`renditions.render`: a JPEG draft to the smallest DCT scale
as wide as the largest rendition, a short bicubic step, WebP at method 0, or 2 for thumbnails) against the slow
path (every pixel decoded, Lanczos from the full image, WebP at libwebp's default method 4, JPEG with optimised
tables): PSNR against that full-resolution Lanczos reference, bytes, and time per photo. Promise: ours in at most
half the slow path's time, within 0.6 dB at every width.
"""

from __future__ import annotations

import io
import math
import statistics
import time

from PIL import Image, ImageChops

from benchmarks.harness import Comparison
from benchmarks.static_build import photo_set
from gallery.imaging import DecodeLimits
from gallery.site.renditions import DEFAULT_WIDTHS, WEBP, Rendition, render

PHOTOS = 8
LIMITS = DecodeLimits(100_000_000, 1)


def psnr(ours: Image.Image, reference: Image.Image) -> float:
    histogram = ImageChops.difference(ours.convert("RGB"), reference).histogram()
    squares = sum(i * i * n for band in range(3) for i, n in enumerate(histogram[band * 256 : (band + 1) * 256]))
    return 10 * math.log10(255**2 / max(squares / (reference.width * reference.height * 3), 1e-9))


def _slow(data: bytes, renditions: tuple[Rendition, ...]) -> dict[str, bytes]:
    full = Image.open(io.BytesIO(data))
    full.load()
    out = {}
    for rendition in renditions:
        resized = full.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        if rendition.media_type == WEBP:
            resized.save(buffer, "WEBP", quality=80, method=4)
        else:
            resized.save(buffer, "JPEG", quality=82, optimize=True)
        out[rendition.name] = buffer.getvalue()
    return out


def run() -> list[Comparison]:
    photos = [p.read_bytes() for p in sorted(photo_set().glob("album/*.jpg"))[:PHOTOS]]
    ours_times, slow_times = [], []
    scores: dict[str, list[tuple[float, float, int, int]]] = {}
    for data in photos:
        start = time.perf_counter()
        made = render(data, "e" * 64, DEFAULT_WIDTHS, True, LIMITS)
        ours_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        slow = _slow(data, made.plan.renditions)
        slow_times.append(time.perf_counter() - start)
        full = Image.open(io.BytesIO(data)).convert("RGB")
        for rendition in made.plan.renditions:
            reference = full.resize((rendition.width, rendition.height), Image.Resampling.LANCZOS)
            ours, theirs = (Image.open(io.BytesIO(files[rendition.name])) for files in (made.files, slow))
            label = f"{rendition.width} px {rendition.media_type.split('/')[1].upper()}"
            sizes = len(made.files[rendition.name]), len(slow[rendition.name])
            scores.setdefault(label, []).append((psnr(ours, reference), psnr(theirs, reference), *sizes))
    worst = 0.0
    for label, rows in scores.items():
        ours_db, slow_db = statistics.mean(r[0] for r in rows), statistics.mean(r[1] for r in rows)
        ours_kb, slow_kb = statistics.mean(r[2] for r in rows) / 1000, statistics.mean(r[3] for r in rows) / 1000
        worst = max(worst, slow_db - ours_db)
        print(f"({label}: ours {ours_db:.2f} dB {ours_kb:.0f} kB, slow path {slow_db:.2f} dB {slow_kb:.0f} kB)")
    return [
        Comparison(
            "renditions of one photo vs full decode + Lanczos + method 4",
            statistics.median(ours_times),
            statistics.median(slow_times),
            0.5,
        ),
        Comparison("largest PSNR loss against that slow path (dB)", worst, 0.6, 1.0, unit=" dB"),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
