"""What a living site's last build made, kept in the serving process (`live.py`) for its next build: with the
catalog's change log, that build reads, plans, renders and checks only the images changed since, so one upload
costs the same in a gallery of 1,000 images or of 10,000.

A build with an empty memory reads everything, as `gallery build` always does: a living site's first build, the
first after a failed one, and any whose selection, options, cache or links differ from the last build's (`Frame`).
What is remembered is what the last build left in the site it built; `live.py` forgets it when the site it
rebuilds is another (a build failed, or another process swapped in its own).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gallery.domain.model import ImageInfo
from gallery.services.images import ImageService, Selection, shown
from gallery.site import contexts
from gallery.site.render import Item, Options, Report, placements


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


@dataclass
class SiteMemory:
    frame: Frame | None = None
    cursor: int | None = None  # where the change log ended when the remembered build read the catalog
    admitted: dict[str, ImageInfo] = field(default_factory=dict)  # every image the selection admits, by id
    items: dict[str, Item] = field(default_factory=dict)  # what the site shows (rendered), by id
    cards: dict[str, Card] = field(default_factory=dict)
    uses: Counter[str] = field(default_factory=Counter)  # site path → how many items place it
    pages: dict[str, str] = field(default_factory=dict)  # the pages' fingerprints, as the last build left them
    theme: bytes = b""  # the theme digest the remembered pages were rendered with
    generation: str | None = None  # the name of the site folder the remembered build made (`live.py`)
    # This build's: the images whose card, page and files may have changed (None: all of them); what the site
    # shows, newest first; and the site files no item places any more (site path → its file in the cache).
    dirty: set[str] | None = None
    shown: list[ImageInfo] = field(default_factory=list)
    released: dict[str, str] = field(default_factory=dict)

    def forget(self) -> None:
        self.__dict__.update(SiteMemory().__dict__)

    def read(self, images: ImageService, frame: Frame) -> list[ImageInfo]:
        """Catch up with the catalog; returns the images to plan and render: those changed since the last build
        (and those it could not render), or all of them."""
        changes = None
        if self.frame == frame and self.cursor is not None:
            changes = images.site_changes(frame.selection, self.cursor)
        if changes is None:
            self.forget()
            self.frame = frame
            self.cursor = images.change_cursor()  # before reading: what changes meanwhile is read next time
            self.admitted = {image.id: image for image in images.site_candidates(frame.selection)}
        else:
            self.cursor = changes.cursor
            for image_id in changes.dropped:
                self.admitted.pop(image_id, None)
            self.admitted.update((image.id, image) for image in changes.admitted)
            self.dirty = {image.id for image in changes.admitted} | changes.dropped
        self.shown = shown(self.admitted.values())
        if self.dirty is None:
            return self.shown
        # Shadowing moves with a change too (a tenant image removed shows the system image with its key again),
        # and an image that failed to render is tried again.
        self.dirty |= {image.id for image in self.shown}.symmetric_difference(self.items)
        return [image for image in self.shown if image.id in self.dirty]

    def absorb(self, report: Report, options: Options) -> list[Item]:
        """Take in what this build rendered or found in the cache; returns every item the site shows, newest
        first, and sets `released`."""
        touched: dict[str, str] = {}
        for image_id in self.dirty or ():
            old = self.items.pop(image_id, None)
            self.cards.pop(image_id, None)
            for path, source in placements(old, options).items() if old else ():
                self.uses[path] -= 1
                touched[path] = source
        for item in report.items:
            self.items[item.slug] = item
            fields = contexts.card(item, options)
            self.cards[item.slug] = Card(fields, json.dumps(fields, separators=(",", ":")))
            self.uses.update(placements(item, options).keys())
        self.released = {path: source for path, source in touched.items() if self.uses[path] <= 0}
        for path in self.released:
            del self.uses[path]
        return [self.items[image.id] for image in self.shown if image.id in self.items]

    def checked(self, items: list[Item]) -> list[Item]:
        """Of `items`, those whose page and files this build must look at."""
        return items if self.dirty is None else [item for item in items if item.slug in self.dirty]

    def pages_before(self) -> dict[str, str] | None:
        """The fingerprints the last build left, when this build goes by them (None: read them from the site)."""
        return None if self.dirty is None else self.pages

    def unchanged_pages(self) -> dict[str, str]:
        """The image pages this build does not look at, as they stay."""
        if self.dirty is None:
            return {}
        return {name: f for name, f in self.pages.items() if name in self.items and name not in self.dirty}
