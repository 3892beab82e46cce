"""Real headless Chromium (Debian's `/usr/bin/chromium`, driven by Playwright without downloading a browser), and a
static file server on loopback for built sites."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("GALLERY_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
_AUDIT = Path(__file__).resolve().parent / "audit.js"


@contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Serves `root` as S3 website hosting would (index.html for a directory), on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def screenshot(page: Any, name: str) -> Path:
    """Saved under test-artifacts/ for people to look at; CI keeps the folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def audit(container: Any) -> list[str]:
    """What a person would fail to see or read in a Playwright locator's element (tests/audit.js says how it looks);
    empty when there is nothing."""
    found: list[str] = container.evaluate(_AUDIT.read_text())
    return found


def wait_for(page: Any, expression: str, *, arg: Any = None, timeout: float = 10.0) -> None:
    """Until the JavaScript `expression` is true in the page. Unlike Playwright's `wait_for_function` (which runs
    its predicate through `eval` in the page), this works under a Content-Security-Policy without 'unsafe-eval'."""
    import time

    deadline = time.monotonic() + timeout
    while not page.evaluate(expression, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(50)
