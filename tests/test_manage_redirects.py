"""The management page and <gallery-img> against a bucket that answers CORS as S3 does (tests/s3_cors.py, in the
aws run): a large upload is posted to the presigned form, a large download follows the API's 302 to a presigned
GET — a preflighted request, since `fetch` carries X-Authorization across the redirect. Chromium allows exactly
what the bucket's rules allow; on the rules shipped before (POST only), it blocked the download."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from gallery.demo import as_principal
from gallery.domain.model import Scope
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, TEST_BACKEND, Seed
from tests.live import LiveServer, live_server
from tests.manage_fixtures import backend_env
from tests.s3_cors import RECORDED, Rule, matching_rule
from tests.test_manage_actions import noise_png

REDIRECT_ABOVE = 2048  # bytes: every image of this test is downloaded through S3 on the aws backend


@pytest.fixture
def server(gallery: Gallery, manage_site: Path) -> Iterator[LiveServer]:
    extra = {
        "GALLERY_JWT_SECRET": JWT_SECRET,
        "GALLERY_SITE_DIR": str(manage_site),
        "GALLERY_REDIRECT_ABOVE_BYTES": str(REDIRECT_ABOVE),
        **backend_env(gallery.settings),
    }
    with live_server(gallery.settings.data_dir, extra) as live:
        yield live


def test_a_large_image_shows_and_downloads_through_the_redirect(
    page: Any, server: LiveServer, gallery: Gallery, seed: Seed, as_admin: Callable[..., Any], tmp_path: Path
) -> None:
    RECORDED.clear()
    data = noise_png(60, 50)
    assert len(data) > REDIRECT_ABOVE
    admin = as_principal(seed.users["admin"])
    gallery.images.upload(admin, "large.png", data, "Large", None)
    as_admin()
    row = page.locator("tr", has_text="Large")
    row.get_by_role("button", name="Edit image: Large").click()
    dialog = page.get_by_role("dialog", name="Edit image")
    # the preview is a <gallery-img>: fetched with the token, followed to the bucket on aws, drawn from a blob
    page.wait_for_function(
        "() => document.querySelector('dialog .m-large-img').shadowRoot.querySelector('img').naturalWidth === 60"
    )
    expect(dialog.locator(".m-large-img")).not_to_have_attribute("error", re.compile(".*"))
    dialog.get_by_role("button", name="Close", exact=True).last.click()
    with page.expect_download() as download:
        row.get_by_role("button", name="Download image: Large").click()
    assert Path(download.value.path()).read_bytes() == data
    with gallery.downloads.image(admin, Scope.TENANT, "large.png", False).content().open() as stored:
        assert stored.read() == data

    if TEST_BACKEND == "aws":
        preflights = [s for s in RECORDED if s.method == "OPTIONS"]
        # what Chromium asked the bucket before following the redirect, and that the rules allowed it
        assert any(s.request_method == "GET" and "x-authorization" in s.request_headers for s in preflights)
        assert all(s.allowed for s in RECORDED), RECORDED
        gets = [s for s in RECORDED if s.method == "GET"]
        assert gets
        # the rules shipped before: uploads only. S3 refuses the same preflight, and the browser the download.
        old = [Rule(("POST",), ("*",), (), (), 3600)]
        refused = [s for s in preflights if matching_rule(old, s.origin, s.request_method, s.request_headers) is None]
        assert refused
