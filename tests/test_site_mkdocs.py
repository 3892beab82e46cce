"""The `gallery` plugin in a user's own MkDocs project, run as its users run it (`mkdocs build`, the installed
script, from their project folder): their pages stay theirs, the gallery joins under `gallery/` in their theme,
and a mistake in its settings is one line, never a traceback."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from gallery.domain.model import ImageInfo
from tests.browser import audit, screenshot, static_server
from tests.conftest import Seed
from tests.site_fixtures import window_shot

MKDOCS = Path(sys.executable).parent / "mkdocs"
# A mark each theme's pages carry. Material for MkDocs is a dev dependency (it installs from PyPI everywhere CI runs).
THEMES = {"mkdocs": 'class="navbar', "readthedocs": 'class="wy-nav-side', "material": 'class="md-container'}


def project(folder: Path, theme: str, gallery: str, extra: str = "") -> Path:
    """A user's project: their config, two pages of their own."""
    (folder / "docs").mkdir(parents=True, exist_ok=True)
    (folder / "docs" / "index.md").write_text("# Handbook\n\nOur own words, [the gallery](gallery/index.md).\n")
    (folder / "docs" / "about.md").write_text("# About us\n\nWe keep our pictures in one place.\n")
    plugins = f"  - search\n{gallery}" if gallery else "  - search\n"
    (folder / "mkdocs.yml").write_text(f"site_name: Handbook\ntheme:\n  name: {theme}\n{extra}plugins:\n{plugins}")
    return folder


