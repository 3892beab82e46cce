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
from pathlib import Path
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils.templates import TemplateContext

from gallery import errors
from gallery.core import Gallery
from gallery.progress import progress_bar
from gallery.site import views
from gallery.site.build import Cache, Item, Report, Selection, build_images
from gallery.site.renditions import DEFAULT_WIDTHS

log = get_plugin_logger(__name__)

# Directories of the site this plugin owns: after a build, anything in them that this build did not produce goes.
MANAGED = ("r", "originals", "exports", "images", "page")


class GalleryConfig(base.Config):  # type: ignore[no-untyped-call]
    tenant = c.Optional(c.Type(str))
    system = c.Type(bool, default=False)
    public_only = c.Type(bool, default=False)
    cache_dir = c.Optional(c.Type(str))
    api_url = c.Type(str, default="")
    page_size = c.Type(int, default=48)
    widths = c.ListOfItems(c.Type(int), default=list(DEFAULT_WIDTHS))
    workers = c.Optional(c.Type(int))
    progress = c.Type(bool, default=True)


class GalleryPlugin(BasePlugin[GalleryConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.report = Report()
        self.views: dict[str, dict[str, Any]] = {}
        self.index_pages: dict[str, dict[str, Any]] = {}
        self.produced: set[str] = set()
        self.error: str | None = None

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        settings = self.config
        self.error = None
        try:
            gallery = Gallery.open()
        except errors.GalleryError as exc:
            raise self._fail(f"Cannot open the catalog: {exc.message}") from exc
        try:
            selection = Selection(self._tenant_id(gallery), settings.system, settings.public_only)
            cache_root = Path(settings.cache_dir or Path(config.site_dir).parent / "cache").resolve()
            self.report = build_images(
                gallery,
                selection,
                cache_root,
                tuple(settings.widths),
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
        base_url = (self.config.api_url or config.site_url or "").rstrip("/")
        site_url = (config.site_url or "").rstrip("/")
        self.produced = set()

        def add(file: File) -> None:
            files.append(file)
            self.produced.add(file.dest_uri)

        cards = []
        for item in items:
            view = views.image_view(item, base_url, site_url)
            self.views[f"images/{item.slug}.md"] = view
            cards.append(views.card(view))
            for rendition in item.plan.renditions:
                add(File.generated(config, f"r/{rendition.name}", abs_src_path=str(cache.rendition(rendition.name))))
            add(File.generated(config, view["original_path"], abs_src_path=str(cache.original(item.image.etag))))
            export = cache.root / "x" / f"{_export_id(item)}.json"
            if not export.is_file():
                export.parent.mkdir(exist_ok=True)
                data = cache.original(item.image.etag).read_bytes()
                export.write_text(json.dumps(views.export(item.image, data)))
            add(File.generated(config, view["export_path"], abs_src_path=str(export)))
            add(_page(config, f"images/{item.slug}.md", "image.html", item.image.title))
        _prune_exports(cache, items)

        size = max(1, self.config.page_size)
        pages = max(1, math.ceil(len(cards) / size))
        counts = views.counts(items)
        for number in range(1, pages + 1):
            src = "index.md" if number == 1 else f"page/{number}.md"
            self.index_pages[src] = {
                "cards": cards[(number - 1) * size : number * size],
                "number": number,
                "pages": pages,
                "counts": counts,
                "page_size": size,
            }
            if files.get_file_from_path(src) is None:
                add(_page(config, src, "index.html", "Image gallery", in_nav=number == 1))
        add(File.generated(config, "gallery.json", content=json.dumps(cards, separators=(",", ":"))))

    def on_page_context(
        self, context: TemplateContext, /, *, page: Page, config: MkDocsConfig, nav: Navigation
    ) -> TemplateContext | None:
        src = page.file.src_uri
        if src in self.views:
            context["image"] = self.views[src]  # type: ignore[typeddict-unknown-key]
        elif src in self.index_pages:
            context["gallery"] = self.index_pages[src]  # type: ignore[typeddict-unknown-key]
        return context

    def on_post_build(self, config: MkDocsConfig) -> None:
        site = Path(config.site_dir)
        for directory in MANAGED:
            root = site / directory
            if not root.is_dir():
                continue
            for path in sorted(root.rglob("*"), reverse=True):
                relative = path.relative_to(site).as_posix()
                if path.is_file() and relative not in self.produced:
                    path.unlink()
                elif path.is_dir() and not any(path.iterdir()):
                    path.rmdir()
        if self.report.failures:
            raise self._fail(f"Some images were skipped: {self.report.summary()}")

    def _fail(self, message: str) -> PluginError:
        """Kept for `gallery build`, which reports it in its own words (MkDocs only logs it)."""
        self.error = message
        return PluginError(message)


def _page(config: MkDocsConfig, src: str, template: str, title: str, in_nav: bool = False) -> File:
    # Front matter is YAML, and JSON strings are YAML strings: any title is safe this way.
    content = f"---\ntemplate: {template}\ntitle: {json.dumps(title)}\n---\n"
    inclusion = InclusionLevel.INCLUDED if in_nav else InclusionLevel.NOT_IN_NAV
    return File.generated(config, src, content=content, inclusion=inclusion)


def _export_id(item: Item) -> str:
    image = item.image
    fields = [image.etag, image.title, image.resource_key, image.file_name, image.public_key, str(image.public)]
    return hashlib.sha256("\0".join([*fields, image.sub_type.value]).encode()).hexdigest()[:24]


def _prune_exports(cache: Cache, items: list[Item]) -> None:
    keep = {f"{_export_id(item)}.json" for item in items}
    folder = cache.root / "x"
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep:
                path.unlink(missing_ok=True)
