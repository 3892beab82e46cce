"""The static gallery, built: what `gallery build`, the living site of `gallery serve` and the AWS publisher make,
and what the MkDocs plugin (`plugin.py`) puts in anyone's MkDocs site.

A `SiteBuilder` is given everything it uses — the catalog's site-facing side (`SiteSource`), a way to open the blob
store, the options, the templates and a cache folder — and `build(out)` makes or brings up to date the site in
`out`, returning what it did (`SiteState`). It reads no setting and opens no catalog.

One build, top to bottom:
1. **What the site shows** (`content`): the catalog's images as the selection admits them, read whole or, for a
   builder that remembers its last build (`memory.py`), only those changed since; each one's renditions made
   where the content-keyed cache (`render.py`) lacks them, spread over processes.
2. **Which pages** (`content`): the index in blocks (`paging.py`), every tag with its count and each tag's images
   (paged like the index), and one page per image, each with a fingerprint of what it is made of — its data, the
   templates it is drawn with, the package's version and rendering code.
3. **Written only where changed** (`build`): a page whose fingerprint is the one the site's manifest holds, with
   its file in place, is not rendered at all; every other file is written only when its bytes differ, and always
   as a new file renamed into place (a hard link another copy of the site shares is never written through). Image
   files enter as hard links to the cache. What the build did not produce leaves the folders it owns.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import logging
import os
import shutil
import stat
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from gallery.domain import errors, site_layout
from gallery.domain.model import ImageInfo
from gallery.services.site_source import Selection
from gallery.site import contexts
from gallery.site.memory import Card, Frame, ImageSource, SiteMemory
from gallery.site.paging import SHARD_BLOCKS, block_url, index_pages, shards
from gallery.site.render import (
    BlobOpener,
    Cache,
    Item,
    Options,
    Renders,
    Report,
    placements,
    render_images,
    write_atomically,
    write_if_changed,
)
from gallery.site.shell import app_pages
from gallery.site.templates import (
    IMAGE_BODY,
    INDEX_BODY,
    LAYOUT,
    SITE_NAME,
    TAGS_BODY,
    PageView,
    Templates,
    ThemeConfig,
)

log = logging.getLogger("gallery.site")

INDEX_TITLE = "Image gallery"
TAGS_TITLE = "Tags"


@dataclass(frozen=True)
class SiteOptions:
    """What the site is: whose images, which files per image, and where it and the API are reached."""

    selection: Selection
    files: Options = field(default_factory=Options)
    page_size: int = 48
    site_name: str = SITE_NAME
    site_url: str = ""  # where the site is published ("": unknown, links stay relative)
    api_url: str = ""  # the API's origin when it is not the site's
    # The pages and files a site of its own has besides the gallery: the management page, the API browser, the 404
    # page, the theme's assets and the sitemap. The MkDocs plugin leaves them to the site it joins.
    apps: bool = True


@dataclass(frozen=True)
class BuildRun:
    """How one build runs (not what it makes)."""

    workers: int | None = None  # render processes (None: every core; 1: in this process)
    start_method: str | None = None  # multiprocessing's, for a caller with threads that must not be forked
    progress: Callable[[int, int], None] | None = None
    # Site paths already published where the site goes: a content-named file there is neither made again nor
    # placed in the output, and is listed in `SiteState.kept`.
    published: frozenset[str] = frozenset()
    # Read every page's folder and render every index page rather than trust the fingerprints: after a build that
    # failed part-way and may have left pages (in the living site's shared folders) that no fingerprint lists.
    walk_pages: bool = False
    # The owned folders whose leftovers this build removes (None: all); the rest are `SiteState.leftovers`.
    sweep: tuple[str, ...] | None = None
    # What the last build of this site made, kept by a caller that builds it again and again (the living site).
    memory: SiteMemory | None = None
    # A pool of render processes that outlives builds (`renderer.py`): a build waits for it only until the catalog
    # moves, and goes on without the images still rendering.
    renders: Renders | None = None


@dataclass(frozen=True)
class SiteState:
    """What one build did."""

    images: int  # shown
    system: int  # of them, system images
    rendered: int
    failures: tuple[tuple[ImageInfo, str], ...]
    deferred: tuple[ImageInfo, ...]  # still rendering when the build went on without them
    written: tuple[str, ...]  # site files written (new or changed)
    removed: tuple[str, ...]
    kept: tuple[str, ...]  # site files the site has, published already, not in the output
    leftovers: tuple[str, ...]  # files no longer produced in folders this build did not sweep
    unplaced: tuple[str, ...]  # image files the disk refused, with why
    pages: Mapping[str, str]  # every page's fingerprint, by URL

    @property
    def complete(self) -> bool:
        return not self.failures and not self.unplaced

    def placed(self) -> SiteState:
        """Itself, when every file was written; raises when the disk refused one: the output is not a whole site
        (images that could not be rendered are reported, and leave a whole site without them)."""
        if self.unplaced:
            raise errors.GalleryError(f"Some files could not be written: {'; '.join(self.unplaced)}")
        return self

    def summary(self) -> str:
        text = f"{self.images} image(s), {self.rendered} rendered, {len(self.failures)} failed"
        text += "".join(f"\n  {i.title} ({i.resource_key}): {why}" for i, why in self.failures)
        return text + "".join(f"\n  {line}" for line in self.unplaced)


@dataclass(frozen=True)
class GalleryPage:
    """One page of the gallery: an index page, a tag's, the tags' or an image's."""

    # Its folder from the gallery's root: "", "page/<n>/", "tags/", "tags/<tag>/", "images/<id>/"; its name in the
    # fingerprints (a link to it is `link`).
    url: str
    title: str
    body: str  # its body's template
    fingerprint: str
    variables: Callable[[], dict[str, Any]]  # what its body is rendered with (made only when it is)
    block: int | None = None  # a list's page after the first: the block of cards it shows (`paging.py`)

    @property
    def file(self) -> str:
        return f"{self.url}index.html"

    @property
    def link(self) -> str:
        return site_layout.link(self.url)

    @property
    def root(self) -> str:
        """The gallery's root as this page reaches it (relative: the site may be published anywhere)."""
        return "/".join([".."] * self.url.count("/")) or "."


