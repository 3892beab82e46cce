"""The `gallery` MkDocs plugin (entry point `mkdocs.plugins`): the gallery's pages in anyone's MkDocs 1.x site.

An adapter only: the site builder (`builder.py`) says what the gallery shows; its pages join the site under `path`
(default `gallery/`) as generated pages, drawn by the site's own theme — their bodies, rendered by our templates,
go in the theme's content block (a theme's `custom_dir` overrides them as `gallery/index.html` and
`gallery/image.html`, `gallery/tags.html`) — and the image files as generated files from the rendition cache. The
index joins the nav when `nav: true`; the per-image and per-tag pages never do. MkDocs writes everything, as it does
for the rest of the site.
"""

from __future__ import annotations

import html
from pathlib import Path, PurePosixPath
from typing import Any

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page

from gallery.domain import errors, site_layout
from gallery.site.build import builder_for, selection_for
from gallery.site.builder import BuildRun, GalleryPage, SiteBuilder, SiteOptions
from gallery.site.memory import SiteMemory
from gallery.site.render import Options
from gallery.site.renditions import DEFAULT_WIDTHS
from gallery.wiring import Gallery

log = get_plugin_logger(__name__)
# The theme's files the gallery's pages use (the management app and Swagger UI are not part of another site).
ASSETS = ("assets/gallery-pages.css", "assets/gallery.js", "assets/gallery-img.js", "assets/lib/")


class GalleryConfig(base.Config):  # type: ignore[no-untyped-call]
    tenant = c.Optional(c.Type(str))
    system = c.Type(bool, default=False)
    include_private = c.Type(bool, default=False)
    path = c.Type(str, default="gallery")
    nav = c.Type(bool, default=False)
    cache_dir = c.Type(str, default=".cache/gallery")
    api_url = c.Type(str, default="")
    page_size = c.Type(int, default=48)
    widths = c.ListOfItems(c.Type(int), default=list(DEFAULT_WIDTHS))
    webp = c.Type(bool, default=True)
    originals = c.Type(bool, default=True)
    exports = c.Type(bool, default=True)
    workers = c.Optional(c.Type(int))


class GalleryPlugin(BasePlugin[GalleryConfig]):  # type: ignore[no-untyped-call]
    def __init__(self) -> None:
        self.pages: dict[str, GalleryPage] = {}  # by the source path of the generated page
        self.builder: SiteBuilder | None = None

    def on_config(self, config: MkDocsConfig) -> None:
        path = PurePosixPath(self.config.path.strip("/"))
        if path.is_absolute() or ".." in path.parts or "\\" in self.config.path:
            raise PluginError(f"gallery: path {self.config.path!r} must be a folder inside the site, like 'gallery'")
        if self.config.page_size < 1 or any(width < 1 for width in self.config.widths):
            raise PluginError("gallery: page_size and widths must be positive")
        self.prefix = "" if str(path) == "." else f"{path}/"

    def on_files(self, files: Files, config: MkDocsConfig) -> Files:
        settings = self.config
        try:
            gallery = Gallery.open(signing=False)  # a build signs nothing: it needs no token secret
        except errors.GalleryError as exc:
            raise PluginError(f"gallery: cannot open the catalog: {exc.message}") from exc
        try:
            site_url = (config.site_url or "").rstrip("/")
            options = SiteOptions(
                selection_for(gallery, settings.tenant, settings.system, settings.include_private),
                Options(tuple(settings.widths), settings.webp, settings.originals, settings.exports),
                settings.page_size,
                config.site_name,
                # Snippets name the gallery's files where the gallery is (root-relative without a site_url).
                f"{site_url}/{self.prefix}".rstrip("/"),
                settings.api_url.rstrip("/"),
                apps=False,
            )
            # The cache beside the config, so `mkdocs serve` (which builds into a temporary folder) reuses it.
            cache = Path(config.config_file_path or ".").parent / settings.cache_dir
            overrides = Path(config.theme.custom_dir) if config.theme.custom_dir else None
            self.builder = builder_for(gallery, options, cache, overrides)
            content = self.builder.content(SiteMemory(), BuildRun(workers=settings.workers))
        except errors.GalleryError as exc:
            raise PluginError(f"gallery: {exc.message}") from exc
        finally:
            gallery.close()
        for image, why in content.report.failures:
            log.warning(f"Skipped {image.title} ({image.resource_key}): {why}")
        self.pages = {}
        for page in [*content.index, *content.images]:
            src = f"{self.prefix}{page.url}index.md"
            listed = page.url == "" and settings.nav
            inclusion = InclusionLevel.INCLUDED if listed else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, src, content="", inclusion=inclusion))
            self.pages[src] = page
        generated = {**content.search, site_layout.SEARCH_VERSION: content.search_version}
        for relative, data in generated.items():
            files.append(File.generated(config, self.prefix + relative, content=data))
        cached = {relative: self.builder.cache.root / source for relative, source in content.placed.items()}
        assets = {name: path for name, path in self.builder.templates.assets().items() if name.startswith(ASSETS)}
        for relative, path in {**cached, **assets}.items():
            files.append(File.generated(config, self.prefix + relative, abs_src_path=str(path)))
        return files

    def on_page_markdown(self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        if page.file.src_uri in self.pages:
            # Not front matter (titles are users' text), and escaped: a theme prints a page's title as HTML, as
            # MkDocs makes it from a heading (`A &amp; B`).
            page.meta["title"] = html.escape(self.pages[page.file.src_uri].title)
        return markdown

    def on_page_content(self, content: str, /, *, page: Page, config: MkDocsConfig, files: Files) -> str:
        ours = self.pages.get(page.file.src_uri)
        if ours is None or self.builder is None:
            return content
        root = ours.root  # the page sits in the gallery as in a site of its own: links relative to the gallery
        head = (
            f'<link rel="stylesheet" href="{root}/assets/gallery-pages.css">\n'
            f'<script type="module" src="{root}/assets/gallery.js"></script>\n'
        )
        variables: dict[str, Any] = ours.variables()
        return head + self.builder.templates.body(ours.body, root, **variables)
