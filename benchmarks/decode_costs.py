"""What each hostile layout costs `imaging.inspect`, before and after its cost was counted, next to a legitimate file
of the same pixels: the time and peak memory of each, in a process of its own.

"Before" is the code of a git revision (`--before`, by default the last commit before the counting), extracted into
a temporary folder and run by the same interpreter; "after" is this working tree. Each file is made once, written
to disk, and inspected by a fresh process per version (`/proc/self/status` VmHWM: the process's own peak, its
interpreter (~23 MB) and the file's bytes included). A run that takes more than `--timeout` seconds is
stopped and shown as such.

`python -m benchmarks.decode_costs` runs it alone (a few minutes: some "before" runs take a minute each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from benchmarks import hostile_images as made

BEFORE = "c5fd5cb"  # the last commit before decoding work was counted
ROOT = Path(__file__).resolve().parent.parent

MEASURE = """
import json, sys, time
from pathlib import Path
from gallery import imaging
data = Path(sys.argv[1]).read_bytes()
start = time.perf_counter()
try:
    found = imaging.inspect(data, imaging.DecodeLimits(50_000_000, 1000))
    outcome = f"accepted, {found.original.width}×{found.original.height}"
except Exception as exc:  # whatever the code of that day raises
    outcome = "refused: " + str(getattr(exc, "message", exc))
took = time.perf_counter() - start
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": took, "peak": peak * 1024, "outcome": outcome}))
"""


@dataclass(frozen=True)
class Case:
    layout: str
    hostile: Callable[[], bytes]
    legitimate: str  # what the counterpart is
    counterpart: Callable[[], bytes]


def _png(size: tuple[int, int]) -> bytes:
    return made.encode(Image.new("L", size, 100), "PNG")


def _shapes() -> bytes:
    return made.svg_shapes(100_000)


CASES = [
    Case(
        "JPEG 7000×7000 grey, smallest scan ×2,000",
        lambda: made.repeated_scan((7000, 7000), 2000),
        "progressive, 6 scans",
        lambda: made.progressive((7000, 7000)),
    ),
    Case(
        "JPEG 5000×4000 colour, first scan ×60",
        lambda: made.repeated_scan((5000, 4000), 60, "RGB", "first", subsampling=0),
        "progressive, 10 scans",
        lambda: made.progressive((5000, 4000), "RGB", subsampling=0),
    ),
    Case(
        "MPO: 3 pictures at one 4000×4000 of 46 scans",
        lambda: made.multi_picture(made.small_jpeg(), made.repeated_scan((4000, 4000), 40), 3),
        "4000×4000 progressive, alone",
        lambda: made.progressive((4000, 4000)),
    ),
    Case(
        "JPEG 64×48, 1,000,000 empty comments",
        lambda: made.jpeg_with_segments(1_000_000),
        "64×48",
        made.small_jpeg,
    ),
    Case("JPEG 64×48, 5 MB of 0xFF fill", lambda: made.jpeg_with_fill(5_000_000), "64×48", made.small_jpeg),
    Case(
        "PNG 64×48, 3,000,000 empty chunks",
        lambda: made.png_with_chunks(3_000_000),
        "64×48",
        lambda: _png((64, 48)),
    ),
    Case(
        "PNG 2000×2000 in 1-byte IDAT chunks",
        lambda: made.png_in_pieces((2000, 2000), 1),
        "one IDAT chunk",
        lambda: made.png_in_pieces((2000, 2000), 1 << 24),
    ),
    Case(
        "PNG 64×48, eXIf: 60 entries naming 10 MB",
        lambda: made.png_with_exif(made.exif_naming_one_value(60, 10_000_000)),
        "64×48",
        lambda: _png((64, 48)),
    ),
    Case(
        "PNG 7000×7000, Adam7-interlaced",
        lambda: made.interlaced_png((7000, 7000)),
        "not interlaced",
        lambda: made.png_in_pieces((7000, 7000), 1 << 16),
    ),
    Case(
        "WebP 64×48, 3,000,000 empty chunks",
        lambda: made.webp_with_chunks(3_000_000),
        "64×48",
        lambda: made.webp_with_chunks(0),
    ),
    Case(
        "TIFF 1000 one-pixel pages naming one 40 MB value",
        lambda: made.tiff_naming_one_value(1000, 40_000_000),
        "1000 one-pixel pages",
        lambda: made.tiff([(1, 1)] * 1000),
    ),
    Case(
        "TIFF 7000×7000 in 16×16 tiles",
        lambda: made.tiled_tiff((7000, 7000), 16),
        "in 256×256 tiles",
        lambda: made.tiled_tiff((7000, 7000), 256),
    ),
    Case(
        "TIFF, 3 directories of 30,000 entries",
        lambda: made.tiff_of_many_entries(3, 30_000),
        "3 directories of 9 entries",
        lambda: made.tiff_of_many_entries(3, 0),
    ),
    Case(
        "BMP 7000×3500 run-length, one pixel a run",
        lambda: made.run_length_bmp((7000, 3500), made.one_pixel_runs((7000, 3500))),
        "runs of 255",
        lambda: made.run_length_bmp((7000, 3500), made.long_runs((7000, 3500))),
    ),
    Case(
        "BMP 7000×7000, 4-bit run-length",
        lambda: made.run_length_bmp((7000, 7000), made.long_runs((7000, 7000)), bits=4),
        "8-bit run-length",
        lambda: made.run_length_bmp((7000, 7000), made.long_runs((7000, 7000))),
    ),
    Case(
        "ICO entry: 1000×1000 of one-pixel runs",
        lambda: made.ico_of_runs((1000, 1000), made.one_pixel_runs((1000, 1000))),
        "runs of 255",
        lambda: made.ico_of_runs((1000, 1000), made.long_runs((1000, 1000))),
    ),
    Case(
        "SVG, 14 MB of nested groups",
        lambda: made.svg_groups(2_000_000),
        "100,000 shapes",
        lambda: made.svg_shapes(100_000),
    ),
    Case(
        "SVG, 42 MB of nested groups",
        lambda: made.svg_groups(6_000_000),
        "100,000 shapes",
        lambda: made.svg_shapes(100_000),
    ),
    Case(
        "SVG, 300,000 sibling shapes",
        lambda: made.svg_shapes(300_000),
        "100,000 shapes",
        lambda: made.svg_shapes(100_000),
    ),
]


def _extract(revision: str, into: Path) -> Path:
    archive = subprocess.run(["git", "archive", revision, "gallery"], cwd=ROOT, check=True, capture_output=True)
    with tarfile.open(fileobj=__import__("io").BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def _inspect(file: Path, code: Path, timeout: float) -> dict[str, object]:
    """`imaging.inspect` of `file` by the `gallery` package found in `code` (run from there: it comes first)."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-c", MEASURE, str(file)], cwd=code, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"seconds": time.perf_counter() - started, "peak": None, "outcome": f"stopped after {timeout:g} s"}
    if done.returncode != 0:
        return {"seconds": time.perf_counter() - started, "peak": None, "outcome": f"crashed: {done.stderr[-200:]}"}
    return dict(json.loads(done.stdout))


