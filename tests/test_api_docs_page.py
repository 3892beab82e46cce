"""The API browser at /api-docs/ in Chromium: Swagger UI (pinned, served by us, under the pages' strict
Content-Security-Policy) shows every documented operation, and "Try it out" works with the token the management
page stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from gallery.domain.model import ImageInfo
from gallery.web.openapi import OPERATIONS
from tests.browser import screenshot
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
    listing = page.locator("#operations-images-getImages")
    listing.locator(".opblock-summary").click()
    listing.get_by_role("button", name="Try it out").click()
    listing.get_by_role("button", name="Execute").click()
    body = listing.locator(".responses-wrapper .live-responses-table .microlight").first
    expect(body).to_contain_text('"title": "Logo"')
    screenshot(page, "api-docs-try-it-out")
