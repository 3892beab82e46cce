"""The site's templates: one Jinja environment renders every page, and says what each page is made with.

The packaged theme (`theme/`) holds the layout (`main.html`), the gallery's page bodies (`gallery/index.html`,
`gallery/image.html`, `gallery/tags.html`), the management page, the API browser and the 404 page; a folder of
overrides (a theme's `custom_dir`) is searched first. A page's fingerprint starts with `digest(...)` of the templates
it is rendered with, the package's version and the code that makes the views, so an upgrade or an edited template
renders again exactly the pages made with what changed.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from gallery.domain import formats, site_layout

THEME = Path(__file__).resolve().parent / "theme"
SITE_NAME = "Image Gallery"
IMAGE_BODY = "gallery/image.html"
INDEX_BODY = "gallery/index.html"  # the index's pages, and each tag's
TAGS_BODY = "gallery/tags.html"  # every tag, with its count
LAYOUT = "main.html"
# The code whose output is in the pages (views, snippets, paths, headers): its source is part of every fingerprint,
# so a change to it renders the pages again even when the version number stays (a checkout, an editable install).
_PACKAGE = Path(__file__).resolve().parent.parent
_RENDERING_CODE = ("site", "domain", "services/transfer.py")


@dataclass(frozen=True)
class PageView:
    """What a layout sees of the page it draws (the names MkDocs' themes use)."""

    title: str
    url: str
    content: str = ""
    is_homepage: bool = False
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ThemeConfig:
    """What a layout reads of the site's configuration (`config.site_name`, `config.theme.locale`)."""

    site_name: str
    theme: dict[str, str] = field(default_factory=lambda: {"locale": "en"})


class Templates:
    def __init__(self, overrides: Path | None = None) -> None:
        """`overrides`: a folder whose templates replace the packaged ones of the same name."""
        self.overrides = overrides
        self._digests: dict[tuple[str, ...], bytes] = {}
        folders = [FileSystemLoader(overrides)] if overrides is not None else []
        self.env = Environment(
            loader=ChoiceLoader([*folders, FileSystemLoader(THEME)]),
            autoescape=select_autoescape(),
            auto_reload=False,
        )
        # What templates say of formats comes from the one list of them.
        self.env.globals["WEBP"] = formats.WEBP.media_type
        self.env.globals["IMAGE_FILE_NAMES"] = " ".join(name for f in formats.FORMATS for name in f.file_names)
        self.env.globals["VECTOR_TYPES"] = " ".join(f.media_type for f in formats.FORMATS if not f.raster)
        # Where tags' pages are, from the site's root (`{{ base_url }}/{{ tag|tag_page }}`), as the build writes them.
        self.env.filters["tag_page"] = site_layout.tag_page
        self.env.globals["TAGS_URL"] = f"{site_layout.TAG_PAGES}/"

    def body(self, name: str, base_url: str, **variables: Any) -> str:
        """A gallery page's body (`IMAGE_BODY`, `INDEX_BODY`), its links relative to the gallery's root."""
        return self.env.get_template(name).render(base_url=base_url, **variables)

    def page(self, name: str, config: ThemeConfig, page: PageView, base_url: str, **variables: Any) -> str:
        """A whole page: `name` is the layout, or a template extending it (`manage.html`)."""
        return self.env.get_template(name).render(config=config, page=page, base_url=base_url, **variables)

    def digest(self, *names: str) -> bytes:
        """What pages rendered with these templates are made with besides their own data. Read once for each
        environment, as the environment loads each template once (`auto_reload=False`): a theme changed under a
        running build or publisher reaches neither its pages nor their fingerprints until the next."""
        if names not in self._digests:
            found = hashlib.sha256(code_digest())
            for name in names:
                source, _, _ = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
                found.update(hashlib.sha256(source.encode()).digest())
            self._digests[names] = found.digest()
        return self._digests[names]

    def assets(self) -> dict[str, Path]:
        """The theme's static files (scripts, styles, the vendored Swagger UI): site path → file."""
        found: dict[str, Path] = {}
        for root in (THEME, self.overrides):
            if root is not None and (root / "assets").is_dir():
                found.update(
                    (path.relative_to(root).as_posix(), path)
                    for path in sorted((root / "assets").rglob("*"))
                    if path.is_file()
                )
        return found


@functools.cache
def code_digest() -> bytes:
    try:
        version = metadata.version("image-gallery")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed: its code still counts
        version = ""
    digest = hashlib.sha256(version.encode())
    for part in _RENDERING_CODE:
        path = _PACKAGE / part
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(_PACKAGE).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.digest()