def _cell(run: dict[str, object]) -> str:
    peak = run["peak"]
    memory = f"{peak / 2**20:,.0f} MB" if isinstance(peak, int) else "—"
    return f"{float(run['seconds']):.2f} s, {memory}"  # type: ignore[arg-type]


def _verdict(run: dict[str, object]) -> str:
    outcome = str(run["outcome"])
    return outcome if len(outcome) < 90 else outcome[:87] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' code")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="decode-costs-") as work:
        before = _extract(args.before, Path(work) / "before")
        print(f"inspect() of each file in a process of its own; before: {args.before}, after: this tree")
        print("| layout | size | before | after | after says | legitimate, same pixels | its cost |")
        print("|---|---|---|---|---|---|---|")
        for number, case in enumerate(CASES):
            hostile, legit = Path(work) / f"{number}-hostile", Path(work) / f"{number}-legit"
            hostile.write_bytes(case.hostile())
            legit.write_bytes(case.counterpart())
            old = _inspect(hostile, before, args.timeout)
            new = _inspect(hostile, ROOT, args.timeout)
            ordinary = _inspect(legit, ROOT, args.timeout)
            size = hostile.stat().st_size
            shown = f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} KB"
            print(
                f"| {case.layout} | {shown} | {_cell(old)} | {_cell(new)} | {_verdict(new)} | "
                f"{case.legitimate} | {_cell(ordinary)} |",
                flush=True,
            )
            hostile.unlink()
            legit.unlink()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
