"""The static gallery's image work: what each image needs, and making what is missing — in parallel.

Everything made is kept in a cache directory keyed by content (`<cache>/r/<rendition>`, `<cache>/o/<sha256>`),
so a rebuild with no change reads no image and renders nothing, an updated image (new
ETag) gets new names, and what the site still needs is exactly what the catalog lists now. What an image needs is
known from its catalog row (type, displayed size, transparency), so nothing is decoded to find out. Workers read
bytes from the blob store alone: they open no catalog. The site builder (`builder.py`) turns this into pages and
files.
"""

from __future__ import annotations

import functools
import io
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import BrokenExecutor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from PIL import _imaging as pillow_core

from gallery import files
from gallery.domain import errors, site_layout
from gallery.domain.model import ImageInfo
from gallery.domain.serving import extension_for
from gallery.imaging import DecodeLimits, metadata
from gallery.site.renditions import DEFAULT_WIDTHS, RenditionPlan, plan_for, render
from gallery.storage.protocols import BlobStore, read_blob

Rendering = Future[tuple[RenditionPlan, bool]]  # the plan made, and whether the picture may be see-through
# Opens the blob store where it is called: picklable, so each worker process opens its own and image bytes never
# pass through the parent (`gallery.storage.backends.BlobsOf`).
BlobOpener = Callable[[], BlobStore]


class Renders(Protocol):
    """A pool of render processes that outlives builds (`renderer.BackgroundRenders`, the living site's)."""

    def submit(
        self, image: ImageInfo, options: Options, limits: DecodeLimits, blobs: BlobOpener, cache_root: Path
    ) -> tuple[Rendering, bool]: ...

    def wait(self, futures: list[Rendering]) -> None: ...

    def taken(self, asked: list[Rendering], used: set[Rendering]) -> None: ...


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
    # Still rendering in the background when the build went on without them (`renderer.py`): tried again next build.
    deferred: list[ImageInfo] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.items)} image(s), {self.rendered} rendered, {len(self.failures)} failed"
        return text + "".join(f"\n  {i.title} ({i.resource_key}): {why}" for i, why in self.failures)


@dataclass(frozen=True)
class Options:
    """What the site holds per image besides its page: renditions (widths, WebP or not), the original, the export.

    The export (ThingsBoard's JSON, the bytes in base64) is assembled in the visitor's browser from the original
    and the fields on the page: a file per image would be a second, larger copy of every original, written on
    every cold build (a 2.4 MB photo made a 3.3 MB export)."""

    widths: tuple[int, ...] = DEFAULT_WIDTHS
    webp: bool = True
    originals: bool = True
    exports: bool = True

    def needs_original(self, image: ImageInfo, rendition_plan: RenditionPlan) -> bool:
        """SVG has no renditions: its page shows the original, so it is kept even when originals are not; nor is
        an export offered without it (the export carries the same bytes)."""
        return self.originals or not rendition_plan.renditions or self.exports_for(image)

    def exports_for(self, image: ImageInfo) -> bool:
        """An export carries the bytes and the public key: only a public image's is anybody's to download."""
        return self.exports and image.public


STAT_LOOKUPS = 64  # questions to the cache answered by a stat each, before one read of the whole directory


class Cache:
    def __init__(self, root: Path) -> None:
        self.root = root
        for part in ("r", "o"):
            (root / part).mkdir(parents=True, exist_ok=True)
        self._held: dict[str, set[str]] = {}
        self._asked: Counter[str] = Counter()

    def rendition(self, name: str) -> Path:
        return self.root / "r" / name

    def original(self, etag: str) -> Path:
        return self.root / "o" / etag

    def holds(self, part: str, name: str) -> bool:
        """Whether the cache holds `name` in `part` ("r", "o"). For the decisions taken before rendering. Past a
        few questions, from one directory read per part rather than a stat per file (a build of 10,000 images asks
        40,000 times; a living site's rebuild after one upload, a few): what this build writes then is not seen."""
        self._asked[part] += 1
        if part not in self._held and self._asked[part] <= STAT_LOOKUPS:
            return (self.root / part / name).is_file()
        if part not in self._held:
            with os.scandir(self.root / part) as entries:
                self._held[part] = {entry.name for entry in entries}
        return name in self._held[part]

    def rendered(self, rendition_plan: RenditionPlan) -> bool:
        return all(self.holds("r", r.name) for r in rendition_plan.renditions)

    def prune(self, items: Iterable[Item]) -> None:
        """Forget what no listed image uses any more (the cache must not grow forever)."""
        listed = list(items)
        _keep_only(self.root / "r", {r.name for item in listed for r in item.plan.renditions})
        _keep_only(self.root / "o", {published_original(item.image) for item in listed})


