"""The build a user runs, as they would compare it: our defaults against sigal's, cold, on 120 photos.

120 of the synthetic 3000×2000 JPEGs (`static_build.photo_set`) uploaded into tenant T of a fresh embedded gallery.
Ours: `gallery build --tenant T --out DIR --clean --cache EMPTY`, every default (responsive WebP widths with their
fallback, the original, the download, one page per image). Sigal: `sigal build` with the config `sigal init`
writes. Both from an empty output (and, for ours, an empty rendition cache), each the installed command in a
process of its own, rounds alternating. Promise: ours ≥ 1.5× sigal's images/s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Comparison
from benchmarks.static_build import photo_set

PHOTOS = 120
ROUNDS = 3
SECRET = "benchmark-secret-of-at-least-32-bytes!!"


def _gallery(work: Path, photos: list[Path]) -> dict[str, str]:
    """Tenant T holding the photos, in a gallery of its own; returns the environment that names it."""
    from gallery.config import Settings
    from gallery.demo import as_principal
    from gallery.domain.model import Authority
    from gallery.wiring import Gallery

    env = {"GALLERY_DATA_DIR": str(work / "data"), "GALLERY_JWT_SECRET": SECRET}
    gallery = Gallery.open(Settings.from_env(env))
    tenant = gallery.accounts.create_tenant("T")
    admin = gallery.accounts.create_user("t@example.com", "benchmark", Authority.TENANT_ADMIN, tenant.id)
    for path in photos:
        gallery.images.upload(as_principal(admin), path.name, path.read_bytes(), None, None)
    gallery.close()
    return env


def _script(name: str) -> str:
    """The installed console script beside this interpreter, as a user's shell finds it."""
    return str(Path(sys.executable).with_name(name))


def _timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, env={**os.environ, **env}, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def measure(rounds: int = ROUNDS) -> tuple[list[float], list[float]]:
    """Seconds per cold build, ours and sigal's, alternating."""
    photos = sorted(photo_set().resolve().glob("album/*.jpg"))[:PHOTOS]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = _gallery(work, photos)
        album = work / "pictures" / "album"
        album.mkdir(parents=True)
        for path in photos:
            os.link(path, album / path.name) if path.stat().st_dev == work.stat().st_dev else shutil.copy(path, album)
        subprocess.run([_script("sigal"), "init"], cwd=work, check=True, capture_output=True)
        out, cache = work / "site", work / "cache"
        ours = [_script("gallery"), "build", "--tenant", "T", "--out", str(out), "--clean", "--cache", str(cache)]
        sigal = [_script("sigal"), "build", str(work / "pictures"), str(work / "sigal-out")]
        ours_times, sigal_times = [], []
        for _ in range(rounds):
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
            ours_times.append(_timed(ours, env, work))
            shutil.rmtree(work / "sigal-out", ignore_errors=True)
            sigal_times.append(_timed(sigal, {}, work))
    return ours_times, sigal_times


def run() -> list[Comparison]:
    ours, sigal = measure()
    print(f"(default cold build, {PHOTOS} photos: ours {_rounds(ours)} s, sigal {_rounds(sigal)} s)")
    return [
        Comparison(
            f"default cold build, {PHOTOS} JPEGs 3000x2000 (images/s)",
            PHOTOS / statistics.median(ours),
            PHOTOS / statistics.median(sigal),
            1.5,
            higher_is_better=True,
        )
    ]


def _rounds(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    for result in run():
        print(result.line())
