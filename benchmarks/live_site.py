"""How soon an upload shows on `/` while `gallery serve` keeps the static gallery current, with 1, 100 and 1,000
images in the tenant's gallery.

A real `gallery serve` process on loopback; a client signs in, uploads a small PNG through the API and, from the
moment the upload's 200 arrives, polls `/` until the new title is on it. The promise is the issue's absolute 3 s at
1,000 images, so the baseline is that budget. What each background build wrote is read from the server's log.

`python -m benchmarks.live_site` runs it alone.
"""

from __future__ import annotations

import io
import os
import re
import statistics
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from PIL import Image

from benchmarks.harness import Comparison
from benchmarks.serving import EMAIL, PASSWORD, SECRET, Served, multipart

SIZES = (1, 100, 1000)
PROBES = 5  # uploads timed per gallery size
BUDGET = 3.0  # seconds from the upload's 200 to the image on `/`, at 1,000 images


def _png(n: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48 + n % 17, 32 + n % 13), (n * 37 % 256, n * 11 % 256, 160)).save(out, "PNG")
    return out.getvalue()


def _catalog(data: Path, count: int) -> None:
    """A tenant with `count` small images, uploaded through the image service."""
    from gallery.config import Settings
    from gallery.demo import as_principal
    from gallery.domain.model import Authority
    from gallery.wiring import Gallery

    gallery = Gallery.open(Settings.from_env({"GALLERY_DATA_DIR": str(data), "GALLERY_JWT_SECRET": SECRET}))
    tenant = gallery.accounts.create_tenant("Bench")
    admin = as_principal(gallery.accounts.create_user(EMAIL, PASSWORD, Authority.TENANT_ADMIN, tenant.id))
    for n in range(count):
        gallery.images.upload(admin, f"image-{n}.png", _png(n), f"Image {n}", None)
    gallery.close()


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def _wait_for(url: str, text: bytes, seconds: float) -> float:
    start = time.perf_counter()
    while text not in _get(url):
        if time.perf_counter() - start > seconds:
            raise RuntimeError(f"{text!r} not on {url} after {seconds} s")
        time.sleep(0.01)
    return time.perf_counter() - start


def _upload(base: str, token: str, n: int, title: str) -> None:
    body, form = multipart(f"probe-{n}.png", _png(1000 + n), {"title": title})
    headers = {**form, "X-Authorization": f"Bearer {token}"}
    urllib.request.urlopen(urllib.request.Request(f"{base}/api/image", data=body, headers=headers), timeout=30).close()


def _one_size(work: Path, count: int) -> tuple[list[float], list[int]]:
    """Upload-to-visible times and files written per upload, for a gallery of `count` images."""
    data, site = work / f"data-{count}", work / f"site-{count}"
    _catalog(data, count)
    env = {**os.environ, "GALLERY_DATA_DIR": str(data), "GALLERY_SITE_DIR": str(site), "GALLERY_JWT_SECRET": SECRET}
    server = Served(data, env, ("--tenant", "Bench"))
    server.start()
    try:
        deadline = time.monotonic() + 300
        while True:  # the first build done (it renders every image; until then `/` is a 404)
            try:
                if f"Image {count - 1}".encode() in _get(f"{server.url}/"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(server.log.read_text())
            time.sleep(0.2)
        token = server.token()
        times = []
        for n in range(PROBES):
            title = f"Probe {uuid.uuid4().hex[:8]}"
            _upload(server.url, token, n, title)
            times.append(_wait_for(f"{server.url}/", title.encode(), 60))
            time.sleep(0.5)  # let the build finish before the next upload
    finally:
        server.stop()
    written = [int(m) for m in re.findall(r"(\d+) file\(s\) written", server.log.read_text())][1:]  # after the first
    return times, written


def run() -> list[Comparison]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in SIZES:
            times, written = _one_size(Path(tmp), count)
            median = statistics.median(times)
            print(
                f"(gallery of {count}: upload to visible {', '.join(f'{t:.2f}' for t in times)} s, "
                f"median {median:.2f} s; files written per upload {written})"
            )
            results.append(Comparison(f"upload visible on / at {count} images (s)", median, BUDGET, 1.0))
    return results


if __name__ == "__main__":
    for result in run():
        print(result.line())
