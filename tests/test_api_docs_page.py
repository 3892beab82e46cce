"""The API browser at /api-docs/ in Chromium: Swagger UI (pinned, served by us, under the pages' strict
Content-Security-Policy) shows every documented operation, "Try it out" works with the token the management
page stored, and it reads in the light and the dark scheme (tests/audit.js finds nothing, parameters, code,
responses and a schema open on screen)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from gallery.domain.model import ImageInfo
from gallery.web.openapi import OPERATIONS
from tests.browser import audit, screenshot
from tests.live import LiveServer


def test_the_api_browser_lists_every_operation_and_tries_one_signed_in(
    page: Any, server: LiveServer, add_images: Callable[..., list[ImageInfo]], as_admin: Callable[..., Any]
) -> None:
    add_images("Logo")
    as_admin()  # signs in on /manage/: the token is in localStorage
    page.get_by_role("link", name="API", exact=True).click()
    expect(page).to_have_url(f"{server.url}/api-docs/")
    operations = page.locator(".swagger-ui .opblock")
    expect(operations).to_have_count(len(OPERATIONS))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Image Gallery API")
    try_listing(page)
    screenshot(page, "api-docs-try-it-out")


def try_listing(page: Any) -> Any:
    """Expands "List images", tries it out and executes it: its parameters and their fields, the curl command, the
    live response and the documented ones with their examples are then on screen."""
    listing = page.locator("#operations-images-getImages")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    body = listing.locator(".responses-wrapper .live-responses-table .microlight").first
    expect(body).to_contain_text('"title": "Logo"')
    return listing


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_api_browser_reads_in_both_schemes(
    page: Any, server: LiveServer, add_images: Callable[..., list[ImageInfo]], as_admin: Callable[..., Any], scheme: str
) -> None:
    page.emulate_media(color_scheme=scheme)
    add_images("Logo")
    as_admin()
    page.goto(f"{server.url}/api-docs/")
    listing = try_listing(page)
    # Swagger follows the scheme itself, whatever the page around it does: light badges with dark text in the dark.
    badge = listing.locator(".opblock-summary-method")
    expect(badge).to_have_css("color", "rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
    # A schema open too (Error: TbResourceInfo's `externalId` is of type "null", which the audit would also flag).
    opener = page.get_by_role("button", name="Error", exact=True)
    schema = page.locator(".swagger-ui section.models article").filter(has=opener)
    opener.click()
    expect(schema.get_by_text("errorCode", exact=True)).to_be_visible()

    found = audit(page.locator("main").first)  # Swagger has a <main> of its own inside the page's
    assert found == []  # (a JSON `null` in a code block is data: the audit reads code as code)
    screenshot(page, f"api-docs-{scheme}")

    # Each tag's arrow is named for what it does, and the name follows it.
    page.get_by_role("button", name="Collapse the meta operations").click()
    expect(page.get_by_role("button", name="Expand the meta operations")).to_have_attribute("aria-expanded", "false")
    page.get_by_role("button", name="Authorize", exact=True).click()
    dialog = page.locator(".swagger-ui .dialog-ux .modal-ux")
    expect(dialog.get_by_role("button", name="Close", exact=True).first).to_be_visible()
    assert audit(dialog) == []
