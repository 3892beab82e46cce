"""The management page's fixtures: a site built once per session, a live `gallery serve` on each test's catalog
(the backend of the session: SQLite here, DynamoDB + S3 on moto in the aws run), and Chromium pages signed in.

`browser` (one headless Chromium per session: Playwright's sync API allows one driver at a time) and `page` (a
fresh context per test, failing the test on any JavaScript error or anything the Content-Security-Policy blocked)
serve every browser test."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gallery.config import SETTINGS, Settings
from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, now_ms
from gallery.wiring import Gallery
from tests.browser import chromium
from tests.conftest import JWT_SECRET, PASSWORD, Seed
from tests.helpers import png
from tests.live import LiveServer, live_server
from tests.storage_fixtures import AWS_ENV

BACKEND_FIELDS = ("backend", "table", "bucket", "aws_endpoint_url")


@pytest.fixture(scope="session")
def manage_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The page and its scripts do not depend on the catalog: one build from an empty one serves every test."""
    from tests.site_fixtures import build

    root = tmp_path_factory.mktemp("manage")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GALLERY_DATA_DIR", str(root / "empty"))
        patch.setenv("GALLERY_BACKEND", "local")
        code, output = build(root / "site")
    assert code == 0, output
    assert (root / "site" / "manage" / "index.html").is_file()
    return root / "site"


def backend_env(settings: Settings) -> dict[str, str]:
    """Environment that points a `gallery serve` subprocess at the catalog `settings` describe."""
    by_field = {setting.field: setting.env for setting in SETTINGS}
    values = {by_field[name]: str(getattr(settings, name)) for name in BACKEND_FIELDS if getattr(settings, name)}
    if settings.backend != "aws":
        values = {by_field["backend"]: settings.backend}
    return {**(AWS_ENV if settings.backend == "aws" else {}), **values}


@pytest.fixture
def server(gallery: Gallery, manage_site: Path) -> Iterator[LiveServer]:
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(manage_site), **backend_env(gallery.settings)}
    with live_server(gallery.settings.data_dir, extra) as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    viewport = {"width": 1280, "height": 900}
    context = browser.new_context(viewport=viewport, permissions=["clipboard-read", "clipboard-write"])
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    # What the Content-Security-Policy blocked is reported on the console: a page that needs it blocked is broken.
    opened.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    yield opened
    context.close()
    assert not errors, f"JavaScript errors or blocked content on the page: {errors}"


def sign_in(page: Any, server: LiveServer, email: str, path: str = "/manage/") -> None:
    from playwright.sync_api import expect

    page.goto(server.url + path)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Images")).to_be_visible()
    loaded(page)


def loaded(page: Any) -> None:
    """Wait for the list (or grid, or empty state) of the latest request to be drawn."""
    from playwright.sync_api import expect

    expect(page.locator("#m-results")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#m-results").locator(".m-table, .m-grid, .m-empty, .m-error").first).to_be_visible()


@pytest.fixture
def as_admin(page: Any, server: LiveServer, seed: Seed) -> Callable[..., Any]:
    """Sign the page in as tenant A's administrator (after the test has put its images in place)."""

    def go(path: str = "/manage/") -> Any:
        sign_in(page, server, seed.users["admin"].email, path)
        return page

    return go


@pytest.fixture
def add_images(gallery: Gallery, seed: Seed) -> Callable[..., list[ImageInfo]]:
    """`add_images("Logo", "Banner", who="admin")`: PNGs of distinct sizes uploaded straight to the catalog."""

    def add(*titles: str, who: str = "admin") -> list[ImageInfo]:
        principal = as_principal(seed.users[who])
        made = []
        for n, title in enumerate(titles):
            data = png(40 + n, 30 + n, (n * 20 % 255, 90, 160))
            made.append(gallery.images.upload(principal, f"{title.lower().replace(' ', '-')}.png", data, title, None))
            while now_ms() <= made[-1].created_time:  # "newest first" is then the order given, never a tie by id
                time.sleep(0.001)
        return made

    return add


def drop_files(page: Any, selector: str, files: list[tuple[str, str, bytes]]) -> None:
    """Drop files on `selector` as a drag from the desktop would: dragenter, dragover, drop with a DataTransfer."""
    payload = [{"name": name, "type": kind, "data": base64.b64encode(data).decode()} for name, kind, data in files]
    page.evaluate(
        """([selector, files]) => {
            const transfer = new DataTransfer();
            for (const f of files) {
                const bytes = Uint8Array.from(atob(f.data), (c) => c.charCodeAt(0));
                transfer.items.add(new File([bytes], f.name, { type: f.type }));
            }
            const zone = document.querySelector(selector);
            for (const type of ["dragenter", "dragover", "drop"]) {
                zone.dispatchEvent(new DragEvent(type, { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }
        }""",
        [selector, payload],
    )
