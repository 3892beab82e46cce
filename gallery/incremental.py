"""One change, one bounded publish: the AWS publisher's work for a batch of the table's stream, which costs the
same in a gallery of 1,000 images or of 100,000.

The site's state lives in the table (`storage/aws/site_state.py`): which images it shows, the lists (the index,
each tag) cut in blocks that stay put, and what waits to be rendered. For each resource key a batch changed:
1. **Decide** what the site shows for the key now (the site tenant's image, else the system's: two reads) against
   what it showed (its record).
2. **Files and page first:** the image's renditions and original (made only when its record does not list them
   already) and its page are uploaded before the state says the image is shown, so nothing ever links to a file
   not there yet.
3. **State in transactions:** its card out of the lists it left, into the newest block of those it joined (a new
   block once that one is full), changed in place in the others; the blocks, shards and pages this touches are
   marked as waiting to be rendered in the same transaction.
4. **Rendered from the state** (`render_waiting`): for each list touched, its first page, the touched blocks'
   pages and the pages beside them; for the index, the touched shards of the search index and of the sitemap;
   the tags' page when a tag's count moved. Each is one bounded query of the state. Then the marks go.
5. **Released:** files no image uses any more are deleted and invalidated (`sync.invalidations`), within the
   hour's budget of paths (`HOURLY_PATHS`, shared by the hour's runs); past it, by one wildcard for the whole site,
   one an hour; past that too, the wildcard is owed to the first run of a later hour (the hourly run at the latest).
   So a month's invalidations cost at most 720 × (`HOURLY_PATHS` + 1) paths, however many images go.

A run that stops anywhere leaves the state saying what it holds and what still waits: the next run (a retry, the
next batch, the hourly run) takes up from there. The full pass (`full_pass`) compares every image the catalog
shows with the state, brings the differences in by the same path, then renders the whole site from the state and
publishes it against the bucket: the first publish, and once a day.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from gallery.domain import errors, site_layout
from gallery.domain.model import ImageInfo
from gallery.domain.serving import site_headers
from gallery.domain.site_layout import HASHED_DIRS
from gallery.services.site_source import Selection, SiteSource
from gallery.site import contexts
from gallery.site.builder import (
    INDEX_TITLE,
    ListPage,
    Neighbours,
    SiteBuilder,
    SiteOptions,
    lists_sitemap,
    search_head,
    search_shard,
    shard_sitemap,
    sitemap_head,
)
from gallery.site.memory import Card
from gallery.site.paging import SHARD_BLOCKS, block_url
from gallery.site.render import Item, Options, placements, render_images
from gallery.site.sync import MAX_PATHS, invalidations, publish
from gallery.storage.aws.site_bucket import S3SiteBucket
from gallery.storage.aws.site_state import (
    INDEX,
    ListHead,
    Member,
    Place,
    Record,
    SiteChange,
    SiteHead,
    SiteState,
    rank_of,
)

log = logging.getLogger("gallery.publisher")

TAGS = "T"  # the mark for the tags' page and the lists' sitemap
CHANGED, LEFT = "c", "l"  # how a block's cards changed
ATTEMPTS = 3  # a key's change tried again when another run changed a list meanwhile
HOURLY_PATHS = MAX_PATHS  # invalidation paths an hour's runs ask for at most (one publish's fit an hour of its own)


@dataclass
class Outcome:
    keys: int = 0  # resource keys looked at: each changed, or changed for the state
    rendered: int = 0  # images whose files were made
    pages: int = 0  # pages rendered
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # resource keys whose change could not be published
    owed: bool = False  # invalidations past the hour's budget: a wildcard owed to a later hour


def site_id(bucket: S3SiteBucket, selection: Selection, builder: SiteBuilder) -> str:
    """The state's name: another bucket, prefix, selection or site options make another site."""
    options = builder.options
    frame = (bucket.bucket, bucket.prefix, selection, options.files, options.page_size, options.site_name)
    links = (options.site_url, options.api_url)
    return hashlib.sha256(repr((frame, links)).encode()).hexdigest()[:16]


