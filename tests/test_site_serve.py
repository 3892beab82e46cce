"""`gallery serve` serves the built static gallery beside the API, on the same origin, with the publishing headers."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from gallery.domain.model import ImageInfo
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, Actor, make_app
from tests.helpers import error_of
from tests.live import live_server


@pytest.fixture
def served(site: Path, gallery: Gallery) -> FlaskClient:
    opened = Gallery.open(gallery.settings.evolve(site_dir=site))
    return make_app(gallery=opened).test_client()


def test_pages_and_files_come_with_the_publishing_headers(served: FlaskClient, uploaded: dict[str, ImageInfo]) -> None:
    index = served.get("/")
    assert index.status_code == 200
    assert index.headers["Content-Type"] == "text/html; charset=utf-8"
    assert index.headers["Cache-Control"] == "no-cache"
    photo = uploaded["photo"]
    page = served.get(f"/images/{photo.id}/")
    assert page.status_code == 200
    rendition = re.search(r'src="\.\./\.\./(r/[0-9a-f]{16}-\d+\.jpg)"', page.get_data(as_text=True))
    assert rendition is not None
    file = served.get("/" + rendition.group(1))
    assert (file.status_code, file.headers["Content-Type"]) == (200, "image/jpeg")
    assert file.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    again = served.get("/" + rendition.group(1), headers={"If-None-Match": file.headers["ETag"]})
    assert again.status_code == 304


def test_svg_is_sandboxed_on_the_shared_origin(served: FlaskClient, uploaded: dict[str, ImageInfo]) -> None:
    icon = uploaded["icon"]
    response = served.get(f"/originals/{icon.etag}.svg")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.headers["Content-Disposition"] == "attachment"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_api_keeps_its_paths_and_json_errors(served: FlaskClient, admin: Actor) -> None:
    listed = served.get("/api/images?pageSize=5&page=0", headers=admin.headers)
    assert listed.status_code == 200
    assert "data" in listed.get_json()
    assert error_of(served.get("/api/no-such-endpoint"), 404)["errorCode"] == 32
    assert error_of(served.post("/api/no-such-endpoint", json={}), 404)["errorCode"] == 32
    error_of(served.get("/api/images?pageSize=5&page=0"), 401)


@pytest.mark.parametrize(
    "path",
    [
        "/no/such/page/",
        "/../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/.gallery-pages.json",
        "/.gallery-pages.json/",
    ],
)
def test_missing_and_escaping_paths_get_the_site_404(served: FlaskClient, path: str, site: Path) -> None:
    if path.startswith("/.gallery-pages.json"):
        assert (site / ".gallery-pages.json").is_file()  # the build's own file: there, and never served
    response = served.get(path)
    assert response.status_code == 404
    assert "There is no page here" in response.get_data(as_text=True)


def test_serve_as_make_serve_runs_it_answers_at_once_and_builds_the_site(tmp_path: Path) -> None:
    """`make serve` runs `gallery serve --demo --build` (`--build` is the default now, kept for old scripts): on a
    fresh machine /manage/ answers at once and / as soon as the background build is done."""
    from tests.test_site_live import wait_for

    site = tmp_path / "out"
    extra = {"GALLERY_SITE_DIR": str(site), "GALLERY_JWT_SECRET": JWT_SECRET}
    with live_server(tmp_path / "data", extra, args=("--demo", "--build"), cwd=tmp_path, rebuild=True) as live:
        with urllib.request.urlopen(f"{live.url}/manage/") as response:
            assert "Sign in to manage images" in response.read().decode()
        index = wait_for(f"{live.url}/", 'class="card')
    assert (site / "manage" / "index.html").is_file()
    assert index.count('class="card') >= 3