def mkdocs_build(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--site-dir", "out"],
        cwd=folder,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def undated(page: Path) -> str:
    return re.sub(r"Build Date UTC : [^\n]*", "", page.read_text())


def broken_links(out: Path, page: Path) -> list[str]:
    """Every relative link and source of `page` that names no file of the site."""
    html = page.read_text()
    found = re.findall(r'(?:href|src)="([^"]*)"', html)
    srcsets = re.findall(r'srcset="([^"]+)"', html)
    found += [entry.split()[0] for srcset in srcsets for entry in srcset.split(", ")]
    broken = []
    for link in found:
        parts = urlsplit(link)
        if parts.scheme or parts.netloc or link.startswith(("#", "data:", "/")) or not parts.path:
            continue
        target = (page.parent / unquote(parts.path)).resolve()  # as a server reads it
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or not target.is_relative_to(out.resolve()):
            broken.append(link)
    return broken


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_the_gallery_joins_a_users_site_in_their_theme(
    tmp_path: Path, env: dict[str, str], described: dict[str, ImageInfo], seed: Seed, theme: str
) -> None:
    tenant = seed.tenants["A"].name
    plain = project(tmp_path / "plain", theme, "")
    done = mkdocs_build(plain, env)
    assert done.returncode == 0, done.stderr
    mine = project(tmp_path / "mine", theme, f"  - gallery:\n      tenant: {tenant}\n      system: true\n")
    done = mkdocs_build(mine, env)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out, before = mine / "out", plain / "out"
    # Their pages, untouched: as without the gallery (it adds nothing to their nav unless asked), but for the build's
    # time and their link to the gallery, which MkDocs resolves now that the page exists.
    for page in ("index.html", "about/index.html"):
        assert undated(out / page).replace('href="gallery/"', 'href="gallery/index.md"') == undated(before / page)
    assert 'href="gallery/"' in (out / "index.html").read_text()
    # The gallery, under gallery/, in their theme, with its cards, pages and responsive pictures.
    index = (out / "gallery" / "index.html").read_text()
    assert THEMES[theme] in index
    assert "Sunset &amp; &lt;sea&gt;" in index
    assert "System image" in index
    assert "Private one" not in index
    photo = out / "gallery" / "images" / described["photo"].id / "index.html"
    page = photo.read_text()
    assert THEMES[theme] in page
    assert re.search(r'<source type="image/webp" srcset="[^"]+ 320w, [^"]+ 640w', page)
    assert "<title>Sunset &amp; &lt;sea&gt; - Handbook</title>" in page  # a title is text, never markup
    assert "&lt;img src=&#34;/gallery/r/" in page  # the responsive snippet names the gallery's files where they are
    assert "&lt;img src=&#34;/api/images/public/" in page  # and the API at the site's origin
    for shown in (out / "gallery").rglob("index.html"):
        assert broken_links(out, shown) == [], shown
    # Tags' pages too, under the gallery's path, drawn by their theme; never in their nav.
    tags = (out / "gallery" / "tags" / "index.html").read_text()
    assert THEMES[theme] in tags
    assert 'href="../tags/caf%C3%A9/"' in tags
    assert "Sunset &amp; &lt;sea&gt;" in (out / "gallery" / "tags" / "café" / "index.html").read_text()
    assert "gallery/tags/" not in (out / "index.html").read_text()
    assert (out / "gallery" / "gallery.json").is_file()
    assert (out / "gallery" / "assets" / "gallery-img.js").is_file()  # what the web component's snippet loads
    assert not (out / "gallery" / "manage").exists()  # the management app is not another site's
    assert not (out / "gallery" / "images" / described["private"].id).exists()
    # Search (beside us) indexed the gallery's pages as well as theirs.
    search = (out / "search" / "search_index.json").read_text()
    assert "Handbook" in search
    assert "gallery/images/" in search


def test_asked_for_it_joins_the_nav_and_a_custom_dir_overrides_its_pages(
    tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo]
) -> None:
    folder = project(
        tmp_path / "nav",
        "mkdocs\n  custom_dir: overrides",
        "  - gallery:\n      system: true\n      nav: true\n      path: pictures\n",
    )
    (folder / "overrides" / "gallery").mkdir(parents=True)
    (folder / "overrides" / "gallery" / "image.html").write_text('<p class="ours">{{ image.title }} by us</p>\n')
    done = mkdocs_build(folder, env)
    assert done.returncode == 0, done.stderr
    out = folder / "out"
    about = (out / "about" / "index.html").read_text()
    assert 'href="../pictures/"' in about  # in the nav of every page
    page = (out / "pictures" / "images" / uploaded["system"].id / "index.html").read_text()
    assert '<p class="ours">System image by us</p>' in page


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("      tenant: No such tenant\n", "gallery: No tenant named or with id 'No such tenant'"),
        ("      path: ../outside\n", "gallery: path '../outside' must be a folder inside the site"),
        ("      page_size: 0\n", "gallery: page_size and widths must be positive"),
    ],
)
def test_a_misconfiguration_is_one_line(tmp_path: Path, env: dict[str, str], options: str, message: str) -> None:
    folder = project(tmp_path / "wrong", "mkdocs", f"  - gallery:\n{options}")
    done = mkdocs_build(folder, env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1, done.stderr
    assert message in errors[0]


@pytest.mark.parametrize("theme", sorted(THEMES))
def test_in_each_theme_the_cards_are_a_grid_a_person_can_read(
    tmp_path: Path, env: dict[str, str], described: dict[str, ImageInfo], seed: Seed, browser: Any, theme: str
) -> None:
    """Documentation themes style lists their own way (Material's lists are not grids, Read the Docs bullets them):
    the gallery's cards still sit side by side, without bullets, every one visible and readable, in Chromium; so
    are a tag's page and the viewer over it, whatever the theme does to dialogs, figures and headings."""
    folder = project(
        tmp_path / theme, theme, f"  - gallery:\n      tenant: {seed.tenants['A'].name}\n      system: true\n"
    )
    (folder / "docs" / "index.md").write_text("# Handbook\n")
    done = mkdocs_build(folder, env)
    assert done.returncode == 0, done.stderr
    # Reduced motion: the mkdocs theme scrolls smoothly otherwise, and a button scrolled to is checked mid-way.
    page = browser.new_page(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    with static_server(folder / "out") as url:
        page.goto(f"{url}/gallery/")
        cards = page.locator("#cards .card")
        assert cards.count() == 5  # the tenant's public images and the system's
        tops = [box["y"] for box in (cards.nth(i).bounding_box() for i in range(3)) if box]
        assert len(tops) == 3
        assert max(tops) - min(tops) < 1  # three side by side at 1280 px
        assert cards.first.evaluate("e => getComputedStyle(e).listStyleType") == "none"
        assert audit(page.locator(".gallery-page")) == []
        screenshot(page, f"mkdocs-theme-{theme}-index")
        page.locator("#cards .card .name").first.click()  # the name: the picture opens the viewer
        page.wait_for_url("**/gallery/images/**")
        assert page.locator(".gallery-page h1").is_visible()
        assert audit(page.locator(".gallery-page")) == []
        screenshot(page, f"mkdocs-theme-{theme}-image")
        page.locator(".gallery-page ul.tags a", has_text="sea").click()
        page.wait_for_url("**/gallery/tags/sea/")
        names = sorted(page.locator("#cards .card .name").all_inner_texts())
        assert names == ["Logo", "Sunset & <sea>", "System image"]
        assert audit(page.locator(".gallery-page")) == []
        page.locator("#cards .card picture").first.click()
        viewer = page.get_by_role("dialog", name="System image")
        viewer.wait_for()
        assert viewer.bounding_box() == {"x": 0, "y": 0, "width": 1280, "height": 900}  # the whole window
        assert audit(page.locator("dialog.viewer")) == []
        window_shot(page, f"mkdocs-theme-{theme}-viewer")
        page.keyboard.press("Escape")
        page.wait_for_url("**/gallery/tags/sea/")
    page.close()


def test_the_repositorys_example_project_builds(
    tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo]
) -> None:
    """`site/` in this repository is the README's example of an MkDocs project with the gallery in it."""
    example = Path(__file__).resolve().parent.parent / "site"
    shutil.copytree(example, tmp_path / "site")
    done = mkdocs_build(tmp_path / "site", env)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "site" / "out"
    assert 'href="gallery/"' in (out / "index.html").read_text()  # its own page links the gallery
    assert "System image" in (out / "gallery" / "index.html").read_text()
    assert (out / "gallery" / "images" / uploaded["system"].id / "index.html").is_file()
