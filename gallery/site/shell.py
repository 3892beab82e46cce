"""The pages a site of its own has besides the gallery: the management page and the API browser. The builder writes
them into every site; `gallery serve` serves them from the package alone when the site lacks them (no build yet),
with the theme's scripts and styles. Rendered by the same templates either way.

Every built site holds the same files; the server prefers the site's (a custom theme may have changed them).
"""

from __future__ import annotations

from pathlib import Path

from gallery.domain import site_layout
from gallery.site.render import write_if_changed
from gallery.site.templates import SITE_NAME, PageView, Templates, ThemeConfig

MANAGE_INDEX = f"{site_layout.MANAGE_URL}index.html"
API_INDEX = f"{site_layout.API_URL}index.html"


def app_pages(templates: Templates, site_name: str = SITE_NAME, api: str = "") -> dict[str, bytes]:
    """Site path → page: the management page at `/manage/` and the API browser at `/api-docs/`, talking to the
    API at `api` (their own origin when empty: a site elsewhere names it, and the API must allow it, CORS)."""
    config = ThemeConfig(site_name)
    pages = {}
    for relative, template, title in (
        (MANAGE_INDEX, "manage.html", "Manage images"),
        (API_INDEX, "api-docs.html", "API"),
    ):
        view = PageView(title, relative.removesuffix("index.html"))
        pages[relative] = templates.page(template, config, view, "..", manage={"api": api}).encode()
    return pages


def manage_page(api: str = "") -> bytes:
    """The management page at `/manage/`, talking to the API at `api` (its own origin when empty)."""
    return app_pages(Templates(), api=api)[MANAGE_INDEX]


def prepare_shell(folder: Path) -> Path:
    """Write the management page, the API browser and the theme's assets into `folder` (only what changed)."""
    templates = Templates()
    for relative, page in app_pages(templates).items():
        write_if_changed(folder / relative, page)
    assets = templates.assets()
    for relative, source in assets.items():
        write_if_changed(folder / relative, source.read_bytes())
    for stale in (folder / "assets").rglob("*"):
        if stale.is_file() and stale.relative_to(folder).as_posix() not in assets:
            stale.unlink()
    return folder
