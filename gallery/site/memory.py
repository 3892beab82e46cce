"""What a living site's last build made, kept in the serving process (`live.py`) for its next build: with the
catalog's change log, that build reads, plans, renders and checks only the images changed since, so one upload
costs the same in a gallery of 1,000 images or of 10,000.

A build with an empty memory reads everything, as `gallery build` always does: a living site's first build, the
first after a failed one, and any whose selection, options, cache or links differ from the last build's (`Frame`).
What is remembered is what the last build left in the site it built; `live.py` forgets it when the site it
rebuilds is another (a build failed, or another process swapped in its own).
"""

from __future__ import annotations

import bisect
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

from gallery.domain import site_layout
from gallery.domain.model import ImageInfo
from gallery.imaging import DecodeLimits
from gallery.services.site_source import Selection, SiteChanges, shown
from gallery.site import contexts
from gallery.site.render import Item, Options, Report, placements


class ImageSource(Protocol):
    """What a build reads of the catalog (`gallery.services.site_source.SiteSource`)."""

    decode_limits: DecodeLimits

    def candidates(self, selection: Selection) -> Iterator[ImageInfo]: ...

    def cursor(self) -> int | None: ...

    def changes(self, selection: Selection, cursor: int) -> SiteChanges | None: ...

    def record_alpha(self, learnt: dict[str, bool], images: Iterable[ImageInfo]) -> int: ...


@dataclass(frozen=True)
class Frame:
    """What a build is made with besides the catalog: a build with another frame starts from nothing."""

    selection: Selection
    options: Options
    cache_root: Path
    api_url: str
    site_url: str
    page_size: int


@dataclass(frozen=True)
class Card:
    """An image's card, and its JSON text as `gallery.json` lists it (made once per change, not per build)."""

    fields: dict[str, object]
    text: str

    @property
    def tags(self) -> list[str]:
        return cast("list[str]", self.fields.get("g", []))

    @property
    def system(self) -> bool:
        return bool(self.fields["s"])


class Shelf:
    """What a site shows of the images its selection admits (`shown`'s choice among those with one key), kept up
    to date change by change: a change costs the keys it touches, not a sort of the gallery."""

    def __init__(self) -> None:
        self.by_key: dict[str, dict[str, ImageInfo]] = {}  # resource key → the admitted images with it, by id
        self.showing: dict[str, str] = {}  # resource key → the id of the image shown for it
        self.images: dict[str, ImageInfo] = {}  # shown, by id
        self.order: list[tuple[int, str]] = []  # (-created time, id) of those shown: newest first

    def load(self, admitted: Iterable[ImageInfo]) -> None:
        for image in admitted:
            self.by_key.setdefault(image.resource_key, {})[image.id] = image
        for image in shown(image for held in self.by_key.values() for image in held.values()):
            self.showing[image.resource_key] = image.id
            self.images[image.id] = image
            self.order.append(_rank(image))

    def change(self, before: Iterable[ImageInfo], after: Iterable[ImageInfo]) -> set[str]:
        """Take in the admitted images that changed (`before`: as they were, those that were admitted; `after`:
        those admitted now); returns the ids of the images hidden, shown or shown anew."""
        keys = set()
        for image in before:
            self.by_key[image.resource_key].pop(image.id, None)
            keys.add(image.resource_key)
        for image in after:
            self.by_key.setdefault(image.resource_key, {})[image.id] = image
            keys.add(image.resource_key)
        moved = set()
        for key in keys:  # all hidden first: an image whose key moved must not be shown, then hidden by its old key
            hidden = self.showing.pop(key, None)
            if hidden is not None:
                del self.order[bisect.bisect_left(self.order, _rank(self.images.pop(hidden)))]
                moved.add(hidden)
        for key in keys:
            held = self.by_key.get(key)
            if not held:
                self.by_key.pop(key, None)
                continue
            image = shown(held.values())[0]
            self.showing[key] = image.id
            self.images[image.id] = image
            bisect.insort(self.order, _rank(image))
            moved.add(image.id)
        return moved


def _rank(image: ImageInfo) -> tuple[int, str]:
    """Its place in `shown`'s order."""
    return -image.created_time, image.id