@dataclass(frozen=True)
class ListPage:
    """What one page of a list of cards shows: the index's or a tag's (`folder`), its first page (`block` None)
    or a block's, with the list's counts on the first page and `extra` (a tag's name; whether there are tags)."""

    folder: str
    title: str
    block: int | None
    cards: list[Card]
    counts: dict[str, int]
    extra: dict[str, Any]


@dataclass(frozen=True)
class Neighbours:
    """The pages a list's page links to, by block (None: the list's first page; False: no such link)."""

    newest: int | Literal[False] | None = False
    newer: int | Literal[False] | None = False
    older: int | Literal[False] | None = False

    @classmethod
    def around(cls, blocks: list[int | None], at: int) -> Neighbours:
        """For the page at `at` of a list's pages (their blocks, newest first; the first page's None)."""
        return cls(
            newest=None if at > 1 else False,
            newer=blocks[at - 1] if at > 0 else False,
            older=blocks[at + 1] if at + 1 < len(blocks) else False,
        )


@dataclass(frozen=True)
class SiteContent:
    """What a build shows, before anything is written."""

    report: Report
    items: list[Item]  # every image shown, newest first
    index: list[GalleryPage]  # every page listing images or tags: the index's, the tags', each tag's
    images: list[GalleryPage]  # the image pages to look at: all, or those changed since the remembered build
    placed: dict[str, str]  # their files: site path → file in the cache
    search: dict[str, bytes]  # the search index: `gallery.json` and the shards it names, by site path
    theme: bytes  # what every page is made with besides its data

    @property
    def search_version(self) -> bytes:
        """`gallery-version.json`: a few bytes an open index page asks for to learn that the search index moved."""
        digest = hashlib.sha256()
        for relative, data in sorted(self.search.items()):
            digest.update(f"{relative}\0{len(data)}\0".encode() + data)
        return json.dumps(digest.hexdigest()[:16]).encode()