def version_of(item: Item, options: SiteOptions) -> str:
    """What a card and its page were made from besides the card's text: the row's version and a digest of its page's
    inputs, the row, its renditions and the site's links (a change the card does not show, a profile publishing
    originals as uploaded, still differs in the daily pass). Not the theme and code: a release would make every
    image differ, and the deploy publishes a new theme whole, from the state, without moving a card. Nor
    `has_alpha` (`contexts.page_inputs`): rendering an older row learns it and keeps it on the row, so the next pass
    decodes nothing and finds nothing changed."""
    inputs = contexts.page_inputs(item, options.files, options.api_url, options.site_url)
    return f"{item.image.version}.{item.image.updated_time}.{hashlib.sha256(inputs.encode()).hexdigest()[:16]}"


def card_text(item: Item, options: Options) -> str:
    return json.dumps(contexts.card(item, options), separators=(",", ":"))


class Sink:
    """Where rendered files go: straight to the bucket (a change), or into a folder published whole (the full
    pass, where what the folder lacks is deleted from the bucket by `sync.publish`)."""

    def __init__(self, bucket: S3SiteBucket, outcome: Outcome, folder: Path | None = None) -> None:
        self.bucket, self.outcome, self.folder = bucket, outcome, folder

    def put(self, path: str, data: bytes) -> None:
        if self.folder is not None:
            target = self.folder / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            return
        self.bucket.put_bytes(path, data, site_headers(path))
        self.outcome.uploaded.append(self.bucket.prefix + path)

    def drop(self, paths: list[str]) -> None:
        if self.folder is None and paths:
            self.bucket.delete(paths)
            self.outcome.deleted += [self.bucket.prefix + path for path in paths]


