"""`gallery serve` serves the built static gallery beside the API, on the same origin, with the publishing headers."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from gallery.config import Settings
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


def test_a_tag_page_is_served_at_its_encoded_link(described: dict[str, ImageInfo], served: FlaskClient) -> None:
    listing = served.get("/tags/")
    assert listing.status_code == 200
    assert 'href="../tags/caf%C3%A9/"' in listing.get_data(as_text=True)
    page = served.get("/tags/caf%C3%A9/")
    assert (page.status_code, page.headers["Cache-Control"]) == (200, "no-cache")
    assert 'Tag: <span class="tag-name">café</span>' in page.get_data(as_text=True)


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
    from tests.live import wait_for

    site = tmp_path / "out"
    extra = {"GALLERY_SITE_DIR": str(site), "GALLERY_JWT_SECRET": JWT_SECRET}
    with live_server(tmp_path / "data", extra, args=("--demo",), cwd=tmp_path, rebuild=True) as live:
        with urllib.request.urlopen(f"{live.url}/manage/") as response:
            assert "Sign in to manage images" in response.read().decode()
        index = wait_for(f"{live.url}/", 'class="card')
    assert (site / "manage" / "index.html").is_file()
    assert index.count('class="card') >= 3


def test_while_the_site_is_first_built_pages_say_so_in_html(tmp_path: Path) -> None:
    """From the first answer on, `/` is a page a person can read: "being built" (reloading itself) until the
    build is done, then the gallery. Never the API's JSON 404."""
    import urllib.error

    site = tmp_path / "out"
    extra = {"GALLERY_SITE_DIR": str(site), "GALLERY_JWT_SECRET": JWT_SECRET}
    answers: list[tuple[int, str, str]] = []
    with live_server(tmp_path / "data", extra, args=("--demo",), cwd=tmp_path, rebuild=True) as live:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{live.url}/", timeout=5) as response:
                    answers.append((response.status, response.headers["Content-Type"], response.read().decode()))
            except urllib.error.HTTPError as refused:
                with refused:
                    answers.append((refused.code, refused.headers["Content-Type"], refused.read().decode()))
            if answers[-1][0] == 200:
                break
    assert answers[-1][0] == 200
    assert 'class="card' in answers[-1][2]
    for status, content_type, body in answers:
        assert content_type.startswith("text/html"), (status, content_type, body[:200])
        assert not body.lstrip().startswith("{")
    waiting = [body for status, _, body in answers if status == 503]
    assert waiting  # the build takes seconds; the first answers come while it runs
    for body in waiting:
        assert "The gallery is being built" in body
        assert 'http-equiv="refresh"' in body


def test_a_first_build_that_failed_says_why_on_the_page(settings: Settings, tmp_path: Path) -> None:
    app = make_app(settings.evolve(site_dir=tmp_path / "never-built"))
    app.config["GALLERY_FIRST_BUILD"] = lambda: "MkDocs could not read <mkdocs.yml>"
    answer = app.test_client().get("/")
    asset = app.test_client().get("/assets/gallery.css")
    assert answer.status_code == 503
    assert answer.mimetype == "text/html"
    body = answer.get_data(as_text=True)
    assert "The gallery could not be built" in body
    assert "&lt;mkdocs.yml&gt;" in body  # the reason, escaped
    assert "refresh" not in body
    assert asset.status_code == 404  # an asset is not a page: no HTML in its place
