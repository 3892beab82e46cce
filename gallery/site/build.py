"""The static gallery's image work: which images, what each needs, and making what is missing — in parallel.

Everything made is kept in a cache directory keyed by content (`<cache>/r/<rendition>`, `<cache>/o/<sha256>`,
`<cache>/m/<sha256>.json` for what a probe learnt), so a rebuild with no change reads no image and renders nothing,
an updated image (new ETag) gets new names, and what the site still needs is exactly what the catalog lists now.
The MkDocs plugin (`plugin.py`) turns this into pages and files.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID, ImageInfo, ImageQuery, PageQuery, SubType
from gallery.imaging import DecodeLimits
from gallery.services.transfer import export_data
from gallery.site.renditions import DEFAULT_WIDTHS, Plan, Probe, make, plan
from gallery.storage import open_storage
from gallery.storage.local import files
from gallery.storage.protocols import BlobStore, read_blob
from gallery.wiring import Gallery

_LIST_PAGE = 1000


@dataclass(frozen=True)
class Selection:
    """Which images the site shows: one tenant's (with or without system images), or the system's alone; public
    ones only unless `include_private` (the site is for anonymous visitors: it holds nothing the API would refuse
    them without a login)."""

    tenant_id: str | None = None
    system: bool = False
    include_private: bool = False


@dataclass(frozen=True)
class Item:
    image: ImageInfo
    plan: Plan

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
                if not (image.public or selection.include_private):
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
        for part in ("r", "o", "m", "x"):
            (root / part).mkdir(parents=True, exist_ok=True)

    def rendition(self, name: str) -> Path:
        return self.root / "r" / name

    def original(self, etag: str) -> Path:
        return self.root / "o" / etag

    def probe_path(self, etag: str) -> Path:
        return self.root / "m" / f"{etag}.json"

    def probed(self, etag: str) -> Probe | None:
        try:
            media_type, width, height, alpha = json.loads(self.probe_path(etag).read_text())
        except (OSError, ValueError):
            return None
        return str(media_type), int(width), int(height), bool(alpha)

    def export(self, name: str) -> Path:
        return self.root / "x" / f"{name}.json"

    def complete(self, image: ImageInfo, the_plan: Plan, options: Options) -> bool:
        if options.needs_original(the_plan) and not self.original(image.etag).is_file():
            return False
        if options.exports_for(image) and not self.export(export_id(image)).is_file():
            return False
        return all(self.rendition(r.name).is_file() for r in the_plan.renditions)

    def prune(self, items: Iterable[Item], options: Options) -> None:
        """Forget what no listed image uses any more (the cache must not grow forever)."""
        listed = list(items)
        etags = {item.image.etag for item in listed}
        _keep_only(self.root / "r", {r.name for item in listed for r in item.plan.renditions})
        _keep_only(self.root / "o", etags)
        _keep_only(self.root / "m", {f"{etag}.json" for etag in etags})
        _keep_only(self.root / "x", {f"{export_id(i.image)}.json" for i in listed if options.exports_for(i.image)})


def _keep_only(folder: Path, names: set[str]) -> None:
    for path in folder.iterdir():
        if path.name not in names:
            path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Whole or not at all, by the local storage's writer: a build stopped midway leaves no half file to publish."""
    files.write_atomically(path, io.BytesIO(data), len(data))


@dataclass(frozen=True)
class Options:
    """What the site holds per image besides its page: renditions (widths, WebP or not), the original, the export."""

    widths: tuple[int, ...] = DEFAULT_WIDTHS
    webp: bool = True
    originals: bool = True
    exports: bool = True

    def needs_original(self, the_plan: Plan) -> bool:
        """SVG has no renditions: its page shows the original, so it is kept even when originals are not."""
        return self.originals or not the_plan.renditions

    def exports_for(self, image: ImageInfo) -> bool:
        """An export carries the bytes and the public key: only a public image's is anybody's to download."""
        return self.exports and image.public


def export_id(image: ImageInfo) -> str:
    """Names the export file in the cache: it changes when the bytes or anything the export carries changes."""
    fields = [image.etag, image.title, image.resource_key, image.file_name, image.public_key, str(image.public)]
    return hashlib.sha256("\0".join([*fields, image.sub_type.value]).encode()).hexdigest()[:24]


_worker: tuple[BlobStore, Cache] | None = None


def _start_worker(settings: Settings, cache_root: Path) -> None:
    """Each worker reads bytes from storage itself, so they never pass through the parent process."""
    global _worker
    _worker = open_storage(settings).blobs, Cache(cache_root)


def _work(image: ImageInfo, options: Options, limits: DecodeLimits) -> Probe:
    """In a worker: read the bytes, probe, render and store all one image needs; returns what the probe learnt."""
    assert _worker is not None
    blobs, cache = _worker
    try:
        data = read_blob(blobs, image.etag)
    except errors.GalleryError as exc:
        raise errors.NotFound(f"its bytes cannot be read ({exc.message})") from None
    found, the_plan, made = make(data, image.etag, options.widths, options.webp, limits)
    for name, content in made.items():
        write_atomically(cache.rendition(name), content)
    if options.needs_original(the_plan):
        write_atomically(cache.original(image.etag), data)
    if options.exports_for(image):
        write_atomically(cache.export(export_id(image)), json.dumps(export_data(image, data)).encode())
    write_atomically(cache.probe_path(image.etag), json.dumps(list(found)).encode())
    return found


def build_images(
    gallery: Gallery,
    selection: Selection,
    cache_root: Path,
    options: Options = Options(),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Make sure every selected image has what the site needs in the cache; render only what is missing, spread
    over all cores. A bad or missing image is reported and skipped; the rest go on."""
    cache = Cache(cache_root)
    limits = gallery.images.decode_limits
    report = Report()
    pending: list[ImageInfo] = []
    for image in select(gallery, selection):
        known = cache.probed(image.etag)
        if known is not None:
            the_plan = plan(image.etag, *known, options.widths, options.webp)
            if cache.complete(image, the_plan, options):
                report.items.append(Item(image, the_plan))
                continue
        pending.append(image)
    if pending:
        count = min(workers or os.cpu_count() or 1, len(pending))
        with ProcessPoolExecutor(count, initializer=_start_worker, initargs=(gallery.settings, cache_root)) as pool:
            futures = [(image, pool.submit(_work, image, options, limits)) for image in pending]
            for done, (image, future) in enumerate(futures, start=1):
                try:
                    found = future.result()
                except errors.GalleryError as exc:
                    report.failures.append((image, exc.message))
                else:
                    report.items.append(Item(image, plan(image.etag, *found, options.widths, options.webp)))
                    report.rendered += 1
                if progress:
                    progress(done, len(pending))
    report.items.sort(key=lambda item: (-item.image.created_time, item.image.id))
    cache.prune(report.items, options)
    return report
