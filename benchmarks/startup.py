"""`python -m benchmarks.startup`: from `gallery serve --demo` on a fresh data folder to the first 200 on `/` (the
gallery, built by the first build) against the first answer of the API (`/healthz`) in the same start: how long a
newcomer looks at "The gallery is being built…". Three starts; medians. The installed script and `make serve` run
the same code; the container adds its own start to it."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Comparison
from tests.live import free_port, wait_for

STARTS = 3


def _first_ok(url: str, process: subprocess.Popen[bytes], deadline: float) -> float:
    wait_for(url, "", deadline - time.monotonic(), process, pause=0.02)  # any 200
    return time.monotonic()


def one_start() -> tuple[float, float]:
    """Seconds to the API's first answer and to the gallery's first page, from the process's start."""
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = {**os.environ, "GALLERY_DATA_DIR": str(Path(folder) / "data"), "GALLERY_JWT_SECRET": "s" * 40}
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-m", "gallery", "serve", "--demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            api = _first_ok(f"{base}/healthz", process, started + 120) - started
            page = _first_ok(f"{base}/", process, started + 120) - started
        finally:
            process.terminate()
            process.wait(timeout=20)
    return api, page


def run() -> list[Comparison]:
    starts = [one_start() for _ in range(STARTS)]
    api = statistics.median(s[0] for s in starts)
    page = statistics.median(s[1] for s in starts)
    # The first build renders the demo's sample images: a few times the API's own start is what we accept.
    return [Comparison("gallery serve --demo: first 200 on / vs on /healthz", page, api, 8.0)]


if __name__ == "__main__":
    for comparison in run():
        print(comparison.line())
