"""What `gallery serve` serves when the static gallery lacks it: the management page and the theme's scripts and
styles, from the package alone. No build and no MkDocs: the page is rendered from the theme's templates with Jinja
(which Flask brings), as MkDocs would render it for a site at the server's root.

Every built site holds the same files; the server prefers the site's (a custom theme may have changed them).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from jinja2 import Environment, FileSystemLoader, select_autoescape

from gallery.site.render import write_if_changed

THEME = Path(__file__).resolve().parent / "theme"
SITE_NAME = "Image Gallery"  # the packaged mkdocs.yml's `site_name` (a test holds them equal)
MANAGE_INDEX = "manage/index.html"
API_INDEX = "api-docs/index.html"


def manage_page(api: str = "") -> bytes:
    """The management page at `/manage/`, talking to the API at `api` (its own origin when empty)."""
    return _page("manage.html", "Manage images", api)


def api_page(api: str = "") -> bytes:
    """The API browser at `/api-docs/`: the document at `api`'s `/api/openapi.json` in Swagger UI."""
    return _page("api-docs.html", "API", api)


def _page(template: str, title: str, api: str) -> bytes:
    env = Environment(loader=FileSystemLoader(THEME), autoescape=select_autoescape())
    config = SimpleNamespace(site_name=SITE_NAME, theme={"locale": "en"})
    page = SimpleNamespace(title=title, is_homepage=False, meta={}, content="")
    return env.get_template(template).render(config=config, page=page, base_url="..", manage={"api": api}).encode()


def prepare_shell(folder: Path) -> Path:
    """Write the management page, the API browser and the theme's assets into `folder` (only what changed)."""
    write_if_changed(folder / MANAGE_INDEX, manage_page())
    write_if_changed(folder / API_INDEX, api_page())
    assets = THEME / "assets"
    wanted = set()
    for source in assets.rglob("*"):
        if source.is_file():
            relative = Path("assets") / source.relative_to(assets)
            wanted.add(relative.as_posix())
            write_if_changed(folder / relative, source.read_bytes())
    for stale in (folder / "assets").rglob("*"):
        if stale.is_file() and stale.relative_to(folder).as_posix() not in wanted:
            stale.unlink()
    return folder