def _keep_only(folder: Path, names: set[str]) -> None:
    for path in folder.iterdir():
        if path.name not in names:
            path.unlink(missing_ok=True)


def write_atomically(path: Path, data: bytes) -> None:
    """Whole or not at all: a build stopped midway leaves no half file to publish. Not fsynced: all of it can be
    made again (a power cut costs a re-render, not a picture). Readable by all, as a site's files are (a web server
    in front of the folder may run as another user)."""
    files.write_atomically(path, io.BytesIO(data), len(data), durable=False)
    os.chmod(path, SITE_FILE_MODE)


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` unless the file holds exactly it already; True if written. An unchanged file keeps its inode
    and time, so a rebuild touches only what changed, and a new file is always a new inode: never a write through
    a hard link that another copy of the site shares."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    write_atomically(path, data)
    return True


SITE_FILE_MODE = 0o644
WORKER_IMAGE_BLOCKS = 16  # of Pillow's 16 MiB blocks, kept for reuse by a rendering worker

_worker: tuple[BlobStore, Cache] | None = None

RenderResult = Callable[[], tuple[RenditionPlan, bool]]


def _outcomes(
    pending: list[ImageInfo],
    options: Options,
    limits: DecodeLimits,
    blobs: BlobOpener,
    cache_root: Path,
    count: int,
    start_method: str | None,
    renders: Renders | None,
) -> Iterator[tuple[ImageInfo, RenderResult | None]]:
    """Each pending image with the call that gives its result: from the living site's lasting pool (`renders`;
    None for an image still rendering when the build went on), in this process when one worker would do (a
    rebuild after one upload starts no pool), else from a pool of `count` processes, in order."""
    if renders is not None:
        submitted = [(image, *renders.submit(image, options, limits, blobs, cache_root)) for image in pending]
        renders.wait([future for _, future, started in submitted if started])
        asked = [(image, future) for image, future, _ in submitted]
        used = {future for _, future in asked if future.done()}
        renders.taken([future for _, future in asked], used)
        for image, future in asked:
            yield image, (future.result if future in used else None)
        return
    if count <= 1:
        _start_worker(blobs, cache_root)
        for image in pending:
            yield image, functools.partial(work, image, options, limits)
        return
    context = multiprocessing.get_context(start_method) if start_method else None
    with ProcessPoolExecutor(
        count, context, initializer=start_pool_worker, initargs=(blobs, cache_root, os.getpid())
    ) as pool:
        futures = [(image, pool.submit(work, image, options, limits)) for image in pending]
        for image, future in futures:
            yield image, future.result


def _start_worker(blobs: BlobOpener, cache_root: Path) -> None:
    """Each worker reads bytes from the blob store itself, so they never pass through the parent process."""
    global _worker
    _worker = blobs(), Cache(cache_root)


def start_pool_worker(blobs: BlobOpener, cache_root: Path, owner: int) -> None:
    """A worker of its own also keeps Pillow's freed image memory for the next image (`PILLOW_BLOCKS_MAX`): by
    default each 6 MP decode maps fresh pages from the kernel and faults them in, a seventh of a rendering's time
    (`benchmarks/default_build.py`). Not in a caller's process (`gallery serve`), which should give memory back.

    It ends when `owner` (the process whose pool it is) does: a worker waiting for its next image never learns that
    the owner was killed (it holds both ends of its own queue), and would wait, with the forkserver it keeps alive,
    for good."""
    pillow_core.set_blocks_max(WORKER_IMAGE_BLOCKS)
    _start_worker(blobs, cache_root)
    threading.Thread(target=_end_with, args=(owner,), name="gallery-render-owner", daemon=True).start()


OWNER_CHECK_SECONDS = 1.0


def _end_with(owner: int) -> None:
    while True:
        time.sleep(OWNER_CHECK_SECONDS)
        try:
            os.kill(owner, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:
            pass  # alive, as another user: not ours to ask, but there


def work(image: ImageInfo, options: Options, limits: DecodeLimits) -> tuple[RenditionPlan, bool]:
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
    _keep_original(image, rendered.plan, options, cache, blobs, data)
    return rendered.plan, rendered.has_alpha


def placements(item: Item, options: Options) -> dict[str, str]:
    """The files an image puts in the site: site path → the file's path in the cache."""
    placed = {site_layout.rendition(r.name): f"r/{r.name}" for r in item.plan.renditions}
    if options.needs_original(item.image, item.plan):
        placed[original_path(item.image)] = f"o/{published_original(item.image)}"
    return placed


def rendition_paths(rendition_plan: RenditionPlan) -> list[str]:
    return [site_layout.rendition(r.name) for r in rendition_plan.renditions]


def published_original(image: ImageInfo) -> str:
    """The name of the original the site publishes: its public copy's (`services.privacy`: the site source has
    already put the original there when the tenant's profile publishes it as uploaded). An image stored before
    copies were kept gets one made from its original, under a name of its own: a name always means one content."""
    return image.public_original.etag if image.public_original else f"{image.etag}-public"


def original_path(image: ImageInfo) -> str:
    return site_layout.original(published_original(image), extension_for(image.original.media_type))


def _original_wanted(
    image: ImageInfo, rendition_plan: RenditionPlan, options: Options, cache: Cache, published: frozenset[str]
) -> bool:
    """Whether the site needs an original that is neither in the cache nor published yet."""
    if not options.needs_original(image, rendition_plan) or cache.holds("o", published_original(image)):
        return False
    return original_path(image) not in published


def _keep_original(
    image: ImageInfo,
    rendition_plan: RenditionPlan,
    options: Options,
    cache: Cache,
    blobs: BlobStore,
    data: bytes | None = None,
) -> None:
    """The published original in the cache: another name for the stored file where the store can give one (then
    readable by all, as the site's files are: these bytes are published), else the bytes written (read when not at
    hand). `data`: the original's bytes, when the caller has read them."""
    target = cache.original(published_original(image))
    if not options.needs_original(image, rendition_plan) or target.is_file():
        return
    copy = image.public_original
    if copy is None:  # stored before copies were kept: made here, from the original
        original = data if data is not None else read_blob(blobs, image.etag)
        write_atomically(target, metadata.public_copy(original, image.original.media_type) or original)
    elif blobs.link(copy.etag, target):
        os.chmod(target, SITE_FILE_MODE)
    else:
        write_atomically(target, data if data is not None and copy == image.original else read_blob(blobs, copy.etag))


def render_images(
    images: list[ImageInfo],
    blobs: BlobOpener,
    limits: DecodeLimits,
    cache_root: Path,
    options: Options = Options(),
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    start_method: str | None = None,
    published: frozenset[str] = frozenset(),
    prune: bool = True,
    renders: Renders | None = None,
) -> Report:
    """Make sure every image has what the site needs in the cache; render only what is missing, spread over all
    cores (workers open the blob store with `blobs`; `start_method` is multiprocessing's, for a caller with
    threads that must not be forked). A bad or missing image is reported and skipped; the rest go on.

    `published`: site paths already where the site goes (a bucket, for the publisher on AWS); a content-named file
    there counts as made, so a container with an empty cache renders only what is new.

    `prune`: forget what no image of `images` uses (when they are every image the site shows).

    `renders`: the living site's lasting pool, whose renders a build waits for only until the catalog moves."""
    cache = Cache(cache_root)
    report = Report()
    pending: list[ImageInfo] = []
    store: BlobStore | None = None
    for image in images:
        known = plan_for(image, options.widths, options.webp)
        if known is None or not (cache.rendered(known) or published.issuperset(rendition_paths(known))):
            pending.append(image)
            continue
        if _original_wanted(image, known, options, cache, published):  # made public, say: nothing to decode
            store = store or blobs()
            try:
                _keep_original(image, known, options, cache, store)
            except errors.GalleryError as exc:
                report.failures.append((image, f"its bytes cannot be read ({exc.message})"))
                continue
        report.items.append(Item(image, known))
    count = min(workers or os.cpu_count() or 1, len(pending))
    for done, (image, outcome) in enumerate(
        _outcomes(pending, options, limits, blobs, cache_root, count, start_method, renders), 1
    ):
        if outcome is None:
            report.deferred.append(image)
            continue
        try:
            rendition_plan, has_alpha = outcome()
        except errors.GalleryError as exc:
            report.failures.append((image, exc.message))
        except BrokenExecutor:
            report.failures.append((image, "rendering it stopped its worker process (out of memory?)"))
        else:
            report.items.append(Item(image, rendition_plan))
            report.rendered += 1
            if image.has_alpha is None:
                report.learnt[image.id] = has_alpha
        if progress:
            progress(done, len(pending))
    report.items.sort(key=lambda item: (-item.image.created_time, item.image.id))
    if prune and not report.deferred:  # what is still rendering is not in the cache yet, or just arrived
        cache.prune(report.items)
    return report