class SiteBuilder:
    def __init__(
        self, source: ImageSource, blobs: BlobOpener, options: SiteOptions, templates: Templates, cache: Path
    ) -> None:
        self.source = source
        self.blobs = blobs
        self.options = options
        self.templates = templates
        self.cache = Cache(cache.resolve())

    # --- 1 and 2: what the site shows, and its pages ---------------------------------------------------------
    def content(self, memory: SiteMemory, run: BuildRun = BuildRun()) -> SiteContent:
        options = self.options
        frame = Frame(
            options.selection, options.files, self.cache.root, options.api_url, options.site_url, options.page_size
        )
        pending = memory.read(self.source, frame)
        report = render_images(
            pending,
            self.blobs,
            self.source.decode_limits,
            self.cache.root,
            options.files,
            run.workers,
            run.progress,
            run.start_method,
            run.published,
            prune=memory.dirty is None,
            renders=run.renders,
        )
        self.keep_what_was_learnt(report, pending)
        items = memory.absorb(report, options.files)
        theme = self._theme()
        # Every page is made with the templates and code: when they changed, each is looked at again.
        looked_at = items if memory.dirty is not None and theme != memory.theme else memory.checked(items)
        placed: dict[str, str] = {}
        for item in looked_at:
            placed.update(placements(item, options.files))
        return SiteContent(
            report,
            items,
            self._list_pages(memory),
            self.image_pages(looked_at),
            placed,
            self._search_index(memory.listed),
            theme,
        )

    def _search_index(self, listed: list[Card]) -> dict[str, bytes]:
        """The cards, newest first, in shards (`paging.shards`), and `gallery.json` naming them newest first."""
        cut = shards(len(listed), max(1, self.options.page_size))
        found = {site_layout.search_shard(s.number): search_shard(listed[s.start : s.end]) for s in cut}
        return {site_layout.SEARCH_INDEX: search_head([shard.number for shard in cut]), **found}

    def keep_what_was_learnt(self, report: Report, images: list[ImageInfo]) -> None:
        """A convenience for the next build, never a reason to fail this one (read-only credentials, say)."""
        if not report.learnt:
            return
        try:
            self.source.record_alpha(report.learnt, images)
        except errors.GalleryError as exc:
            log.warning(f"Could not keep what rendering learnt of {len(report.learnt)} older image(s): {exc.message}")

    def _theme(self) -> bytes:
        digest = hashlib.sha256(self.templates.digest(LAYOUT, IMAGE_BODY, INDEX_BODY))
        digest.update(self.options.site_name.encode())
        return digest.digest()

    def _list_pages(self, memory: SiteMemory) -> list[GalleryPage]:
        """The index's pages, the page of every tag and each tag's pages: lists of cards made again at every build
        (cheap: from the cards' texts), rendered only where their fingerprint moved."""
        tagged = _by_tag(memory.listed)
        cards_made_with = self.templates.digest(LAYOUT, INDEX_BODY)
        # On the index's first page only: on the others it would change them all at every upload.
        counts = contexts.counts(len(memory.items), memory.system)
        pages = self._card_pages(cards_made_with, memory.listed, "", INDEX_TITLE, counts, {"tags": bool(tagged)})
        pages.append(self.tags_page([(tag, len(cards)) for tag, (cards, _) in sorted(tagged.items())]))
        for tag, (cards, system) in sorted(tagged.items()):
            folder, title = site_layout.tag_folder(tag), f"Tag: {tag}"
            pages += self._card_pages(
                cards_made_with, cards, folder, title, contexts.counts(len(cards), system), {"tag": tag}
            )
        return pages

    def _card_pages(
        self,
        made_with: bytes,
        cards: list[Card],
        folder: str,
        title: str,
        counts: dict[str, int],
        extra: dict[str, Any],
    ) -> list[GalleryPage]:
        """A list of cards in blocks from the oldest (`paging.py`), its first page in `folder`. `extra`: what the
        body says besides the cards (a tag's name; whether there are tags to link to)."""
        cut = index_pages(len(cards), max(1, self.options.page_size))
        return [
            self.list_page(
                ListPage(folder, title, page.block, cards[page.start : page.end], counts, extra),
                Neighbours.around([p.block for p in cut], at),
                made_with,
            )
            for at, page in enumerate(cut)
        ]

    def list_page(self, page: ListPage, neighbours: Neighbours, made_with: bytes | None = None) -> GalleryPage:
        """One page of a list of cards: its first page (`block` None: with the list's counts) or a block's. It names
        its neighbours and the newest page, never every page: a new block changes the pages beside it alone."""
        made_with = made_with if made_with is not None else self.templates.digest(LAYOUT, INDEX_BODY)
        shown, folder = page.cards, page.folder
        links = {
            name: None if block is False else site_layout.link(f"{folder}{block_url(block)}")
            for name, block in (("newest", neighbours.newest), ("newer", neighbours.newer), ("older", neighbours.older))
        }
        context = {
            "block": page.block,
            "counts": page.counts if page.block is None else None,
            "span": None if page.block is None or not shown else contexts.span(shown[-1].fields, shown[0].fields),
            **links,
            "page_size": max(1, self.options.page_size),
            # "Browse by tag" on the first page only: whether there are tags must not change every page.
            **{k: v for k, v in page.extra.items() if page.block is None or k != "tags"},
        }
        # In a fixed order, so the text is as stable as JSON's and cheaper: the cards as the search index has them.
        inputs = f"{context!r}{''.join([card.text for card in shown])}".encode()
        fingerprint = hashlib.sha256(made_with + self.options.site_name.encode() + inputs).hexdigest()

        def variables() -> dict[str, Any]:
            return {"gallery": {**context, "cards": [card.fields for card in shown]}}

        url = f"{folder}{block_url(page.block)}"
        return GalleryPage(url, page.title, INDEX_BODY, fingerprint, variables, page.block)

    def tags_page(self, listed: list[tuple[str, int]]) -> GalleryPage:
        """Every tag with how many images carry it, by name."""
        digest = hashlib.sha256(self.templates.digest(LAYOUT, TAGS_BODY) + self.options.site_name.encode())
        digest.update(repr(listed).encode())

        def variables() -> dict[str, Any]:
            return {"tags": listed}

        return GalleryPage(f"{site_layout.TAG_PAGES}/", TAGS_TITLE, TAGS_BODY, digest.hexdigest(), variables)

    def image_pages(self, items: list[Item]) -> list[GalleryPage]:
        options = self.options
        made_with = self.templates.digest(LAYOUT, IMAGE_BODY) + options.site_name.encode()  # once: 10,000 pages
        pages = []
        for item in items:
            inputs = contexts.page_inputs(item, options.files, options.api_url, options.site_url).encode()

            def variables(item: Item = item) -> dict[str, Any]:
                return {"image": contexts.image_view(item, options.api_url, options.site_url, options.files)}

            fingerprint = hashlib.sha256(made_with + inputs).hexdigest()
            pages.append(
                GalleryPage(site_layout.image_page(item.slug), item.image.title, IMAGE_BODY, fingerprint, variables)
            )
        return pages

    # --- 3: written where changed --------------------------------------------------------------------------------
    def build(self, out: Path, run: BuildRun = BuildRun()) -> SiteState:
        """Make or bring up to date the site in `out`."""
        # A build against a bucket's content starts from nothing: what it remembers is another output's.
        memory = run.memory if run.memory is not None and not run.published else SiteMemory()
        content = self.content(memory, run)
        out.mkdir(parents=True, exist_ok=True)
        writer = _Writer(out, self, content, memory, run)
        writer.place_files()
        for relative, data in content.search.items():
            writer.write(relative, data)
        writer.write(site_layout.SEARCH_VERSION, content.search_version)
        writer.pages()
        if self.options.apps:
            writer.apps()
        return writer.finish()

    def render(self, page: GalleryPage) -> str:
        """A whole page of the gallery's own site: its body in the layout."""
        body = self.templates.body(page.body, page.root, **page.variables())
        view = PageView(page.title, page.url, content=body, is_homepage=page.url == "")
        return self.templates.page(LAYOUT, self.theme_config, view, page.root)

    def app_pages(self) -> dict[str, bytes]:
        """The management page and the API browser (talking to `api_url`, else their own origin) and the 404 page
        (served at any depth: root-absolute links)."""
        options = self.options
        pages = app_pages(self.templates, options.site_name, options.api_url)
        view = PageView("", "404.html")
        pages["404.html"] = self.templates.page(
            "404.html", self.theme_config, view, _path_of(options.site_url)
        ).encode()
        return pages

    @property
    def theme_config(self) -> ThemeConfig:
        return ThemeConfig(self.options.site_name)


