"""Page weight of the static index at 10,000 images, against the naive index that lists every image on one page.

A catalog of 10,000 small images is built with `gallery build`; we weigh what a browser fetches for the first view
(the HTML of the first index page, its card images' count) and what search downloads on first use (`gallery.json`,
gzipped as a CDN serves it). The baseline is the same theme's card markup for all 10,000 images in one page.
Promise: the first page weighs at most 2% of the naive one.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from benchmarks.harness import Comparison

IMAGES = 10_000


def _catalog(data_dir: Path) -> None:
    from gallery.config import Settings
    from gallery.domain.model import SYSTEM_TENANT_ID, Descriptor, ImageInfo, SubType
    from gallery.services.images import new_public_key
    from gallery.wiring import Gallery

    gallery = Gallery.open(Settings.from_env({}, data_dir=data_dir, jwt_secret="page-weight-secret-of-32-bytes!!"))
    for n in range(IMAGES):
        out = io.BytesIO()
        Image.new("RGB", (48, 32), (n % 256, (n // 256) % 256, 90)).save(out, "PNG")
        data = out.getvalue()
        etag = hashlib.sha256(data).hexdigest()
        gallery.storage.blobs.put(etag, data)
        descriptor = Descriptor("image/png", 48, 32, len(data), etag)
        image = ImageInfo(
            id=f"00000000-0000-4000-8000-{n:012d}",
            tenant_id=SYSTEM_TENANT_ID,
            resource_key=f"icon-{n:05d}.png",
            title=f"Icon number {n}",
            file_name=f"icon-{n:05d}.png",
            sub_type=SubType.IMAGE,
            public=True,
            public_key=new_public_key(),
            original=descriptor,
            preview=descriptor,
            created_time=1_700_000_000_000 + n,
            updated_time=1_700_000_000_000 + n,
        )
        gallery.storage.catalog.insert_image(image, 0)
    gallery.close()


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _catalog(work / "data")
        (work / "docs").mkdir()
        (work / "mkdocs.yml").write_text(
            "site_name: Weight\ndocs_dir: docs\nsite_dir: site\ntheme:\n  name: gallery\n"
            "plugins:\n  - gallery:\n      system: true\n      progress: false\n"
        )
        env = {
            **os.environ,
            "GALLERY_DATA_DIR": str(work / "data"),
            "GALLERY_JWT_SECRET": "page-weight-secret-of-32-bytes!!",
        }
        start = time.perf_counter()
        command = [
            sys.executable,
            "-m",
            "gallery",
            "build",
            "--config",
            str(work / "mkdocs.yml"),
            "--out",
            str(work / "site"),
        ]
        subprocess.run(command, env=env, check=True, capture_output=True)
        elapsed = time.perf_counter() - start
        index = (work / "site" / "index.html").read_text()
        cards = re.findall(r'<li class="card.*?</li>', index, re.S)
        naive = len(index) + (IMAGES - len(cards)) * sum(len(c) for c in cards) // len(cards)
        search = gzip.compress((work / "site" / "gallery.json").read_bytes())
        pages = len(list((work / "site" / "page").iterdir())) + 1
    print(
        f"(10,000 images: full build {elapsed:.1f} s; first page {len(index) / 1024:.1f} KiB HTML with {len(cards)} "
        f"cards of {pages} pages; gallery.json {len(search) / 1024:.0f} KiB gzipped, fetched on first search)"
    )
    return [Comparison("index first page at 10,000 images", len(index), naive, 0.02, unit=" B")]


if __name__ == "__main__":
    for result in run():
        print(result.line())
