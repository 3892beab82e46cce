"""The `gallery` MkDocs plugin: the configured catalog becomes an index (paginated, so it works without JavaScript),
one page per image and the image files. Registered as the `mkdocs.plugins` entry point `gallery`.

Images are made by `render.py` into a content-keyed cache and enter the site as files with a source path, so
`mkdocs build --dirty` (what `gallery build` runs) copies only what changed; files of images no longer listed are
removed after the build. Per-image pages are light (our theme has no site-wide navigation), so thousands stay cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment, Template
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils.templates import TemplateContext

from gallery.domain import embed, errors, site_layout
from gallery.domain.model import ImageInfo
from gallery.services.images import Selection
from gallery.site import contexts
from gallery.site.memory import Frame, SiteMemory
from gallery.site.paging import index_pages
from gallery.site.progress import progress_bar
from gallery.site.render import (
    Cache,
    Item,
    Options,
    Report,
    placements,
    render_images,
    write_atomically,
    write_if_changed,
)
from gallery.site.renderer import BackgroundRenders
from gallery.site.renditions import DEFAULT_WIDTHS
from gallery.wiring import Gallery

log = get_plugin_logger(__name__)

DEFAULT_CACHE = ".cache/gallery"
INDEX_TITLE = "Image gallery"
PRIVATE_WARNING = (
    "PRIVATE images are included (--include-private, include_private: true): their pictures, names and pages are "
    "readable by anyone who can reach this site, without signing in (no export is offered for them)"
)


class GalleryConfig(base.Config):  # type: ignore[no-untyped-call]
    tenant = c.Optional(c.Type(str))
    system = c.Type(bool, default=False)
    include_private = c.Type(bool, default=False)
    public_only = c.Deprecated(message="public_only: the site holds public images only unless include_private: true")
    cache_dir = c.Optional(c.Type(str))
    api_url = c.Type(str, default="")
    page_size = c.Type(int, default=48)
    widths = c.ListOfItems(c.Type(int), default=list(DEFAULT_WIDTHS))
    webp = c.Type(bool, default=True)
    originals = c.Type(bool, default=True)
    exports = c.Type(bool, default=True)
    workers = c.Optional(c.Type(int))
    progress = c.Type(bool, default=True)


@dataclass(frozen=True)
class BuildRequest:
    """What a caller (`gallery build`) asks beyond the MkDocs config; what it leaves None, the config decides."""

    tenant: str | None = None  # a tenant's images (with the system's too when `system`)
    system: bool = False  # with no tenant: the system's images alone
    include_private: bool | None = None
    cache_dir: Path | None = None
    progress: bool | None = None  # a progress bar on the terminal (None: the config's `progress`)
    # A build with images it could not render fails (`gallery build` exits 1); a background rebuild keeps the
    # rest of the site current and reports them instead.
    fail_on_skipped: bool = True
    start_method: str | None = None  # multiprocessing's, for the render workers (see `render_images`)
    workers: int | None = None  # render processes (None: the config's, else every core; 1: in this process)
    # The managed folders whose leftovers this build removes (None: all). The living site shares its per-image
    # folders between generations and removes what no page refers to itself, once the new generation is served.
    sweep: tuple[str, ...] | None = None
    # Read every page's folder rather than trust the fingerprints, and render every index page: after a build that
    # failed part-way and may have left pages (in the living site's shared folders) that no fingerprint lists, or
    # index pages whose fingerprint describes what they held before it.
    walk_pages: bool = False
    # Site paths already published where the site goes (see `render_images`): a content-named file there is
    # neither made again nor copied into the output, and is listed in `BuildJob.kept` instead.
    published: frozenset[str] = frozenset()
    # What the last build of this site made, kept by a caller that builds the same site again and again (the living
    # site): the build then reads and renders only what changed since. None: a build from nothing but the output.
    memory: SiteMemory | None = field(default=None, compare=False, repr=False)
    # A pool of render processes that outlives the build (the living site's): the build waits for its renders only
    # until the catalog moves, and goes on without those still under way (`renderer.py`). None: it waits for all.
    renders: BackgroundRenders | None = field(default=None, compare=False, repr=False)


@dataclass
class BuildJob:
    """One build: the request, and once it ran, its outcome. The caller makes it and hands it to the plugin
    (`GalleryPlugin.job`), then reads the outcome from its own object; a plain `mkdocs build` gets a default one."""

    request: BuildRequest = field(default_factory=BuildRequest)
    report: Report = field(default_factory=Report)
    error: str | None = None
    written: list[str] = field(default_factory=list)  # site files written (new or changed), relative paths
    removed: list[str] = field(default_factory=list)  # site files removed
    kept: list[str] = field(default_factory=list)  # site files the site has, published already, not in the output
    # Leftovers in folders this build did not sweep (`BuildRequest.sweep`), for the caller to remove later.
    deferred: list[str] = field(default_factory=list)


@dataclass
class _Build:
    """What one build collects between MkDocs' events: made fresh in `on_pre_build`, so a rebuild under
    `mkdocs serve` (which keeps this plugin, see `on_startup`) starts from nothing."""

    options: Options = field(default_factory=Options)
    memory: SiteMemory = field(default_factory=SiteMemory)
    items: list[Item] = field(default_factory=list)  # every image the site shows, newest first
    cache: Cache | None = None
    env: Environment | None = None
    nav: Navigation | None = None
    image_pages: dict[str, Item] = field(default_factory=dict)
    index_pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    produced: set[str] = field(default_factory=set)
    placed: dict[str, str] = field(default_factory=dict)  # site path → its file's path in the cache
    search_index: bytes = b"[]"
    card_texts: dict[str, str] = field(default_factory=dict)
    urls: bytes = b""  # a digest of the index pages' URLs  # each index page's cards, as gallery.json has them
    theme: bytes = b""  # a digest of what every page is made with besides its own inputs
    pages: _Manifest = field(default_factory=lambda: _Manifest(Path(os.devnull)))


class GalleryPlugin(BasePlugin[GalleryConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.job = BuildJob()
        self.build = _Build()

    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Defining this keeps one plugin for every build of a `mkdocs serve` session (MkDocs makes a new one per
        build otherwise); each build's state is `_Build`, reset before it starts."""

    def on_pre_build(self, *, config: MkDocsConfig) -> None:
        self.build = _Build()
        self.job.report, self.job.error = Report(), None
        self.job.written, self.job.removed, self.job.kept = [], [], []

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        settings, request = self.config, self.job.request
        include_private = settings.include_private if request.include_private is None else request.include_private
        progress = settings.progress if request.progress is None else request.progress
        try:
            gallery = Gallery.open(signing=False)  # a build signs nothing: it needs no token secret
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot open the catalog: {exc.message}") from exc
        try:
            tenant, system = self._selection(gallery)
            if include_private:
                log.warning(PRIVATE_WARNING)
            # Relative to the MkDocs config, like the site: `mkdocs serve` (which builds into a temporary
            # directory) then reuses what `gallery build` made.
            base = Path(config.config_file_path or ".").parent
            cache_root = request.cache_dir or (base / (settings.cache_dir or DEFAULT_CACHE)).resolve()
            options = Options(tuple(settings.widths), settings.webp, settings.originals, settings.exports)
            self.build.options = options
            memory = request.memory if request.memory is not None and not request.published else SiteMemory()
            self.build.memory = memory
            selection = Selection(tenant, system, include_private)
            links = self.config.api_url.rstrip("/"), (config.site_url or "").rstrip("/")
            frame = Frame(selection, options, cache_root, *links, self.config.page_size)
            pending = memory.read(gallery.images, frame)
            report = render_images(
                pending,
                gallery.settings,
                gallery.images.decode_limits,
                cache_root,
                options,
                request.workers or settings.workers,
                progress_bar("Rendering images") if progress else None,
                request.start_method,
                request.published,
                prune=memory.dirty is None,
                renders=request.renders,
            )
            self._keep_what_was_learnt(gallery, report, pending)
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot read the catalog: {exc.message}") from exc
        finally:
            gallery.close()
        report.items = self.build.items = memory.absorb(report, options)
        self.job.report = report
        log.info(report.summary().splitlines()[0])
        self._add_files(files, config, Cache(cache_root))
        return files

    @staticmethod
    def _keep_what_was_learnt(gallery: Gallery, report: Report, images: list[ImageInfo]) -> None:
        """A convenience for the next build, never a reason to fail this one (read-only credentials, say): the
        site is right either way, and the next build decodes those images again."""
        if not report.learnt:
            return
        try:
            gallery.images.record_alpha(report.learnt, images)
        except errors.GalleryError as exc:
            log.warning(f"Could not keep what rendering learnt of {len(report.learnt)} older image(s): {exc.message}")

    def _selection(self, gallery: Gallery) -> tuple[str | None, bool]:
        """(tenant id, with system images): the request's when it names one, else the config's."""
        request = self.job.request
        if request.tenant is not None:
            wanted, system = request.tenant, request.system
        elif request.system:
            wanted, system = None, True
        else:
            wanted, system = self.config.tenant, self.config.system
        return (gallery.accounts.resolve_tenant(wanted).id if wanted else None), system

    def _add_files(self, files: Files, config: MkDocsConfig, cache: Cache) -> None:
        self.build.cache = cache

        def add(file: File) -> None:
            files.append(file)
            self.build.produced.add(file.dest_uri)

        memory, items = self.build.memory, self.build.items
        for item in memory.checked(items):
            self.build.placed.update(placements(item, self.build.options))
            self.build.image_pages[item.slug] = item
        cards = memory.listed

        size = max(1, self.config.page_size)
        pages = index_pages(len(cards), size)
        urls = [page.url for page in pages]
        self.build.urls = hashlib.sha256(repr(urls).encode()).digest()
        for page in pages:
            # The first page is MkDocs' (the nav's home, in the sitemap), by its source; the others are ours
            # (`_write_pages`), by their path.
            name = page.source if page.block is None else page.url
            self.build.card_texts[name] = "".join(c.text for c in cards[page.start : page.end])
            self.build.index_pages[name] = {
                "cards": [card.fields for card in cards[page.start : page.end]],
                "number": page.number,
                "pages": len(pages),
                "urls": urls,
                "block": page.block,
                # On the first page only: on the others it would change them all at every upload.
                "counts": contexts.counts(len(items), memory.system) if page.block is None else None,
                "page_size": size,
            }
            if page.block is None and files.get_file_from_path(page.source) is None:
                add(_IndexPage.make(config, page.source, self._index_unchanged))
        self.build.search_index = f"[{','.join(card.text for card in cards)}]".encode()
        for source, template, title in (
            (site_layout.MANAGE_PAGE, "manage.html", "Manage images"),
            (site_layout.API_PAGE, "api-docs.html", "API"),
        ):
            if files.get_file_from_path(source) is None:
                content = f"---\ntemplate: {template}\ntitle: {title}\n---\n"
                add(File.generated(config, source, content=content, inclusion=InclusionLevel.NOT_IN_NAV))

    def on_env(self, env: Environment, /, *, config: MkDocsConfig, files: Files) -> Environment:
        """The templates are known now (and the nav): what decides which pages need rendering at all."""
        self.build.env = env
        memory = self.build.memory
        theme = self.build.theme = _theme_digest(env, config, self.build.nav)
        path = Path(config.site_dir) / site_layout.PAGES_MANIFEST
        self.build.pages = _Manifest(path, memory.pages_before(), memory.pages_looked_at())
        if memory.dirty is not None and theme != memory.theme:  # every page is made with it: each is looked at
            self.build.image_pages = {item.slug: item for item in self.build.items}
        for src, context in self.build.index_pages.items():
            # Built in a fixed order, so its text is as stable as JSON's, and cheaper; the cards as gallery.json
            # has them (made once per change), and the pages' URLs as one digest (they are on every page).
            other = {k: v for k, v in context.items() if k not in ("cards", "urls")}
            inputs = f"{other!r}{self.build.card_texts[src]}".encode()
            self.build.pages.note(src, hashlib.sha256(theme + self.build.urls + inputs).hexdigest())
        return env

    def on_nav(self, nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation:
        self.build.nav = nav
        return nav

    def on_page_context(
        self, context: TemplateContext, /, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext | None:
        src = page.file.src_uri
        if src in self.build.index_pages:
            context["gallery"] = self.build.index_pages[src]  # type: ignore[typeddict-unknown-key]
        elif src in (site_layout.MANAGE_PAGE, site_layout.API_PAGE):
            # The API the page talks to: its own origin unless `api_url` names another (which must allow it, CORS).
            context["manage"] = {"api": self.config.api_url.rstrip("/")}  # type: ignore[typeddict-unknown-key]
        return context

    def on_post_build(self, config: MkDocsConfig) -> None:
        """Image files enter the site as hard links to the cache (a copy where links are impossible): a rebuild
        touches none that is already in place. Then whatever this build did not produce leaves the managed
        directories. What is there is read once, a directory at a time (entries carry their inodes): a rebuild of
        10,000 images stats nothing. A build that goes by its memory of the last one (`memory.py`) reads none of the
        per-image folders: it looks at the files of the images that changed, and drops those no image places."""
        site, memory = Path(config.site_dir), self.build.memory
        # Image pages are known from the manifest (one folder each: walking 10,000 folders costs more than the rest
        # of a rebuild); without one (a first build, an older site), read them like the rest. From memory, the
        # index's pages are known too, and the files each image places.
        by_manifest = bool(self.build.pages.before) and not self.job.request.walk_pages
        unread: tuple[str, ...] = (site_layout.IMAGE_PAGES,) if by_manifest else ()
        if memory.dirty is not None:
            unread += (site_layout.RENDITIONS, site_layout.ORIGINALS, site_layout.INDEX_PAGES)
        there = _Tree.read(site, tuple(f for f in site_layout.MANAGED if f not in unread))
        cache_root = self.build.cache.root if self.build.cache else site
        cached = _Tree.read(cache_root, ("r", "o") if memory.dirty is None else ())
        unplaced = []
        for relative, source in self.build.placed.items():
            cached_as = cached.identity(source)
            if relative in self.job.request.published and cached_as is None:
                self.job.kept.append(relative)
                continue
            if cached_as is not None and there.identity(relative) == cached_as:
                continue  # the very file (a hard link) is in place already
            try:
                _place(site / relative, cache_root / source)
                self.job.written.append(relative)
            except OSError as exc:  # one file the disk refuses must not stop the others
                unplaced.append(f"{relative}: {exc.strerror or exc}")
        self.build.produced.update(self.build.placed)
        # Written by us, not as a MkDocs file: MkDocs would write it in place every build.
        if write_if_changed(site / site_layout.SEARCH_INDEX, self.build.search_index):
            self.job.written.append(site_layout.SEARCH_INDEX)
        version = json.dumps(hashlib.sha256(self.build.search_index).hexdigest()[:16]).encode()
        if write_if_changed(site / site_layout.SEARCH_VERSION, version):
            self.job.written.append(site_layout.SEARCH_VERSION)
        self._write_pages(site, config, there)
        stale = set(there.stale(self.build.produced)) | set(memory.released)
        if by_manifest:  # (the index's pages are read as well in a full build: once is enough)
            stale |= {f"{_page_url(name)}index.html" for name in self.build.pages.gone()}
        swept = self.job.request.sweep
        inside = tuple(f"{folder}/" for folder in swept) if swept is not None else ("",)
        now = sorted(p for p in stale if p.startswith(inside))
        self.job.deferred = sorted(p for p in stale if not p.startswith(inside))
        self.job.removed.extend(remove_files(site, now))
        # The cache keeps what the site shows (a full build prunes it as it renders; see `render_images`).
        remove_files(cache_root, sorted(memory.released.values()))
        self.build.pages.save()  # last: it says what the output holds
        memory.pages, memory.theme = self.build.pages.now, self.build.theme
        memory.index_pages = set(self.build.index_pages)
        if unplaced or (self.job.report.failures and self.job.request.fail_on_skipped):
            listed = "".join(f"\n  {line}" for line in unplaced)
            raise self._fail(f"Some images were skipped: {self.job.report.summary()}{listed}")

    def _write_pages(self, site: Path, config: MkDocsConfig, there: _Tree) -> None:
        """The index's pages after the first, and one page per image, rendered by us with the theme's templates
        rather than as MkDocs pages: MkDocs would run Markdown and every template for each of them on every build,
        and hand each to the sitemap. A page is rendered only when what it is made from (its cards; the row, its
        renditions, the settings; the theme and the code that makes its view) changed since the last build, or its
        file is gone; an image's view is made only then."""
        assert self.build.env is not None
        index = self.build.env.get_template("index.html")
        for name, context in self.build.index_pages.items():
            if name.endswith(".md"):
                continue  # MkDocs' (the first page)

            def index_page(context: dict[str, Any] = context) -> tuple[str, dict[str, Any]]:
                return INDEX_TITLE, {"gallery": context}

            # An image page's fingerprint holds its row's version, which no change brings back; an index page's
            # holds its cards, which an undone change does: after a failed build, each is rendered and compared.
            trusted = not self.job.request.walk_pages
            self._write_page(site, config, there, name, index, index_page, trusted)
        image = self.build.env.get_template("image.html")
        api_url = self.config.api_url.rstrip("/")
        site_url = (config.site_url or "").rstrip("/")
        options = self.build.options
        for slug, item in self.build.image_pages.items():
            inputs = contexts.page_inputs(item, options, api_url, site_url).encode()
            self.build.pages.note(slug, hashlib.sha256(self.build.theme + inputs).hexdigest())

            def image_page(item: Item = item) -> tuple[str, dict[str, Any]]:
                view = contexts.image_view(item, api_url, site_url, options)
                return view["title"], {"image": view}

            self._write_page(site, config, there, slug, image, image_page)

    def _write_page(
        self,
        site: Path,
        config: MkDocsConfig,
        there: _Tree,
        name: str,
        template: Template,
        view: Callable[[], tuple[str, dict[str, Any]]],
        trusted: bool = True,
    ) -> None:
        """Render page `name` (its fingerprint noted) unless it is unchanged and in place (and `trusted`)."""
        url = _page_url(name)
        relative = f"{url}index.html"
        self.build.produced.add(relative)
        if trusted and self.build.pages.unchanged(name) and there.identity(relative) is not None:
            return
        title, variables = view()
        page = SimpleNamespace(title=title, url=url, is_homepage=False, meta={}, content="")
        root = "/".join([".."] * url.count("/"))  # relative links: the site may be published anywhere
        html = template.render(config=config, nav=self.build.nav, page=page, base_url=root, **variables)
        if write_if_changed(site / relative, html.encode()):
            self.job.written.append(relative)

    def _index_unchanged(self, src: str, destination: str) -> bool:
        """Whether an index page's output is what this build would render again (MkDocs then skips it)."""
        return self.build.pages.unchanged(src) and os.path.isfile(destination)

    def _fail(self, message: str) -> PluginError:
        """Kept for `gallery build`, which reports it in its own words (MkDocs only logs it)."""
        self.job.error = message
        return PluginError(message)


class _IndexPage(File):
    """The index's first page: front matter only, its cards come from `on_page_context`. In an incremental build
    MkDocs skips a page that is not modified: this one is, unless its cards, the theme and its output file are as
    the last build left them."""

    unchanged: Callable[[str, str], bool]

    @classmethod
    def make(cls, config: MkDocsConfig, src: str, unchanged: Callable[[str, str], bool]) -> _IndexPage:
        page = cls(src, None, config.site_dir, config.use_directory_urls, inclusion=InclusionLevel.INCLUDED)
        page.content_string = f"---\ntemplate: index.html\ntitle: {INDEX_TITLE}\n---\n"
        page.unchanged = unchanged
        return page

    def is_modified(self) -> bool:
        return not self.unchanged(self.src_uri, self.abs_dest_path)


class _Manifest:
    """Fingerprints of the pages the last build rendered (`.gallery-pages.json` in the site): a page whose
    fingerprint is the same is not rendered again. `before`: what the last build left, when the caller remembers
    it (else read from the site); `looked_at`: of those, the pages this build notes again or drops (None: all)."""

    def __init__(self, path: Path, before: dict[str, str] | None = None, looked_at: set[str] | None = None) -> None:
        self.path = path
        if before is None:
            try:
                before = json.loads(path.read_text())
            except (OSError, ValueError):
                before = {}
        self.before: dict[str, str] = before or {}
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
        """Pages of ours the last build made that this one does not (MkDocs' pages are by source, `.md`)."""
        names = self.before if self.looked_at is None else self.looked_at
        return [n for n in names if n in self.before and n not in self.now and not n.endswith(".md")]

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


def _page_url(name: str) -> str:
    """A page of ours by its name in the manifest: an image's id, or an index page's path (`page/<n>/`)."""
    return name if "/" in name else site_layout.image_page(name)


def _theme_digest(env: Environment, config: MkDocsConfig, nav: Navigation | None) -> bytes:
    """What every page is made with besides its own inputs: the templates, the code that makes their contexts and
    snippets, the site's name and the nav."""
    digest = hashlib.sha256()
    for name in ("image.html", "index.html", "main.html"):
        source, _, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        digest.update(source.encode())
    for module in (contexts, embed):
        digest.update(Path(module.__file__ or "").read_bytes())
    digest.update(config.site_name.encode())
    digest.update("".join(f"{p.title}{p.url}" for p in (nav.pages if nav else [])).encode())
    return digest.digest()


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