class _Writer:
    """The writing half of one `SiteBuilder.build`."""

    def __init__(self, out: Path, builder: SiteBuilder, content: SiteContent, memory: SiteMemory, run: BuildRun):
        self.out, self.builder, self.content, self.memory, self.run = out, builder, content, memory, run
        self.written: list[str] = []
        self.kept: list[str] = []
        self.unplaced: list[str] = []
        self.produced: set[str] = set()
        self.dropped: list[str] = []  # files removed outside the owned folders
        self.manifest = _Manifest(out / site_layout.PAGES_MANIFEST, memory.pages_before(), memory.pages_looked_at())
        # Image pages are known from the manifest (one folder each: walking 10,000 folders costs more than the rest
        # of a rebuild); without one (a first build), read them like the rest. From memory, the index's pages are
        # known too, and the files each image places.
        self.by_manifest = bool(self.manifest.before) and not run.walk_pages
        unread: tuple[str, ...] = (site_layout.IMAGE_PAGES,) if self.by_manifest else ()
        if memory.dirty is not None:
            unread += (site_layout.RENDITIONS, site_layout.ORIGINALS, site_layout.INDEX_PAGES, site_layout.TAG_PAGES)
        self.there = _Tree.read(out, tuple(f for f in site_layout.MANAGED if f not in unread))

    def write(self, relative: str, data: bytes) -> None:
        self.produced.add(relative)
        if write_if_changed(self.out / relative, data):
            self.written.append(relative)

    def place_files(self) -> None:
        """Image files enter the site as hard links to the cache (a copy where links are impossible): a rebuild
        touches none already in place. What is there is read a directory at a time (entries carry their inodes)."""
        cache = self.builder.cache.root
        cached = _Tree.read(cache, ("r", "o") if self.memory.dirty is None else ())
        for relative, source in self.content.placed.items():
            self.produced.add(relative)
            cached_as = cached.identity(source)
            if relative in self.run.published and cached_as is None:
                self.kept.append(relative)
                continue
            if cached_as is not None and self.there.identity(relative) == cached_as:
                continue  # the very file (a hard link) is in place already
            try:
                _place(self.out / relative, cache / source)
                self.written.append(relative)
            except OSError as exc:  # one file the disk refuses must not stop the others
                self.unplaced.append(f"{relative}: {exc.strerror or exc}")

    def pages(self) -> None:
        """A page is rendered only when what it is made from changed since the last build, or its file is gone;
        an index page, also after a failed build (its cards may be back to what its fingerprint says, its file
        not)."""
        for page in self.content.index:
            self._page(page, trusted=not self.run.walk_pages)
        for page in self.content.images:
            self._page(page, trusted=True)

    def _page(self, page: GalleryPage, trusted: bool) -> None:
        self.manifest.note(page.url, page.fingerprint)
        self.produced.add(page.file)
        if trusted and self.manifest.unchanged(page.url) and self.there.identity(page.file) is not None:
            return
        self.write(page.file, self.builder.render(page).encode())

    def apps(self) -> None:
        """What a site of its own has besides the gallery: the management page and the API browser (talking to
        `api_url`, else their own origin), the 404 page (served at any depth: root-absolute links), the sitemap
        and the theme's assets."""
        for relative, page in self.builder.app_pages().items():
            self.write(relative, page)
        sitemaps = self._sitemaps()
        for relative, data in sitemaps.items():
            self.write(relative, data)
        # The parts sit at the root, outside the folders a build sweeps: a part no longer made goes here.
        parts = self.out.glob(f"{site_layout.SITEMAP_PARTS}*.xml")
        self.dropped += remove_files(self.out, sorted(p.name for p in parts if p.name not in sitemaps))
        self._assets()

    def _sitemaps(self) -> dict[str, bytes]:
        """When the site knows where it is published (a sitemap's URLs are absolute), `sitemap.xml` is an index of
        the lists' first pages' sitemap and one per shard of the index (its blocks' pages, its images' pages): an
        upload changes the newest shard's; the index changes when a shard is added. Without an address, an empty
        sitemap."""
        base = self.builder.options.site_url
        items = self.content.items
        cut = shards(len(items), max(1, self.builder.options.page_size)) if base else []
        files = sitemap_head(base, [shard.number for shard in cut])
        if not base:
            return files
        tags = [page.url.removeprefix(f"{site_layout.TAG_PAGES}/") for page in self.content.index if _tag_first(page)]
        files[site_layout.sitemap_shard("lists")] = lists_sitemap(base, [tag.removesuffix("/") for tag in tags])
        with_pages = {page.block for page in self.content.index if page.url.startswith(f"{site_layout.INDEX_PAGES}/")}
        for shard in cut:
            blocks = range(shard.number * SHARD_BLOCKS, (shard.number + 1) * SHARD_BLOCKS)
            own = [block for block in reversed(blocks) if block in with_pages]
            images = [item.slug for item in items[shard.start : shard.end]]
            files[site_layout.sitemap_shard(shard.number)] = shard_sitemap(base, own, images)
        return files

    def _assets(self) -> None:
        """Copied when the theme's files changed (by name, size and time) or one is missing from the site."""
        assets = self.builder.templates.assets()
        listing = [(name, path.stat().st_size, path.stat().st_mtime_ns) for name, path in assets.items()]
        self.manifest.note("assets/", hashlib.sha256(repr(listing).encode()).hexdigest())
        self.produced.update(assets)
        if self.manifest.unchanged("assets/") and all((self.out / name).is_file() for name in assets):
            return
        for name, path in assets.items():
            self.write(name, path.read_bytes())

    def finish(self) -> SiteState:
        """Whatever this build did not produce leaves the owned folders; the manifest says what the output holds."""
        memory, run, content = self.memory, self.run, self.content
        stale = set(self.there.stale(self.produced)) | set(memory.released)
        if self.by_manifest:  # (the index's pages are read as well in a full build: once is enough)
            stale |= {f"{url}index.html" for url in self.manifest.gone()}
        inside = tuple(f"{folder}/" for folder in run.sweep) if run.sweep is not None else ("",)
        removed = remove_files(self.out, sorted(p for p in stale if p.startswith(inside)))
        # The cache keeps what the site shows (a full build prunes it as it renders; see `render_images`).
        remove_files(self.builder.cache.root, sorted(memory.released.values()))
        self.manifest.save()  # last: it says what the output holds
        memory.pages, memory.theme = self.manifest.now, content.theme
        memory.index_pages = {page.url for page in content.index}
        report = content.report
        return SiteState(
            images=len(content.items),
            system=memory.system,
            rendered=report.rendered,
            failures=tuple(report.failures),
            deferred=tuple(report.deferred),
            written=tuple(self.written),
            removed=tuple(removed + self.dropped),
            kept=tuple(self.kept),
            leftovers=tuple(sorted(p for p in stale if not p.startswith(inside))),
            unplaced=tuple(self.unplaced),
            pages=dict(self.manifest.now),
        )


