"""Light and dark, as the visitor's system prefers (`prefers-color-scheme`): the static gallery's index, an image
page, a tag page and the viewer, and the management page's list, grid and dialogs, each audited in both schemes
(every text at least 4.5:1 against what is really behind it, every button visible) in real headless Chromium, with
a screenshot of each to look at. /api-docs/ is audited in both in tests/test_api_docs_page.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from gallery.cli import main
from gallery.domain.model import ImageInfo
from tests.browser import audit, screenshot, static_server
from tests.live import LiveServer
from tests.site_fixtures import window_shot

SCHEMES = ["light", "dark"]


@pytest.fixture
def served(tmp_path: Path, env: dict[str, str], described: dict[str, ImageInfo], seed: Any) -> Iterator[str]:
    out = tmp_path / "site"
    result = CliRunner().invoke(main, ["build", "--out", str(out), "--tenant", seed.tenants["A"].name, "--system"])
    assert result.exit_code == 0, result.output
    with static_server(out) as url:
        yield url


def background(page: Any) -> str:
    found: str = page.evaluate("getComputedStyle(document.body).backgroundColor")
    return found


def dark(colour: str) -> bool:
    red, green, blue = (int(part) for part in colour[colour.index("(") + 1 : colour.index(")")].split(",")[:3])
    return red + green + blue < 3 * 80


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_static_gallery_reads_in_both_schemes(
    browser: Any, served: str, described: dict[str, ImageInfo], scheme: str
) -> None:
    context = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(served + "/")
    expect(page.locator("#cards .card").first).to_be_visible()
    assert dark(background(page)) == (scheme == "dark")
    assert audit(page.locator("body")) == []
    screenshot(page, f"scheme-{scheme}-index")
    photo = described["photo"]
    page.goto(f"{served}/images/{photo.id}/")
    assert audit(page.locator("body")) == []
    screenshot(page, f"scheme-{scheme}-image-page")
    page.locator(".gallery-page a[href*='tags/']").first.click()
    expect(page.locator("#cards .card, .cards .card").first).to_be_visible()
    assert audit(page.locator("body")) == []
    screenshot(page, f"scheme-{scheme}-tag-page")
    page.goto(served + "/")
    page.locator("#cards .card a").first.click()
    viewer = page.get_by_role("dialog")
    expect(viewer).to_be_visible()
    assert audit(viewer) == []
    window_shot(page, f"scheme-{scheme}-viewer")
    context.close()


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_management_page_reads_in_both_schemes(
    page: Any, server: LiveServer, add_images: Callable[..., list[ImageInfo]], as_admin: Callable[..., Any], scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)
    add_images("Logo", "Banner")
    add_images("Platform icon", who="sysadmin")
    as_admin("/manage/?includeSystemImages=true")
    assert dark(background(page)) == (scheme == "dark")
    expect(page.locator(".m-table tbody tr")).to_have_count(3)
    assert audit(page.locator("#manage")) == []
    screenshot(page, f"scheme-{scheme}-manage-list")
    page.locator("tr", has_text="Logo").get_by_role("button", name="Edit image: Logo").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    assert audit(dialog) == []
    screenshot(page, f"scheme-{scheme}-manage-edit")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Grid view").click()
    card = page.locator(".m-card").first
    assert audit(card.locator(".m-card-body")) == []
    card.hover()
    expect(card.locator(".m-card-actions")).to_have_css("opacity", "1")  # faded in
    assert audit(card.locator(".m-card-actions")) == []
    screenshot(page, f"scheme-{scheme}-manage-grid")
    page.get_by_role("button", name="Upload image").click()
    assert audit(page.get_by_role("dialog", name="Upload image")) == []
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in to manage images")).to_be_visible()
    assert audit(page.locator("#manage")) == []
    screenshot(page, f"scheme-{scheme}-manage-sign-in")
