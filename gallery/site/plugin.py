"""The `gallery` MkDocs plugin: the configured catalog becomes an index (paginated, so it works without JavaScript),
one page per image, the image files and export JSON. Registered as the `mkdocs.plugins` entry point `gallery`.

Images are made by `build.py` into a content-keyed cache and enter the site as files with a source path, so
`mkdocs build --dirty` (what `gallery build` runs) copies only what changed; files of images no longer listed are
removed after the build. Per-image pages are light (our theme has no site-wide navigation), so thousands stay cheap.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
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
from gallery.site import views
from gallery.site.build import (
    Cache,
    Item,
    Options,
    Report,
    Selection,
    build_images,
    export_id,
    write_atomically,
)
from gallery.site.progress import progress_bar
from gallery.site.renditions import DEFAULT_WIDTHS
from gallery.wiring import Gallery

log = get_plugin_logger(__name__)

DEFAULT_CACHE = ".cache/gallery"
PRIVATE_WARNING = (
    "PRIVATE images are included (--include-private, include_private: true): their pictures, names and pages are "
    "readable by anyone who can reach this site, without signing in (their export JSON stays off it)"
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


class GalleryPlugin(BasePlugin[GalleryConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.report = Report()
        self.image_pages: dict[str, dict[str, Any]] = {}
        self.env: Environment | None = None
        self.nav: Navigation | None = None
        self.cache: Cache | None = None
        self.index_pages: dict[str, dict[str, Any]] = {}
        self.produced: set[str] = set()
        self.error: str | None = None
        self.options = Options()
        self.placed: dict[str, Path] = {}

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        settings = self.config
        self.error = None
        try:
            gallery = Gallery.open()
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot open the catalog: {exc.message}") from exc
        try:
            selection = Selection(self._tenant_id(gallery), settings.system, settings.include_private)
            if settings.include_private:
                log.warning(PRIVATE_WARNING)
            # Relative to the MkDocs config, like the site: `mkdocs serve` (which builds into a temporary
            # directory) then reuses what `gallery build` made.
            base = Path(config.config_file_path or ".").parent
            cache_root = (base / (settings.cache_dir or DEFAULT_CACHE)).resolve()
            self.options = Options(tuple(settings.widths), settings.webp, settings.originals, settings.exports)
            self.report = build_images(
                gallery,
                selection,
                cache_root,
                self.options,
                settings.workers,
                progress_bar("Rendering images") if settings.progress else None,
            )
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot read the catalog: {exc.message}") from exc
        finally:
            gallery.close()
        log.info(self.report.summary().splitlines()[0])
        self._add_files(files, config, Cache(cache_root), self.report.items)
        return files

    def _tenant_id(self, gallery: Gallery) -> str | None:
        wanted = self.config.tenant
        if not wanted:
            return None
        return gallery.accounts.resolve_tenant(wanted).id

    def _add_files(self, files: Files, config: MkDocsConfig, cache: Cache, items: list[Item]) -> None:
        api_url = self.config.api_url.rstrip("/")
        site_url = (config.site_url or "").rstrip("/")
        self.produced = set()
        self.placed = {}
        self.image_pages = {}
        self.index_pages = {}
        self.cache = cache

        def add(file: File) -> None:
            files.append(file)
            self.produced.add(file.dest_uri)

        cards = []
        for item in items:
            view = views.image_view(item, api_url, site_url, self.options)
            cards.append(views.card(view))
            for rendition in item.plan.renditions:
                self.placed[site_layout.rendition(rendition.name)] = cache.rendition(rendition.name)
            if self.options.needs_original(item.plan):
                self.placed[view["original_path"]] = cache.original(item.image.etag)
            if view["export_path"]:
                self.placed[view["export_path"]] = cache.export(export_id(item.image))
            self.image_pages[item.slug] = view

        size = max(1, self.config.page_size)
        pages = max(1, math.ceil(len(cards) / size))
        counts = views.counts(items)
        for number in range(1, pages + 1):
            src = site_layout.index_page_source(number)
            self.index_pages[src] = {
                "cards": cards[(number - 1) * size : number * size],
                "number": number,
                "pages": pages,
                "counts": counts,
                "page_size": size,
            }
            if files.get_file_from_path(src) is None:
                add(_index_page(config, src, first=number == 1))
        add(File.generated(config, site_layout.SEARCH_INDEX, content=json.dumps(cards, separators=(",", ":"))))
        if files.get_file_from_path(site_layout.MANAGE_PAGE) is None:
            content = "---\ntemplate: manage.html\ntitle: Manage images\n---\n"
            add(File.generated(config, site_layout.MANAGE_PAGE, content=content, inclusion=InclusionLevel.NOT_IN_NAV))

    def on_env(self, env: Environment, /, *, config: MkDocsConfig, files: Files) -> Environment:
        self.env = env
        return env

    def on_nav(self, nav: Navigation, /, *, config: MkDocsConfig, files: Files) -> Navigation:
        self.nav = nav
        return nav

    def on_page_context(
        self, context: TemplateContext, /, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext | None:
        src = page.file.src_uri
        if src in self.index_pages:
            context["gallery"] = self.index_pages[src]  # type: ignore[typeddict-unknown-key]
        elif src == site_layout.MANAGE_PAGE:
            # The API the page talks to: its own origin unless `api_url` names another (which must allow it, CORS).
            context["manage"] = {"api": self.config.api_url.rstrip("/")}  # type: ignore[typeddict-unknown-key]
        return context

    def on_post_build(self, config: MkDocsConfig) -> None:
        """Image files enter the site as hard links to the cache (a copy where links are impossible): a rebuild
        touches none that is already in place. Then whatever this build did not produce leaves the managed
        directories."""
        site = Path(config.site_dir)
        unplaced = []
        for relative, source in self.placed.items():
            try:
                _place(site / relative, source)
            except OSError as exc:  # one file the disk refuses must not stop the others
                unplaced.append(f"{relative}: {exc.strerror or exc}")
        self.produced.update(self.placed)
        self._write_image_pages(site, config)
        for directory in site_layout.MANAGED:
            root = site / directory
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*"), reverse=True):
                relative = path.relative_to(site).as_posix()
                if path.is_file() and relative not in self.produced:
                    path.unlink()
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        if self.report.failures or unplaced:
            listed = "".join(f"\n  {line}" for line in unplaced)
            raise self._fail(f"Some images were skipped: {self.report.summary()}{listed}")

    def _write_image_pages(self, site: Path, config: MkDocsConfig) -> None:
        """One page per image, rendered by us with the theme's `image.html` rather than as MkDocs pages: MkDocs
        would run Markdown and every template for each of them on every build. A page is rendered only when what
        it shows (or the theme) changed since the last build; a fingerprint per page is kept in the cache."""
        assert self.env is not None
        assert self.nav is not None
        assert self.cache is not None
        template = self.env.get_template("image.html")
        theme = hashlib.sha256()
        for name in ("image.html", "main.html"):
            source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            theme.update(source.encode())
        theme.update(config.site_name.encode())
        theme.update("".join(f"{p.title}{p.url}" for p in self.nav.pages).encode())
        manifest_path = self.cache.root / "pages.json"
        try:
            manifest: dict[str, str] = json.loads(manifest_path.read_text())
        except (OSError, ValueError):
            manifest = {}
        fresh: dict[str, str] = {}
        for slug, view in self.image_pages.items():
            relative = f"{site_layout.image_page(slug)}index.html"
            target = site / relative
            fingerprint = hashlib.sha256(theme.digest() + json.dumps(view, sort_keys=True).encode()).hexdigest()
            fresh[slug] = fingerprint
            self.produced.add(relative)
            if manifest.get(slug) == fingerprint and target.is_file():
                continue
            url = site_layout.image_page(slug)
            page = SimpleNamespace(title=view["title"], url=url, is_homepage=False, meta={}, content="")
            html = template.render(
                image=view, config=config, nav=self.nav, page=page, base_url=site_layout.IMAGE_PAGE_ROOT
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(target, html.encode())
        write_atomically(manifest_path, json.dumps(fresh).encode())

    def _fail(self, message: str) -> PluginError:
        """Kept for `gallery build`, which reports it in its own words (MkDocs only logs it)."""
        self.error = message
        return PluginError(message)


def _index_page(config: MkDocsConfig, src: str, first: bool) -> File:
    """An index page: front matter only, its cards come from `on_page_context`. Only the first is in the nav."""
    content = "---\ntemplate: index.html\ntitle: Image gallery\n---\n"
    inclusion = InclusionLevel.INCLUDED if first else InclusionLevel.NOT_IN_NAV
    return File.generated(config, src, content=content, inclusion=inclusion)


def _place(target: Path, source: Path) -> None:
    if target.exists() and os.path.samefile(target, source):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".tmp-{target.name}")
    temporary.unlink(missing_ok=True)
    try:
        os.link(source, temporary)
    except OSError:  # another file system, or links not allowed: copy instead
        shutil.copyfile(source, temporary)
    os.replace(temporary, target)