def search_shard(cards: list[Card]) -> bytes:
    """A shard of the search index: its cards' JSON texts, newest first."""
    return f"[{','.join(card.text for card in cards)}]".encode()


def search_head(numbers: list[int]) -> bytes:
    """`gallery.json`: the shards of the search index, newest first."""
    return json.dumps({"shards": [site_layout.search_shard(n) for n in numbers]}, separators=(",", ":")).encode()


def sitemap_head(base: str, shards: list[int]) -> dict[str, bytes]:
    """`sitemap.xml` and its gzip: with the site's address, an index of the lists' sitemap and of the shards'
    (`shards`, newest first); without it, an empty sitemap (a sitemap's URLs are absolute)."""
    parts = [site_layout.sitemap_shard("lists")] + [site_layout.sitemap_shard(n) for n in shards]
    text = (sitemap_index(base, parts) if base else urlset([])).encode()
    return {site_layout.SITEMAP: text, f"{site_layout.SITEMAP}.gz": gzip.compress(text, mtime=0)}


def lists_sitemap(base: str, tags: list[str]) -> bytes:
    """The lists' first pages: the index's, the tags' page and each tag's."""
    urls = [f"{base}/", f"{base}/{site_layout.TAG_PAGES}/"] + [f"{base}/{site_layout.tag_page(t)}" for t in tags]
    return urlset(urls).encode()


