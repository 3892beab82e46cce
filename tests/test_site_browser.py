"""The static gallery in real headless Chromium: browsing without JavaScript, and with it search, sorting, the
system toggle, the remembered view and the copy buttons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gallery.cli import main
from gallery.domain.model import ImageInfo
from tests.browser import audit, screenshot, static_server


@pytest.fixture
def served(tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Any) -> Iterator[str]:
    out = tmp_path / "site"
    args = ["build", "--page-size", "2", "--site-name", "Test gallery", "--out", str(out)]
    args += ["--tenant", seed.tenants["A"].name, "--system"]
    args += ["--cache", str(tmp_path / "cache")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    with static_server(out) as url:
        yield url


def card_names(page: Any) -> list[str]:
    names: list[str] = page.locator("#cards .card:visible .name").all_inner_texts()
    return names


def test_without_javascript_pages_link_to_each_other(browser: Any, served: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(served + "/")
    first = card_names(page)
    assert len(first) == 3  # the newest (a block of one) with the block before it: never a page of one card
    assert page.locator(".search").is_hidden()
    assert "5 images: 4 tenant, 1 system" in page.locator("#counts").inner_text()  # public ones only
    page.get_by_role("link", name="Next").click()
    page.wait_for_url("**/page/1/")  # the oldest block: its address stays while images are added
    assert len(card_names(page)) == 2
    assert not set(card_names(page)) & set(first)
    assert page.locator("#counts").inner_text() == "Page 2 of 2"
    screenshot(page, "static-index-page-2-without-javascript")
    page.locator("#cards .card a").first.click()
    assert page.locator("h1").inner_text()
    assert page.get_by_role("button", name="Copy").count() == 0  # no script, no button that cannot work
    assert page.get_by_role("button", name="Export JSON").count() == 0
    context.close()


def test_search_sort_and_the_system_toggle_work_over_every_page(browser: Any, served: str) -> None:
    from playwright.sync_api import expect

    page = browser.new_page()
    page.goto(served + "/")
    cards = page.locator("#cards .card:visible .name")
    page.get_by_label("Search by name").fill("LOGO")
    expect(page.locator("#counts")).to_have_text("1 of 5 images")
    expect(cards).to_have_text(["Logo"])
    page.get_by_label("Search by name").fill("")
    expect(page.locator("#counts")).to_have_text("5 of 5 images")
    page.get_by_label("Sort by").select_option("name-asc")
    # Sorted by name across every page, not just the cards the first page had.
    expect(cards).to_have_text(["Logo", "Spinner"])
    page.get_by_role("button", name="Next").click()
    expect(page.locator(".pages [aria-current]")).to_have_text("2 / 3")
    expect(cards).to_have_text(["Sunset & <sea>", "System image"])
    page.get_by_text("Include system images").click()
    expect(page.locator("#counts")).to_have_text("4 of 5 images")
    expect(cards).not_to_contain_text(["System image"])
    screenshot(page, "static-index-grid")
    page.close()


def test_the_view_choice_is_remembered(browser: Any, served: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(served + "/")
    page.get_by_text("List", exact=True).click()
    page.reload()
    assert page.locator("#view-list").is_checked()
    width = page.locator("#cards .card").first.bounding_box()["width"]
    assert width > 600  # a row across the page, not a grid card
    screenshot(page, "static-index-list")
    context.close()


def test_copy_buttons_put_the_snippet_on_the_clipboard(
    browser: Any, served: str, uploaded: dict[str, ImageInfo]
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    photo = uploaded["photo"]
    page.goto(f"{served}/images/{photo.id}/")
    button = page.locator('[data-copy="snippet-1"]')
    button.click()
    expect(button).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(f'<img src="/api/images/public/{photo.public_key}" alt="Sunset &amp; &lt;sea&gt;"')
    image = page.locator("figure img")
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "static-image-page")
    assert audit(page.locator("main")) == []  # every snippet whole, every label and button readable
    context.close()


def test_export_json_is_assembled_in_the_browser_and_imports_back(
    browser: Any, served: str, uploaded: dict[str, ImageInfo], gallery: Any, seed: Any
) -> None:
    from playwright.sync_api import expect

    from gallery.demo import as_principal
    from gallery.domain.model import Scope
    from tests.conftest import make_app

    photo = uploaded["photo"]
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.goto(f"{served}/images/{photo.id}/")
    button = page.get_by_role("button", name="Export JSON")
    expect(button).to_be_visible()
    with page.expect_download() as caught:
        button.click()
    download = caught.value
    assert download.suggested_filename == f"{photo.resource_key}.json"
    exported = json.loads(Path(download.path()).read_text())
    screenshot(page, "static-image-page-export")
    context.close()
    # what the API's export holds, field for field, and it imports back as the same image
    admin = as_principal(seed.users["admin"])
    assert exported == gallery.transfer.export(admin, Scope.TENANT, photo.resource_key)
    gallery.images.delete(admin, Scope.TENANT, photo.resource_key, force=True)
    client = make_app(gallery=gallery).test_client()
    token = gallery.sessions.tokens.issue(seed.users["admin"]).token
    response = client.put("/api/image/import", json=exported, headers={"X-Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["etag"] == photo.etag
