"""`python -m benchmarks` (or `make bench`): runs every benchmark and prints ratios against its baseline."""

from __future__ import annotations

import sys

from benchmarks import (
    archive,
    default_build,
    list_scale,
    live_site,
    page_weight,
    preview,
    rebuild_scale,
    rendition_quality,
    revalidate,
    static_build,
)


def main() -> int:
    results = [
        *preview.run(),
        *revalidate.run(),
        *rendition_quality.run(),
        *static_build.run(),
        *default_build.run(),
        *page_weight.run(),
        *live_site.run(),
        *archive.run(),
        *list_scale.run(),
        *rebuild_scale.run(),
    ]
    for result in results:
        print(result.line())
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
