"""The static gallery's image work: what each image needs, and making what is missing — in parallel.

Everything made is kept in a cache directory keyed by content (`<cache>/r/<rendition>`, `<cache>/o/<sha256>`,
`<cache>/x/<export>.json`), so a rebuild with no change reads no image and renders nothing, an updated image (new
ETag) gets new names, and what the site still needs is exactly what the catalog lists now. What an image needs is
known from its catalog row (type, displayed size, transparency), so nothing is decoded to find out. Workers read
bytes from the blob store alone: they open no catalog. The MkDocs plugin (`plugin.py`) turns this into pages and
files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.model import ImageInfo
from gallery.imaging import DecodeLimits
from gallery.services.transfer import export_data
from gallery.site.renditions import DEFAULT_WIDTHS, RenditionPlan, plan_for, render
from gallery.storage import files
from gallery.storage.backends import open_blobs
from gallery.storage.protocols import BlobStore, read_blob


@dataclass(frozen=True)
class Item:
    image: ImageInfo
    plan: RenditionPlan

    @property
    def slug(self) -> str:
        return self.image.id


@dataclass
class Report:
    items: list[Item] = field(default_factory=list)
    rendered: int = 0
    failures: list[tuple[ImageInfo, str]] = field(default_factory=list)
    # What rendering learnt of images whose rows did not say whether they are see-through: id → has_alpha.
    learnt: dict[str, bool] = field(default_factory=dict)

    def summary(self) -> str:
        text = f"{len(self.items)} image(s), {self.rendered} rendered, {len(self.failures)} failed"
        return text + "".join(f"\n  {i.title} ({i.resource_key}): {why}" for i, why in self.failures)


@dataclass(frozen=True)
class Options:
    """What the site holds per image besides its page: renditions (widths, WebP or not), the original, the export."""

    widths: tuple[int, ...] = DEFAULT_WIDTHS
    webp: bool = True
    originals: bool = True
    exports: bool = True

    def needs_original(self, rendition_plan: RenditionPlan) -> bool:
        """SVG has no renditions: its page shows the original, so it is kept even when originals are not."""
        return self.originals or not rendition_plan.renditions

    def exports_for(self, image: ImageInfo) -> bool:
        """An export carries the bytes and the public key: only a public image's is anybody's to download."""
        return self.exports and image.public


def export_id(image: ImageInfo) -> str:
    """Names the export file in the cache: it changes when the bytes or anything the export carries changes."""
    fields = [image.etag, image.title, image.resource_key, image.file_name, image.public_key, str(image.public)]
    return hashlib.sha256("\0".join([*fields, image.sub_type.value]).encode()).hexdigest()[:24]


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for part in ("r", "o", "x"):
            (root / part).mkdir(parents=True, exist_ok=True)
        shutil.rmtree(root / "m", ignore_errors=True)  # what probes learnt, before the catalog kept it

    def rendition(self, name: str) -> Path:
        return self.root / "r" / name

    def original(self, etag: str) -> Path:
        return self.root / "o" / etag

    def export(self, name: str) -> Path:
        return self.root / "x" / f"{name}.json"

    def complete(self, image: ImageInfo, rendition_plan: RenditionPlan, options: Options) -> bool:
        if options.needs_original(rendition_plan) and not self.original(image.etag).is_file():
            return False
        if options.exports_for(image) and not self.export(export_id(image)).is_file():
            return False
        return all(self.rendition(r.name).is_file() for r in rendition_plan.renditions)

    def prune(self, items: Iterable[Item], options: Options) -> None:
        """Forget what no listed image uses any more (the cache must not grow forever)."""
        listed = list(items)
        _keep_only(self.root / "r", {r.name for item in listed for r in item.plan.renditions})
        _keep_only(self.root / "o", {item.image.etag for item in listed})
        _keep_only(self.root / "x", {f"{export_id(i.image)}.json" for i in listed if options.exports_for(i.image)})


def _keep_only(folder: Path, names: set[str]) -> None:
    for path in folder.iterdir():
        if path.name not in names:
            path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Whole or not at all: a build stopped midway leaves no half file to publish. Not fsynced: all of it can be
    made again (a power cut costs a re-render, not a picture)."""
    files.write_atomically(path, io.BytesIO(data), len(data), durable=False)


_worker: tuple[BlobStore, Cache] | None = None


def _start_worker(settings: Settings, cache_root: Path) -> None:
    """Each worker reads bytes from the blob store itself, so they never pass through the parent process."""
    global _worker
    _worker = open_blobs(settings), Cache(cache_root)


def _work(image: ImageInfo, options: Options, limits: DecodeLimits) -> tuple[RenditionPlan, bool]:
    """In a worker: read the bytes, render and store all one image needs; returns its plan and transparency."""
    assert _worker is not None
    blobs, cache = _worker
    try:
        data = read_blob(blobs, image.etag)
    except errors.GalleryError as exc:
        raise errors.NotFound(f"its bytes cannot be read ({exc.message})") from None
    rendered = render(data, image.etag, options.widths, options.webp, limits)
    for name, content in rendered.files.items():
        write_atomically(cache.rendition(name), content)
    if options.needs_original(rendered.plan):
        write_atomically(cache.original(image.etag), data)
    if options.exports_for(image):
        write_atomically(cache.export(export_id(image)), json.dumps(export_data(image, data)).encode())
    return rendered.plan, rendered.has_alpha


def render_images(
    images: list[ImageInfo],
    settings: Settings,
    limits: DecodeLimits,
    cache_root: Path,
    options: Options = Options(),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Make sure every image has what the site needs in the cache; render only what is missing, spread over all
    cores (workers open the blob store `settings` names). A bad or missing image is reported and skipped; the rest
    go on."""
    cache = Cache(cache_root)
    report = Report()
    pending: list[ImageInfo] = []
    for image in images:
        known = plan_for(image, options.widths, options.webp)
        if known is not None and cache.complete(image, known, options):
            report.items.append(Item(image, known))
        else:
            pending.append(image)
    if pending:
        count = min(workers or os.cpu_count() or 1, len(pending))
        with ProcessPoolExecutor(count, initializer=_start_worker, initargs=(settings, cache_root)) as pool:
            futures = [(image, pool.submit(_work, image, options, limits)) for image in pending]
            for done, (image, future) in enumerate(futures, start=1):
                try:
                    rendition_plan, has_alpha = future.result()
                except errors.GalleryError as exc:
                    report.failures.append((image, exc.message))
                else:
                    report.items.append(Item(image, rendition_plan))
                    report.rendered += 1
                    if image.has_alpha is None:
                        report.learnt[image.id] = has_alpha
                if progress:
                    progress(done, len(pending))
    report.items.sort(key=lambda item: (-item.image.created_time, item.image.id))
    cache.prune(report.items, options)
    return report
