"""The `<gallery-img>` web component in real headless Chromium, against a live `gallery serve` that serves the built
site and the API on one origin: it shows an image that needs a login, and says so when it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gallery.domain.model import ImageInfo
from gallery.wiring import Gallery
from tests.browser import screenshot, wait_for
from tests.conftest import JWT_SECRET, Seed
from tests.live import LiveServer, live_server

EMBEDDING_PAGE = """<!doctype html>
<title>Embedding</title>
<script type="module" src="/assets/gallery-img.js"></script>
<gallery-img id="logo" src="/api/images/tenant/logo.png" alt="Logo" width="350" height="175"></gallery-img>
<gallery-img id="missing" src="/api/images/tenant/no-such.png" alt="Missing"></gallery-img>
"""


@pytest.fixture
def server(site: Path, gallery: Gallery) -> Iterator[LiveServer]:
    (site / "embed.html").write_text(EMBEDDING_PAGE)
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(site)}
    with live_server(gallery.settings.data_dir, extra) as live:
        yield live


@pytest.fixture
def token(gallery: Gallery, seed: Seed) -> str:
    return gallery.sessions.tokens.issue(seed.users["admin"]).token


def shown_width(page: Any, element: str) -> int:
    width: int = page.evaluate(f"document.getElementById('{element}').shadowRoot.querySelector('img').naturalWidth")
    return width


def test_it_shows_an_image_behind_the_login_with_the_stored_token(
    page: Any, server: LiveServer, token: str, uploaded: dict[str, ImageInfo]
) -> None:
    page.add_init_script(f"localStorage.setItem('gallery.token', {token!r})")
    page.goto(f"{server.url}/embed.html")
    wait_for(page, "document.getElementById('missing').hasAttribute('error')")
    wait_for(page, "document.getElementById('logo').shadowRoot.querySelector('img').naturalWidth > 0")
    assert shown_width(page, "logo") == 700  # the original's pixels, fetched with the token
    alt = page.evaluate("document.getElementById('logo').shadowRoot.querySelector('img').alt")
    assert alt == "Logo"
    assert page.get_attribute("#missing", "error") == "Requested item wasn't found!"
    screenshot(page, "gallery-img")


def test_without_a_token_it_reports_the_refusal(page: Any, server: LiveServer, uploaded: dict[str, ImageInfo]) -> None:
    page.goto(f"{server.url}/embed.html")
    wait_for(page, "document.getElementById('logo').hasAttribute('error')")
    assert page.get_attribute("#logo", "error") == "Authentication failed"
    assert shown_width(page, "logo") == 0