class Publisher:
    def __init__(
        self, builder: SiteBuilder, source: SiteSource, bucket: S3SiteBucket, state: SiteState, selection: Selection
    ) -> None:
        self.builder = builder
        self.source = source
        self.bucket = bucket
        self.state = state
        self.selection = selection
        self.size = max(1, builder.options.page_size)
        self.outcome = Outcome()
        self.sink = Sink(bucket, self.outcome)
        self.clock: Callable[[], float] = time.time

    # --- 1-3: one key --------------------------------------------------------------------------------------------
    def publish_keys(self, resource_keys: Iterable[str]) -> Outcome:
        for key in sorted(set(resource_keys)):
            self.outcome.keys += 1
            try:
                self._key(key)
            except (errors.Unavailable, errors.TooManyRequests):
                raise
            except errors.GalleryError as exc:
                log.error("Could not publish the change of %r: %s", key, exc.message)
                self.outcome.failed.append(key)
        if self.outcome.failed:
            self.state.mark((), failed=self.outcome.failed)
        return self.outcome

    def _key(self, key: str, item: Item | None = None) -> None:
        """`item`: what the full pass read and made of the key's image (else read here)."""
        for attempt in range(ATTEMPTS):
            try:
                want = item.image if item is not None else self.source.visible(self.selection, key)
                self._sync(key, want, item)
                return
            except errors.Conflict:
                if attempt == ATTEMPTS - 1:
                    raise errors.Unavailable() from None

    def _sync(self, key: str, want: ImageInfo | None, item: Item | None = None) -> None:
        shown_id = self.state.shown_at(key)
        old = self.state.record(shown_id) if shown_id else None
        if old is not None and (want is None or want.id != old.image_id):
            self._leave(old, key, keep_key=want is not None)
            old = None
        elif old is None and shown_id is not None and want is None:  # a key left pointing at no record
            change = self.state.change()
            change.show(key, None)
            change.commit()
        if want is None:
            return
        item = item or self._render(want, old)
        if item is None:
            raise errors.GalleryError(f"{want.title} ({key}) could not be rendered")
        options = self.builder.options.files
        page = self.builder.image_pages([item])[0]
        member = Member(want.id, key, version_of(item, self.builder.options), want.is_system, card_text(item, options))
        placed = placements(item, options)
        known = set(old.files) if old else set()
        self._upload_files({path: source for path, source in placed.items() if path not in known})
        if old is None or old.page != page.fingerprint:
            self._upload(page.file, self.builder.render(page).encode())
            self.outcome.pages += 1
        self.state.use_files(want.id, [path for path in placed if path not in known])
        wanted = [INDEX, *want.tags]
        lists = dict(old.lists) if old else {}
        if old is not None and (gone := [name for name in lists if name not in wanted]):
            change = self.state.change()
            for name in gone:
                place = lists.pop(name)
                self._take_out(change, name, place, old.system)
            change.record(replace(old, lists=lists))
            change.commit()
        change = self.state.change()
        for name in wanted:
            if name in lists:
                if old is None or (old.card, old.version) != (member.text, member.version):
                    change.recard(name, lists[name], member)
                    change.dirty.add(_mark(name, lists[name].block))
                continue
            head = self.state.list_head(name)
            block = head.top if head.top >= 0 and self.state.block_size(name, head.top) < self.size else head.top + 1
            lists[name] = Place(block, rank_of(want.created_time, want.id))
            change.join(head, lists[name], member)
            change.dirty.add(_mark(name, block))
            if name != INDEX:
                change.dirty.add(TAGS)
        change.record(
            Record(want.id, key, want.is_system, lists, member.text, page.fingerprint, sorted(placed), member.version)
        )
        change.show(key, want.id)
        change.commit()
        self._release(want.id, known - set(placed))

    def _leave(self, old: Record, key: str, keep_key: bool) -> None:
        change = self.state.change()
        for name, place in old.lists.items():
            self._take_out(change, name, place, old.system)
        change.drop_record(old.image_id)
        if not keep_key:
            change.show(key, None)
        change.commit()
        self.sink.drop([site_layout.image_page(old.image_id) + "index.html"])
        self._release(old.image_id, set(old.files))

    def _take_out(self, change: SiteChange, name: str, place: Place, system: bool) -> None:
        change.leave(self.state.list_head(name), place, system, emptied=self.state.block_size(name, place.block) <= 1)
        change.dirty.add(_mark(name, place.block, LEFT))
        if name != INDEX:
            change.dirty.add(TAGS)

    def _render(self, image: ImageInfo, old: Record | None) -> Item | None:
        builder = self.builder
        report = render_images(
            [image],
            builder.blobs,
            builder.source.decode_limits,
            builder.cache.root,
            builder.options.files,
            workers=1,
            published=frozenset(old.files if old else ()),
            prune=False,
        )
        self.outcome.rendered += report.rendered
        for failed, why in report.failures:
            log.error("Could not render %s (%s): %s", failed.title, failed.resource_key, why)
        builder.keep_what_was_learnt(report, [image])
        return report.items[0] if report.items else None

    def _upload_files(self, placed: dict[str, str]) -> None:
        for path, source in placed.items():
            self.bucket.put_bytes(path, (self.builder.cache.root / source).read_bytes(), site_headers(path))
            self.outcome.uploaded.append(self.bucket.prefix + path)

    def _upload(self, path: str, data: bytes) -> None:
        self.sink.put(path, data)

    def _release(self, image_id: str, paths: set[str]) -> None:
        self._delete(self.state.release_files(image_id, sorted(paths)))

    def _delete(self, paths: list[str]) -> None:
        """Objects deleted from the bucket, and the content-named ones among them invalidated on the CDN (a
        deleted or newly private image must not stay there for the year its headers allow)."""
        if paths:
            self.bucket.delete(paths)
            self.outcome.deleted += [self.bucket.prefix + path for path in paths]
            self._invalidate(invalidations(paths))

    def _invalidate(self, paths: list[str]) -> None:
        """Ask the CDN to drop these paths if the hour has room for them, else for everything (the hour's one
        wildcard), else owe it that to a later hour."""
        if not paths:
            return
        hour = self._hour()
        if self.bucket.distribution and not self.state.spend(len(paths), hour, HOURLY_PATHS):
            if not self.state.claim_wildcard(hour):
                log.warning("The hour's invalidations are spent: the CDN is owed one for the site, a later hour")
                self.state.owe()
                self.outcome.owed = True
                return
            paths = ["*"]
        self._ask(paths)

    def settle(self, head: SiteHead) -> None:
        """The wildcard owed since an earlier hour (`head`, read before this run's work), asked now; if CloudFront
        will not take it, it stays owed, and the run goes on (its own work is not the CDN's)."""
        if not (head.owed and head.wildcard_hour < self._hour() and self.state.claim_wildcard(self._hour())):
            return
        try:
            self._ask(["*"])
        except errors.GalleryError as exc:
            log.warning("The wildcard owed to the CDN was not taken (%s): it stays owed", exc.message)

    def _ask(self, paths: list[str]) -> None:
        """Ask the CDN; what it does not take is owed as a wildcard (the files are gone: no later run would ask)."""
        try:
            self.bucket.invalidate(paths)
        except errors.GalleryError:
            self.state.owe()
            raise
        if paths == ["*"]:
            self.state.settled()
        self.outcome.invalidated += [f"/{self.bucket.prefix}{path}" for path in paths]

    def _hour(self) -> int:
        return int(self.clock() // 3600)

    # --- the full pass ---------------------------------------------------------------------------------------------
    def full_pass(self, now: int, whole: bool = True) -> Outcome:
        """Every image the catalog shows against the state (by id, version and card): the differences brought in
        one key at a time, oldest first (a first pass packs the blocks in the order the images were made; a pass
        that stops is taken up by the next, the keys done no longer differ). Then, `whole`: the whole site rendered
        from the state into a folder and published against the bucket (what the bucket lacks or holds with other
        bytes or headers is uploaded, what the site no longer has is deleted); else the bucket looked at (`_mend`)."""
        builder, options = self.builder, self.builder.options.files
        remote = self.bucket.objects()
        published = frozenset(key for key in remote if key.startswith(HASHED_DIRS))
        shown = self.source.shown(self.selection)
        report = render_images(
            shown,
            builder.blobs,
            builder.source.decode_limits,
            builder.cache.root,
            options,
            workers=1,
            published=published,
            prune=False,
        )
        self.outcome.rendered += report.rendered
        builder.keep_what_was_learnt(report, shown)  # rows from before `has_alpha`: decoded once, not every day
        for image, why in report.failures:
            log.error("Skipped %s (%s): %s", image.title, image.resource_key, why)
        unreadable = {image.resource_key for image, _ in report.failures}
        items = {item.image.resource_key: item for item in report.items}
        held = {key: rest for key, *rest in self.state.index()}

        def differs(key: str) -> bool:
            item = items.get(key)
            if item is None:
                return key not in unreadable  # shown no more (one that cannot be read keeps what it had)
            return held.get(key) != [item.image.id, version_of(item, builder.options), card_text(item, options)]

        changed = sorted(
            (key for key in set(items) | set(held) if differs(key)),
            key=lambda key: (items[key].image.created_time if key in items else 0, key),
        )
        self.outcome.keys += len(changed)
        for key in changed:
            self._key(key, items.get(key))
        if whole:
            return self._publish_whole(list(items.values()), remote, now)
        return self._mend(list(items.values()), remote, now)

    def _mend(self, items: list[Item], remote: dict[str, str], now: int) -> Outcome:
        """The daily pass's look at the bucket: every file the state says the site has is there (what is missing is
        made and uploaded) and nothing else is, in the folders the site owns. Bytes are not compared: a page is
        rendered whenever what it shows changes, and a new theme is published whole by `make deploy`; rendering
        every page would take a site of 100,000 images past Lambda's 15 minutes."""
        builder, options = self.builder, self.builder.options.files
        self.render_waiting()  # what the keys brought in touched
        prefix = len(self.bucket.prefix)
        remote = {**remote, **dict.fromkeys((path[prefix:] for path in self.outcome.uploaded), "")}
        for path in self.outcome.deleted:
            remote.pop(path[prefix:], None)
        expected: set[str] = set()
        for item in items:
            placed = placements(item, options)
            expected.update(placed)
            absent = {path: source for path, source in placed.items() if path not in remote}
            self._upload_files(absent)
            remote.update(dict.fromkeys(absent, ""))  # a file images share goes up once
        pages = {site_layout.image_page(item.image.id) + "index.html": item for item in items}
        expected.update(pages)
        for page in builder.image_pages([item for path, item in pages.items() if path not in remote]):
            self._upload(page.file, builder.render(page).encode())
            self.outcome.pages += 1
        heads = {head.name: head for head in self.state.lists()}
        tags = sorted(name for name in heads if name != INDEX)
        for name in sorted({INDEX, *heads}):
            folder = "" if name == INDEX else site_layout.tag_folder(name)
            first, _ = self._first_blocks(name)
            own = set(self.state.blocks(name, limit=1 << 30)) - set(first)
            listed: dict[str, int | None] = {f"{folder}{block_url(block)}index.html": block for block in own}
            listed[f"{folder}index.html"] = None
            expected.update(listed)
            missing = {block for path, block in listed.items() if path not in remote and block is not None}
            if missing or f"{folder}index.html" not in remote:
                self._render_list(heads.get(name, ListHead(name)), missing, bool(tags))
        shards = self.state.shards()
        base = builder.options.site_url
        index_files = [site_layout.search_shard(n) for n in shards]
        index_files += [site_layout.SEARCH_INDEX, site_layout.SEARCH_VERSION]
        index_files += list(sitemap_head(base, []))
        if base:
            index_files += [site_layout.sitemap_shard(n) for n in shards] + [site_layout.sitemap_shard("lists")]
        expected.update(index_files)
        if any(path not in remote for path in index_files):
            every = set(self.state.blocks(INDEX, limit=1 << 30))
            self._render_index_shards(every, whole=True)
        tags_page = f"{site_layout.TAG_PAGES}/index.html"
        expected.add(tags_page)
        if tags_page not in remote or (base and site_layout.sitemap_shard("lists") not in remote):
            self._render_tags(heads, tags)
        apps, assets = builder.app_pages(), builder.templates.assets()
        expected.update(apps, assets)
        for path, data in apps.items():
            if path not in remote:
                self._upload(path, data)
        for name, asset in assets.items():
            if name not in remote:
                self._upload(name, asset.read_bytes())
        owned = (*[f"{folder}/" for folder in site_layout.MANAGED], site_layout.SITEMAP_PARTS)
        self._delete(sorted(path for path in remote if path.startswith(owned) and path not in expected))
        self.state.rendered(set(), full_at=now)
        return self.outcome

    def _publish_whole(self, items: list[Item], remote: dict[str, str], now: int) -> Outcome:
        out = Path(tempfile.mkdtemp(prefix="gallery-site-"))
        dirty = self.state.head().dirty
        try:
            self.render_whole(out, items)
            keep = frozenset(path for item in items for path in placements(item, self.builder.options.files))
            plan = publish(out, self.bucket, keep=keep, remote=remote, invalidate=self._invalidate)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        self.outcome.uploaded += [self.bucket.prefix + upload.key for upload in plan.uploads]
        self.outcome.deleted += [self.bucket.prefix + key for key in plan.deletes]
        self.state.rendered(dirty, full_at=now)
        return self.outcome

    def render_whole(self, out: Path, items: list[Item]) -> None:
        """Every file of the site but the content-named ones, rendered from the state into `out` (the images'
        pages from `items`)."""
        builder = self.builder
        try:
            self.sink = Sink(self.bucket, self.outcome, out)
            heads = {head.name: head for head in self.state.lists()}
            tags = sorted(name for name in heads if name != INDEX)
            every: dict[str, set[int]] = {name: set(self.state.blocks(name, limit=1 << 30)) for name in heads}
            every.setdefault(INDEX, set())
            for name, blocks in sorted(every.items()):
                self._render_list(heads.get(name, ListHead(name)), blocks, bool(tags))
            self._render_index_shards(every[INDEX], whole=True)
            self._render_tags(heads, tags)
            for page in builder.image_pages(items):
                self._upload(page.file, builder.render(page).encode())
                self.outcome.pages += 1
            for path, data in builder.app_pages().items():
                self._upload(path, data)
            for name, asset in builder.templates.assets().items():
                self._upload(name, asset.read_bytes())
        finally:
            self.sink = Sink(self.bucket, self.outcome)

    # --- 4: what waits -------------------------------------------------------------------------------------------
    def render_waiting(self) -> Outcome:
        head = self.state.head()
        if not head.dirty:
            return self.outcome
        touched: dict[str, set[int]] = {}
        left: set[str] = set()
        for mark in head.dirty:
            if mark != TAGS:
                name, block, how = mark.split("|")
                touched.setdefault(name, set()).add(int(block))
                if how == LEFT:
                    left.add(name)
        heads = {h.name: h for h in self.state.lists()}
        tags = sorted(name for name in heads if name != INDEX)
        if TAGS in head.dirty:  # the index's first page links to the tags' page while there are tags
            touched.setdefault(INDEX, set())
        for name, blocks in sorted(touched.items()):
            self._render_list(heads.get(name, ListHead(name)), blocks, bool(tags), name in left)
        if touched.get(INDEX):
            self._render_index_shards(touched[INDEX])
        if TAGS in head.dirty:
            self._render_tags(heads, tags)
        self.state.rendered(head.dirty)
        return self.outcome

    def _first_blocks(self, name: str) -> tuple[list[int], list[int]]:
        """The blocks the list's first page shows (the newest, with the one before while the newest is not full),
        and the next two below them (whose own pages link to the first page or to each other)."""
        top = self.state.blocks(name, limit=4)
        if not top:
            return [], []
        on_first = 2 if len(top) > 1 and self.state.block_size(name, top[0]) < self.size else 1
        return top[:on_first], top[on_first:]

    def _render_list(self, head: ListHead, blocks: set[int], has_tags: bool, left: bool = False) -> None:
        """The list's first page, the pages of `blocks` and the pages beside them (their links may have moved).
        `left`: a card left the list, so the newest block may be short now and the block before it shown on the
        first page: its own page goes."""
        name = head.name
        folder = "" if name == INDEX else site_layout.tag_folder(name)
        title = INDEX_TITLE if name == INDEX else f"Tag: {name}"
        extra = {"tags": has_tags} if name == INDEX else {"tag": name}
        first, below = self._first_blocks(name)
        if not first:  # the list has no card left: its pages go (a tag's folder; the index keeps an empty page)
            self._drop_pages(folder, set(blocks) if name == INDEX else {None, *blocks})
            if name == INDEX:
                self._list_page(ListPage(folder, title, None, [], contexts.counts(0, 0), extra), Neighbours())
            return
        counts = contexts.counts(head.count, head.system)
        cards = self._cards(name, min(first), max(first))
        self._list_page(ListPage(folder, title, None, cards, counts, extra), Neighbours(older=_first(below)))
        own = set(below)  # their links may have moved with the first page
        for block in blocks:
            own.add(block)
            own.update(self.state.blocks(name, below=block, limit=1))
            own.update(self.state.blocks(name, above=block, limit=1))
        if left and len(first) == 2:
            self._drop_pages(folder, {first[1]})
        gone = set()
        for block in sorted(own - set(first), reverse=True):
            cards = self._cards(name, block, block)
            if not cards:
                gone.add(block)
                continue
            newer = self.state.blocks(name, above=block, limit=1)
            older = self.state.blocks(name, below=block, limit=1)
            newer_page: int | None = None if not newer or newer[0] in first else newer[0]
            neighbours = Neighbours(newest=False if newer_page is None else None, newer=newer_page, older=_first(older))
            self._list_page(ListPage(folder, title, block, cards, counts, extra), neighbours)
        self._drop_pages(folder, gone)

    def _cards(self, name: str, first: int, last: int) -> list[Card]:
        return [Card(json.loads(card.text), card.text) for card in self.state.cards(name, first, last)]

    def _list_page(self, page: ListPage, neighbours: Neighbours) -> None:
        rendered = self.builder.list_page(page, neighbours)
        self._upload(rendered.file, self.builder.render(rendered).encode())
        self.outcome.pages += 1

    def _drop_pages(self, folder: str, blocks: Iterable[int | None]) -> None:
        self.sink.drop(
            [f"{folder}{block_url(block)}index.html" for block in sorted(blocks, key=lambda b: -1 if b is None else b)]
        )

    def _render_index_shards(self, blocks: set[int], whole: bool = False) -> None:
        """The touched shards of the search index and of the sitemap; `gallery.json` and the sitemap index when a
        shard came or went; the search index's version (a digest of the shards' digests, kept with the state)."""
        base = self.builder.options.site_url
        first, _ = self._first_blocks(INDEX)
        before = self.state.shards()
        now = {} if whole else dict(before)
        for shard in sorted({block // SHARD_BLOCKS for block in blocks}):
            cards = self.state.cards(INDEX, shard * SHARD_BLOCKS, shard * SHARD_BLOCKS + SHARD_BLOCKS - 1)
            path = site_layout.search_shard(shard)
            if not cards:
                now.pop(shard, None)
                self.sink.drop([path] + ([site_layout.sitemap_shard(shard)] if base else []))
                continue
            data = search_shard([Card({}, card.text) for card in cards])
            now[shard] = hashlib.sha256(data).hexdigest()[:16]
            self._upload(path, data)
            if base:
                own = sorted({card.block for card in cards} - set(first), reverse=True)
                images = [card.image_id for card in cards]
                self._upload(site_layout.sitemap_shard(shard), shard_sitemap(base, own, images))
        if set(now) != set(before) or whole:
            newest_first = sorted(now, reverse=True)
            self._upload(site_layout.SEARCH_INDEX, search_head(newest_first))
            for path, data in sitemap_head(base, newest_first).items():
                self._upload(path, data)
        if now != before or whole:
            version = hashlib.sha256(repr(sorted(now.items())).encode()).hexdigest()[:16]
            self._upload(site_layout.SEARCH_VERSION, json.dumps(version).encode())
            if now != before:
                self.state.set_shards(now)

    def _render_tags(self, heads: dict[str, ListHead], tags: list[str]) -> None:
        page = self.builder.tags_page([(tag, heads[tag].count) for tag in tags])
        self._upload(page.file, self.builder.render(page).encode())
        self.outcome.pages += 1
        base = self.builder.options.site_url
        if base:
            self._upload(site_layout.sitemap_shard("lists"), lists_sitemap(base, tags))


def _mark(name: str, block: int, how: str = CHANGED) -> str:
    """What waits to be rendered: a block of a list whose cards changed (`how`: one left it, or not)."""
    return f"{name}|{block}|{how}"


def _first(blocks: list[int]) -> int | Literal[False]:
    return blocks[0] if blocks else False
