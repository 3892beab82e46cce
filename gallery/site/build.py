"""The static gallery's image work: which images, what each needs, and making what is missing — in parallel.

Everything made is kept in a cache directory keyed by content (`<cache>/r/<rendition>`, `<cache>/o/<sha256>`,
`<cache>/m/<sha256>.json` for what a probe learnt), so a rebuild with no change reads no image and renders nothing,
an updated image (new ETag) gets new names, and what the site still needs is exactly what the catalog lists now.
The MkDocs plugin (`plugin.py`) turns this into pages and files.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gallery import errors
from gallery.core import Gallery
from gallery.imaging import Limits
from gallery.model import SYSTEM_TENANT_ID, ImageInfo, ImageQuery, PageQuery, SubType
from gallery.site.renditions import DEFAULT_WIDTHS, Plan, plan, probe, render
from gallery.storage.base import read_blob

_LIST_PAGE = 1000


@dataclass(frozen=True)
class Selection:
    """Which images the site shows: one tenant's (with or without system images), or the system's alone."""

    tenant_id: str | None = None
    system: bool = False
    public_only: bool = False


@dataclass(frozen=True)
class Item:
    image: ImageInfo
    plan: Plan
    has_alpha: bool

    @property
    def slug(self) -> str:
        return self.image.id


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)
    rendered: int = 0
    failures: list[tuple[ImageInfo, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.items)} image(s), {self.rendered} rendered, {len(self.failures)} failed"
        return text + "".join(f"\n  {i.title} ({i.resource_key}): {why}" for i, why in self.failures)


def select(gallery: Gallery, selection: Selection) -> list[ImageInfo]:
    """The images to publish, newest first; a tenant image shadows a system image with the same key."""
    owners = []
    if selection.tenant_id:
        owners.append(selection.tenant_id)
    if selection.system or not selection.tenant_id:
        owners.append(SYSTEM_TENANT_ID)
    found: dict[str, ImageInfo] = {}
    for owner in owners:
        for sub_type in SubType:
            for image in _all(gallery, ImageQuery(owner, sub_type)):
                if selection.public_only and not image.public:
                    continue
                found.setdefault(image.resource_key, image)
    return sorted(found.values(), key=lambda i: (-i.created_time, i.id))


def _all(gallery: Gallery, query: ImageQuery) -> Iterator[ImageInfo]:
    page = 0
    while True:
        result = gallery.storage.catalog.list_images(query, PageQuery(_LIST_PAGE, page))
        yield from result.data
        if not result.has_next:
            return
        page += 1


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for part in ("r", "o", "m"):
            (root / part).mkdir(parents=True, exist_ok=True)

    def rendition(self, name: str) -> Path:
        return self.root / "r" / name

    def original(self, etag: str) -> Path:
        return self.root / "o" / etag

    def probe_path(self, etag: str) -> Path:
        return self.root / "m" / f"{etag}.json"

    def probed(self, etag: str) -> tuple[str, int, int, bool] | None:
        try:
            media_type, width, height, alpha = json.loads(self.probe_path(etag).read_text())
        except (OSError, ValueError):
            return None
        return str(media_type), int(width), int(height), bool(alpha)

    def complete(self, etag: str, the_plan: Plan) -> bool:
        return self.original(etag).is_file() and all(self.rendition(r.name).is_file() for r in the_plan.renditions)

    def prune(self, items: Iterable[Item]) -> None:
        """Forget what no listed image uses any more (the cache must not grow forever)."""
        keep_r = {r.name for item in items for r in item.plan.renditions}
        keep_o = {item.image.etag for item in items}
        for path in (self.root / "r").iterdir():
            if path.name not in keep_r:
                path.unlink(missing_ok=True)
        for path in (self.root / "o").iterdir():
            if path.name not in keep_o:
                path.unlink(missing_ok=True)
        for path in (self.root / "m").iterdir():
            if path.stem not in keep_o:
                path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


Probe = tuple[str, int, int, bool]


def _work(data: bytes, etag: str, widths: tuple[int, ...], limits: Limits, cache_root: str) -> Probe:
    """In a worker: probe, render and store everything one image needs; returns what the probe learnt."""
    cache = Cache(Path(cache_root))
    found = probe(data, limits)
    for name, content in render(data, plan(etag, *found, widths), limits).items():
        write_atomically(cache.rendition(name), content)
    write_atomically(cache.original(etag), data)
    write_atomically(cache.probe_path(etag), json.dumps(list(found)).encode())
    return found


def build_images(
    gallery: Gallery,
    selection: Selection,
    cache_root: Path,
    widths: tuple[int, ...] = DEFAULT_WIDTHS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Make sure every selected image has its original and renditions in the cache; render only what is missing,
    spread over all cores. A bad or missing image is reported and skipped; the rest go on."""
    cache = Cache(cache_root)
    limits = gallery.images.limits
    report = Report()
    pending: list[ImageInfo] = []
    for image in select(gallery, selection):
        known = cache.probed(image.etag)
        if known is not None:
            the_plan = plan(image.etag, *known, widths)
            if cache.complete(image.etag, the_plan):
                report.items.append(Item(image, the_plan, known[3]))
                continue
        pending.append(image)
    if pending:
        count = min(workers or os.cpu_count() or 1, len(pending))
        with ProcessPoolExecutor(max_workers=count) as pool:
            # A bounded window of images in flight: bytes are read as workers free up, not all at once.
            in_flight: deque[tuple[ImageInfo, Future[Probe]]] = deque()
            queue = deque(pending)
            done = 0
            while queue or in_flight:
                while queue and len(in_flight) < 2 * count:
                    image = queue.popleft()
                    try:
                        data = read_blob(gallery.storage.blobs, image.etag)
                    except errors.GalleryError as exc:
                        report.failures.append((image, f"its bytes cannot be read ({exc.message})"))
                        continue
                    in_flight.append((image, pool.submit(_work, data, image.etag, widths, limits, str(cache_root))))
                if not in_flight:
                    break
                image, future = in_flight.popleft()
                try:
                    found = future.result()
                except errors.GalleryError as exc:
                    report.failures.append((image, exc.message))
                else:
                    report.items.append(Item(image, plan(image.etag, *found, widths), found[3]))
                    report.rendered += 1
                done += 1
                if progress:
                    progress(done, len(pending))
    report.items.sort(key=lambda item: (-item.image.created_time, item.image.id))
    cache.prune(report.items)
    return report
