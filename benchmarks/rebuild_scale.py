"""A rebuild of the static gallery with 10,000 images: with no change (`gallery build`'s path, against the 2 s the
issue asks), and `gallery serve`'s living rebuild after one upload at 10,000 images against the same at 1,000 (it
should not grow with the gallery). Small images, made through the image service; builds in this process.

`python -m benchmarks.rebuild_scale` runs it alone.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.harness import Comparison
from benchmarks.live_site import _catalog, _png
from benchmarks.serving import EMAIL, SECRET

SIZES = (1_000, 10_000)
ROUNDS = 5
BUDGET = 2.0


def _measure(work: Path, count: int) -> tuple[float, float]:
    """(no-change rebuild, rebuild after one upload), medians, seconds."""
    from gallery.config import Settings
    from gallery.demo import as_principal
    from gallery.domain.model import PageQuery
    from gallery.site.build import builder_for, selection_for
    from gallery.site.builder import BuildRun, SiteOptions
    from gallery.site.live import LiveSite
    from gallery.wiring import Gallery

    data = work / f"data-{count}"
    _catalog(data, count)
    os.environ.update({"GALLERY_DATA_DIR": str(data), "GALLERY_JWT_SECRET": SECRET})
    gallery = Gallery.open(Settings.from_env())
    builder = builder_for(gallery, SiteOptions(selection_for(gallery, "Bench", system=True)))
    live = LiveSite(work / f"site-{count}", builder, gallery.site.change_count)
    live.rebuild()  # the first build renders everything
    plain = work / f"plain-{count}"
    run = BuildRun(start_method="forkserver")
    builder.build(plain, run)
    no_change = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        state = builder.build(plain, run)
        no_change.append(time.perf_counter() - start)
        assert not state.written, state.written[:5]
    admin = next(u for u in gallery.accounts.list_users(None, PageQuery(10, 0)).data if u.email == EMAIL)
    one = []
    for n in range(ROUNDS):
        gallery.images.upload(as_principal(admin), f"new-{n}.png", _png(90_000 + n), f"New {n}", None)
        one.append(live.rebuild().seconds)
    gallery.close()
    return statistics.median(no_change), statistics.median(one)


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        saved = dict(os.environ)
        try:
            results = {count: _measure(Path(tmp), count) for count in SIZES}
        finally:
            os.environ.clear()
            os.environ.update(saved)
    (small_none, small_one), (large_none, large_one) = results[SIZES[0]], results[SIZES[1]]
    print(
        f"(rebuilds, no change / one upload: {SIZES[0]:,} images {small_none:.2f} / {small_one:.2f} s, "
        f"{SIZES[1]:,} images {large_none:.2f} / {large_one:.2f} s)"
    )
    return [
        Comparison("no-change build of 10,000 images (s)", large_none, BUDGET, 1.0),
        Comparison("one-upload living rebuild, 10,000 vs 1,000 images (s)", large_one, small_one, 2.0),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
