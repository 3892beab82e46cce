"""The `gallery` MkDocs plugin: the configured catalog becomes an index (paginated, so it works without JavaScript),
one page per image and the image files. Registered as the `mkdocs.plugins` entry point `gallery`.

Images are made by `render.py` into a content-keyed cache and enter the site as files with a source path, so
`mkdocs build --dirty` (what `gallery build` runs) copies only what changed; files of images no longer listed are
removed after the build. Per-image pages are light (our theme has no site-wide navigation), so thousands stay cheap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Environment
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils.templates import TemplateContext

from gallery.domain import errors, site_layout
from gallery.domain.model import ImageInfo
from gallery.services.images import Selection
from gallery.site import contexts
from gallery.site.progress import progress_bar
from gallery.site.render import (
    Cache,
    Item,
    Options,
    Report,
    render_images,
    write_atomically,
    write_if_changed,
)
from gallery.site.renditions import DEFAULT_WIDTHS
from gallery.wiring import Gallery

log = get_plugin_logger(__name__)

DEFAULT_CACHE = ".cache/gallery"
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
    # Site paths already published where the site goes (see `render_images`): a content-named file there is
    # neither made again nor copied into the output, and is listed in `BuildJob.kept` instead.
    published: frozenset[str] = frozenset()


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


@dataclass
class _Build:
    """What one build collects between MkDocs' events: made fresh in `on_pre_build`, so a rebuild under
    `mkdocs serve` (which keeps this plugin, see `on_startup`) starts from nothing."""

    options: Options = field(default_factory=Options)
    cache: Cache | None = None
    env: Environment | None = None
    nav: Navigation | None = None
    image_pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    index_pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    produced: set[str] = field(default_factory=set)
    placed: dict[str, Path] = field(default_factory=dict)
    search_index: bytes = b"[]"


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
            self.build.options = Options(tuple(settings.widths), settings.webp, settings.originals, settings.exports)
            images = gallery.images.for_site(Selection(tenant, system, include_private))
            report = render_images(
                images,
                gallery.settings,
                gallery.images.decode_limits,
                cache_root,
                self.build.options,
                request.workers or settings.workers,
                progress_bar("Rendering images") if progress else None,
                request.start_method,
                request.published,
            )
            self._keep_what_was_learnt(gallery, report, images)
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot read the catalog: {exc.message}") from exc
        finally:
            gallery.close()
        self.job.report = report
        log.info(report.summary().splitlines()[0])
        self._add_files(files, config, Cache(cache_root), report.items)
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

    def _add_files(self, files: Files, config: MkDocsConfig, cache: Cache, items: list[Item]) -> None:
        api_url = self.config.api_url.rstrip("/")
        site_url = (config.site_url or "").rstrip("/")
        self.build.cache = cache

        def add(file: File) -> None:
            files.append(file)
            self.build.produced.add(file.dest_uri)

        cards = []
        for item in items:
            view = contexts.image_view(item, api_url, site_url, self.build.options)
            cards.append(contexts.card(view))
            for rendition in item.plan.renditions:
                self.build.placed[site_layout.rendition(rendition.name)] = cache.rendition(rendition.name)
            if self.build.options.needs_original(item.image, item.plan):
                self.build.placed[view["original_path"]] = cache.original(item.image.etag)
            self.build.image_pages[item.slug] = view

        size = max(1, self.config.page_size)
        pages = max(1, math.ceil(len(cards) / size))
        counts = contexts.counts(items)
        for number in range(1, pages + 1):
            src = site_layout.index_page_source(number)
            self.build.index_pages[src] = {
                "cards": cards[(number - 1) * size : number * size],
                "number": number,
                "pages": pages,
                "counts": counts,
                "page_size": size,
            }
            if files.get_file_from_path(src) is None:
                add(_index_page(config, src, first=number == 1))
        self.build.search_index = json.dumps(cards, separators=(",", ":")).encode()
        for source, template, title in (
            (site_layout.MANAGE_PAGE, "manage.html", "Manage images"),
            (site_layout.API_PAGE, "api-docs.html", "API"),
        ):
            if files.get_file_from_path(source) is None:
                content = f"---\ntemplate: {template}\ntitle: {title}\n---\n"
                add(File.generated(config, source, content=content, inclusion=InclusionLevel.NOT_IN_NAV))

    def on_env(self, env: Environment, /, *, config: MkDocsConfig, files: Files) -> Environment:
        self.build.env = env
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
        directories."""
        site = Path(config.site_dir)
        unplaced = []
        files = _Files()
        for relative, source in self.build.placed.items():
            if relative in self.job.request.published and files.identity(source) is None:
                self.job.kept.append(relative)
                continue
            if (there := files.identity(site / relative)) is not None and there == files.identity(source):
                continue  # the very file (a hard link) is in place already
            try:
                _place(site / relative, source)
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
        self._write_image_pages(site, config)
        for directory in site_layout.MANAGED:
            root = site / directory
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*"), reverse=True):
                relative = path.relative_to(site).as_posix()
                if path.is_file() and relative not in self.build.produced:
                    path.unlink()
                    self.job.removed.append(relative)
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        if unplaced or (self.job.report.failures and self.job.request.fail_on_skipped):
            listed = "".join(f"\n  {line}" for line in unplaced)
            raise self._fail(f"Some images were skipped: {self.job.report.summary()}{listed}")

    def _write_image_pages(self, site: Path, config: MkDocsConfig) -> None:
        """One page per image, rendered by us with the theme's `image.html` rather than as MkDocs pages: MkDocs
        would run Markdown and every template for each of them on every build. A page is rendered only when what
        it shows (or the theme) changed since the last build; a fingerprint per page is kept in the cache."""
        assert self.build.env is not None
        assert self.build.nav is not None
        assert self.build.cache is not None
        template = self.build.env.get_template("image.html")
        theme = hashlib.sha256()
        for name in ("image.html", "main.html"):
            source, _, _ = self.build.env.loader.get_source(self.build.env, name)  # type: ignore[union-attr]
            theme.update(source.encode())
        theme.update(config.site_name.encode())
        theme.update("".join(f"{p.title}{p.url}" for p in self.build.nav.pages).encode())
        manifest_path = self.build.cache.root / "pages.json"
        try:
            manifest: dict[str, str] = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        fresh: dict[str, str] = {}
        for slug, view in self.build.image_pages.items():
            relative = f"{site_layout.image_page(slug)}index.html"
            target = site / relative
            fingerprint = hashlib.sha256(theme.digest() + json.dumps(view, sort_keys=True).encode()).hexdigest()
            fresh[slug] = fingerprint
            self.build.produced.add(relative)
            if manifest.get(slug) == fingerprint and target.is_file():
                continue
            url = site_layout.image_page(slug)
            page = SimpleNamespace(title=view["title"], url=url, is_homepage=False, meta={}, content="")
            html = template.render(
                image=view, config=config, nav=self.build.nav, page=page, base_url=site_layout.IMAGE_PAGE_ROOT
            )
            if write_if_changed(target, html.encode()):
                self.job.written.append(relative)
        write_atomically(manifest_path, json.dumps(fresh).encode())

    def _fail(self, message: str) -> PluginError:
        """Kept for `gallery build`, which reports it in its own words (MkDocs only logs it)."""
        self.job.error = message
        return PluginError(message)


def _index_page(config: MkDocsConfig, src: str, first: bool) -> File:
    """An index page: front matter only, its cards come from `on_page_context`. Only the first is in the nav."""
    content = "---\ntemplate: index.html\ntitle: Image gallery\n---\n"
    inclusion = InclusionLevel.INCLUDED if first else InclusionLevel.NOT_IN_NAV
    return File.generated(config, src, content=content, inclusion=inclusion)


class _Files:
    """Which file a path is, (device, inode), read one directory at a time: a directory entry carries its inode,
    so a rebuild of 10,000 images reads a few folders rather than stat-ing 80,000 paths."""

    def __init__(self) -> None:
        self.folders: dict[Path, tuple[int, dict[str, int]]] = {}

    def identity(self, path: Path) -> tuple[int, int] | None:
        folder = self.folders.get(path.parent)
        if folder is None:
            try:
                device = os.stat(path.parent).st_dev
                with os.scandir(path.parent) as entries:
                    inodes = {e.name: e.inode() for e in entries if e.is_file(follow_symlinks=False)}
            except FileNotFoundError:
                device, inodes = 0, {}
            folder = self.folders[path.parent] = (device, inodes)
        inode = folder[1].get(path.name)
        return None if inode is None else (folder[0], inode)


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