def shard_sitemap(base: str, blocks: list[int], images: list[str]) -> bytes:
    """A shard of the index's sitemap: the pages of its blocks that have one, and its images' pages."""
    urls = [f"{base}/{site_layout.link(block_url(block))}" for block in blocks]
    return urlset(urls + [f"{base}/{site_layout.image_page(image)}" for image in images]).encode()


def urlset(urls: list[str]) -> str:
    """A sitemap of these (absolute) page URLs."""
    entries = "".join(f"  <url><loc>{escape(url)}</loc></url>\n" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</urlset>\n'
    )


def sitemap_index(base: str, parts: list[str]) -> str:
    """`sitemap.xml` naming the sitemaps at these site paths (beside it, at the root)."""
    entries = "".join(f"  <sitemap><loc>{escape(f'{base}/{part}')}</loc></sitemap>\n" for part in parts)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}</sitemapindex>\n'
    )


def _tag_first(page: GalleryPage) -> bool:
    """Whether `page` is a tag's first page (`tags/<tag>/`)."""
    return page.block is None and page.url.startswith(f"{site_layout.TAG_PAGES}/") and page.url.count("/") == 2


def _by_tag(cards: list[Card]) -> dict[str, tuple[list[Card], int]]:
    """Each tag's cards, in the order of `cards`, and how many of them are system images (one pass: this runs at
    every build, over every card)."""
    found: dict[str, list[Card]] = {}
    system: Counter[str] = Counter()
    for card in cards:
        tags = card.tags
        if not tags:
            continue
        if card.system:
            system.update(tags)
        for tag in tags:
            found.setdefault(tag, []).append(card)
    return {tag: (listed, system[tag]) for tag, listed in found.items()}