@dataclass
class SiteMemory:
    """The last build's catalog cursor, rows, items, cards, placements and fingerprints; and this build's changes."""

    frame: Frame | None = None
    cursor: int | None = None  # where the change log ended when the remembered build read the catalog
    admitted: dict[str, ImageInfo] = field(default_factory=dict)  # every image the selection admits, by id
    items: dict[str, Item] = field(default_factory=dict)  # what the site shows (rendered), by id
    cards: dict[str, Card] = field(default_factory=dict)
    listed: list[Card] = field(default_factory=list)  # the cards of `items`, in the site's order
    system: int = 0  # how many of `items` are system images
    uses: Counter[str] = field(default_factory=Counter)  # site path → how many items place it
    pages: dict[str, str] = field(default_factory=dict)  # the pages' fingerprints, as the last build left them
    index_pages: set[str] = field(default_factory=set)  # the names of the index's pages among them
    theme: bytes = b""  # what the remembered pages were rendered with besides their data (templates, code)
    generation: str | None = None  # the name of the site folder the remembered build made (`live.py`)
    failed: set[str] = field(default_factory=set)  # shown images the last builds could not render
    shelf: Shelf = field(default_factory=Shelf)  # what the site shows of `admitted`, in order
    # This build's: the images whose card, page and files may have changed (None: all of them), and the site
    # files no item places any more (site path → its file in the cache).
    dirty: set[str] | None = None
    released: dict[str, str] = field(default_factory=dict)

    def forget(self) -> None:
        self.__dict__.update(SiteMemory().__dict__)

    def read(self, source: ImageSource, frame: Frame) -> list[ImageInfo]:
        """Catch up with the catalog; returns the images to plan and render: those changed since the last build
        (and those it could not render), or all of them."""
        changes = None
        if self.frame == frame and self.cursor is not None:
            changes = source.changes(frame.selection, self.cursor)
        if changes is None:
            self.forget()
            self.frame = frame
            self.cursor = source.cursor()  # before reading: what changes meanwhile is read next time
            self.admitted = {image.id: image for image in source.candidates(frame.selection)}
            self.shelf.load(self.admitted.values())
            return list(self.shelf.images.values())
        self.cursor = changes.cursor
        before = [self.admitted.pop(image_id) for image_id in changes.dropped if image_id in self.admitted]
        before += [self.admitted[image.id] for image in changes.admitted if image.id in self.admitted]
        self.admitted.update((image.id, image) for image in changes.admitted)
        # Shadowing moves with a change too (a tenant image removed shows the system image with its key again).
        moved = self.shelf.change(before, changes.admitted)
        # An image the last build could not render is tried again.
        self.dirty = {image.id for image in changes.admitted} | changes.dropped | moved | self.failed
        return [self.shelf.images[image_id] for image_id in self.dirty if image_id in self.shelf.images]

    def absorb(self, report: Report, options: Options) -> list[Item]:
        """Take in what this build rendered or found in the cache; returns every item the site shows, newest
        first, and sets `released`."""
        touched: dict[str, str] = {}
        rendering = {image.id for image in report.deferred}
        for image_id in self.dirty or ():
            if image_id in rendering and image_id in self.items and image_id in self.shelf.images:
                continue  # still shown, its new version still rendering: the site keeps the version it has
            old = self.items.pop(image_id, None)
            self.cards.pop(image_id, None)
            if old is None:
                continue
            self.system -= old.image.is_system
            for path, source in placements(old, options).items():
                self.uses[path] -= 1
                touched[path] = source
        self.failed = {i for i in self.failed if i not in (self.dirty or ())} | {i.id for i, _ in report.failures}
        self.failed |= rendering  # looked at again by the next build, which a finished render starts
        for item in report.items:
            self.items[item.slug] = item
            self.system += item.image.is_system
            fields = contexts.card(item, options)
            self.cards[item.slug] = Card(fields, json.dumps(fields, separators=(",", ":")))
            self.uses.update(placements(item, options).keys())
        self.released = {path: source for path, source in touched.items() if self.uses[path] <= 0}
        for path in self.released:
            del self.uses[path]
        listed = [image_id for _, image_id in self.shelf.order if image_id in self.items]
        self.listed = [self.cards[image_id] for image_id in listed]
        return [self.items[image_id] for image_id in listed]

    def checked(self, items: list[Item]) -> list[Item]:
        """Of `items` (every item shown), those whose page and files this build must look at."""
        return items if self.dirty is None else [self.items[i] for i in self.dirty if i in self.items]

    def pages_before(self) -> dict[str, str] | None:
        """The fingerprints the last build left, when this build goes by them (None: read them from the site)."""
        return None if self.dirty is None else self.pages

    def pages_looked_at(self) -> set[str] | None:
        """The pages this build renders again or drops, of those the last build left (by URL): the changed images'
        and the index's (None: all of them)."""
        if self.dirty is None:
            return None
        return {site_layout.image_page(image_id) for image_id in self.dirty} | self.index_pages
