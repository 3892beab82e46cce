"""`gallery export` and `gallery import` of 1,000 images, as an operator runs them (the installed command, in a
process of its own), against a baseline doing the least the same move needs, side by side in rounds:

- export vs zipping the same stored bytes as they are (no JSON, no base64): what the export format costs;
- import vs uploading the same bytes through the image service in one process (every upload rule, no file to read):
  what reading the export files costs on top of storing the images.

Peak memory is the child process's maximum resident set (`getrusage`): it must not grow with the scope.

`python -m benchmarks.archive` runs it alone.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from PIL import Image

from benchmarks.harness import Comparison
from gallery.config import Settings
from gallery.demo import as_principal
from gallery.domain.model import Authority
from gallery.wiring import Gallery

IMAGES = 1000
ROUNDS = 3
SECRET = "benchmark-secret-of-at-least-32-bytes!!"


def _photo(n: int) -> bytes:
    """A ~60 KB JPEG of its own: noise is what real photos' bytes look like to zip and base64."""
    image = Image.merge("RGB", [Image.effect_noise((400, 300), 30 + (n + k * 7) % 40) for k in range(3)])
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def _env(data: Path) -> dict[str, str]:
    return {**os.environ, "GALLERY_DATA_DIR": str(data), "GALLERY_JWT_SECRET": SECRET}


def _gallery(data: Path) -> Gallery:
    return Gallery.open(Settings.from_env(_env(data)))


def _source(work: Path, photos: list[bytes]) -> Path:
    """Tenant "Bench" with every photo, and "Tenth" with a tenth of them (to see that memory does not grow)."""
    data = work / "source"
    gallery = _gallery(data)
    for name, count in (("Bench", len(photos)), ("Tenth", len(photos) // 10)):
        tenant = gallery.accounts.create_tenant(name)
        admin = gallery.accounts.create_user(f"{name}@example.com", "benchmark", Authority.TENANT_ADMIN, tenant.id)
        for n, data_bytes in enumerate(photos[:count]):
            gallery.images.upload(as_principal(admin), f"photo-{n}.jpg", data_bytes, f"Photo {n}", None)
    gallery.close()
    return data


# `gallery …` in a process that says its own peak resident set when it ends (however it ends). VmHWM, not
# getrusage's ru_maxrss: Linux carries the parent's size at fork across exec into ru_maxrss, so in `make bench`,
# after other benchmarks had grown the parent to 455 MiB, every command "peaked" at 455 MiB.
_MEASURED = (
    "import re, runpy, sys\n"
    "sys.argv = ['gallery', *sys.argv[1:]]\n"
    "try:\n"
    "    runpy.run_module('gallery', run_name='__main__')\n"
    "finally:\n"
    "    peak = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
    "    print('@peak', peak, file=sys.stderr)\n"
)


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and the command's peak resident set in MiB."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURED, *args], env=env, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak = int(done.stderr.rsplit("@peak ", 1)[1].split()[0])
    return seconds, peak // 1024


def _zip_blobs(data: Path, out: Path) -> None:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for path in sorted((data / "blobs").rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(data).as_posix())


def _upload_all(data: Path, photos: list[bytes]) -> None:
    gallery = _gallery(data)
    tenant = gallery.accounts.create_tenant("Bench")
    admin = gallery.accounts.create_user("b@example.com", "benchmark", Authority.TENANT_ADMIN, tenant.id)
    for n, data_bytes in enumerate(photos):
        gallery.images.upload(as_principal(admin), f"photo-{n}.jpg", data_bytes, f"Photo {n}", None)
    gallery.close()


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photos = [_photo(n) for n in range(IMAGES)]
        megabytes = sum(map(len, photos)) / 2**20
        source = _source(work, photos)
        export_times, zip_times, import_times, upload_times, peaks = [], [], [], [], []
        for round_number in range(ROUNDS):
            out = work / f"bench-{round_number}.zip"
            seconds, peak = _run(["export", "--tenant", "Bench", "--out", str(out)], _env(source))
            export_times.append(seconds)
            peaks.append(("export", peak))
            start = time.perf_counter()
            _zip_blobs(source, work / f"blobs-{round_number}.zip")
            zip_times.append(time.perf_counter() - start)

            target = work / f"target-{round_number}"
            _run(["tenants", "create", "Bench"], _env(target))
            seconds, peak = _run(["import", str(out), "--tenant", "Bench"], _env(target))
            import_times.append(seconds)
            peaks.append(("import", peak))
            start = time.perf_counter()
            _upload_all(work / f"uploaded-{round_number}", photos)
            upload_times.append(time.perf_counter() - start)
        _, tenth = _run(["export", "--tenant", "Tenth", "--out", str(work / "tenth.zip")], _env(source))
        peaks.append(("export of 100", tenth))
        export_s, import_s = statistics.median(export_times), statistics.median(import_times)
        print(
            f"({IMAGES} images, {megabytes:.0f} MiB: export {IMAGES / export_s:.0f} images/s, "
            f"{megabytes / export_s:.1f} MiB/s; import {IMAGES / import_s:.0f} images/s, "
            f"{megabytes / import_s:.1f} MiB/s; zip {out.stat().st_size / 2**20:.0f} MiB; "
            f"peak memory {', '.join(f'{kind} {mib} MiB' for kind, mib in peaks)})"
        )
    return [
        Comparison("export of 1,000 images vs zipping their bytes (s)", export_s, statistics.median(zip_times), 4.0),
        Comparison("import of 1,000 images vs uploading them (s)", import_s, statistics.median(upload_times), 2.0),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