def _path_of(url: str) -> str:
    """The path of a URL without its trailing slash ("https://x.example/pics/" → "/pics"; "" → "")."""
    return urlsplit(url).path.rstrip("/")


class _Manifest:
    """Fingerprints of the pages the last build rendered (`.gallery-pages.json` in the site), by URL: a page whose
    fingerprint is the same is not rendered again. `before`: what the last build left, when the caller remembers
    it (else read from the site); `looked_at`: of those, the pages this build notes again or drops (None: all)."""

    def __init__(self, path: Path, before: dict[str, str] | None = None, looked_at: set[str] | None = None) -> None:
        self.path = path
        if before is None:
            try:
                before = json.loads(path.read_text())
            except (OSError, ValueError):
                before = {}
        if not isinstance(before, dict) or any(name and "/" not in name for name in before):
            before = {}  # another build's manifest (by image id): every page is looked at once
        self.before: dict[str, str] = before
        self.looked_at = looked_at
        self.now: dict[str, str] = {}
        if looked_at is not None:  # what is not looked at stays as it was
            self.now = dict(self.before)
            for name in looked_at:
                self.now.pop(name, None)

    def note(self, name: str, fingerprint: str) -> None:
        self.now[name] = fingerprint

    def unchanged(self, name: str) -> bool:
        return name in self.now and self.before.get(name) == self.now[name]

    def gone(self) -> list[str]:
        """Pages the last build made that this one does not."""
        names = self.before if self.looked_at is None else self.looked_at
        return [n for n in names if n in self.before and n not in self.now and n != "assets/"]

    def save(self) -> None:
        if self.now != self.before or not self.path.is_file():
            write_atomically(self.path, json.dumps(self.now, separators=(",", ":")).encode())


class _Tree:
    """The files under some folders of a root, read a directory at a time: relative path → (device, inode). A
    directory entry carries its inode, so nothing is stat-ed but each folder once. A file in a folder not read is
    looked up on its own."""

    def __init__(self, root: Path, folders: tuple[str, ...]) -> None:
        self.root = root
        self.folders = folders
        self.files: dict[str, tuple[int, int]] = {}

    @classmethod
    def read(cls, root: Path, folders: tuple[str, ...]) -> _Tree:
        tree = cls(root, folders)
        for folder in folders:
            tree._walk(folder)
        return tree

    def _walk(self, folder: str) -> None:
        try:
            device = os.stat(self.root / folder).st_dev
            with os.scandir(self.root / folder) as listing:
                entries = list(listing)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            relative = f"{folder}/{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                self._walk(relative)
            else:
                self.files[relative] = (device, entry.inode())

    def identity(self, relative: str) -> tuple[int, int] | None:
        if relative.split("/", 1)[0] in self.folders:
            return self.files.get(relative)
        try:
            found = os.stat(self.root / relative)
        except OSError:
            return None
        return (found.st_dev, found.st_ino) if stat.S_ISREG(found.st_mode) else None

    def stale(self, kept: set[str]) -> list[str]:
        """The files read that are not in `kept`."""
        return sorted(relative for relative in self.files if relative not in kept)


def remove_files(root: Path, relatives: list[str]) -> list[str]:
    """Unlink each file, then every folder that lost one and is empty now (and so on up); returns them."""
    emptied: set[str] = set()
    for relative in relatives:
        (root / relative).unlink(missing_ok=True)
        parts = relative.split("/")
        emptied.update("/".join(parts[:n]) for n in range(1, len(parts)))
    for folder in sorted(emptied, key=len, reverse=True):
        with contextlib.suppress(OSError):  # only an empty one goes
            os.rmdir(root / folder)
    return relatives


def _place(target: Path, source: Path) -> None:
    """Put `source` at `target` (a hard link, else a copy); the caller knows it is not there already."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".tmp-{target.name}")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
