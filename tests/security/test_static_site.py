"""The static site as an attacker meets it: a real site built from a catalog holding hostile uploads, fetched through
`gallery serve` (the origin it shares with the API and `/manage/`) and from a moto bucket after `gallery publish`,
and opened in Chromium to show that nothing a user uploaded runs there.

The hostile files are image polyglots: a valid GIF with an HTML document after its trailer. They pass image
validation, as they should (the bytes are an image); what must never happen is that our origin serves them as HTML.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

from gallery.cli import main
from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, Scope
from gallery.site.render import original_path
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, Seed
from tests.helpers import png, svg
from tests.live import LiveServer, live_server
from tests.moto_http import moto_subprocess
from tests.site_fixtures import build
from tests.storage_fixtures import AWS_ENV, aws_session

ROOT = Path(__file__).resolve().parents[2]
# The script a polyglot carries: if it ever runs, the page's title and a request to /stolen say so.
PAYLOAD = b"<html><body><script>document.title='XSS';fetch('/stolen?'+localStorage.getItem('gallery.token'))</script>"
# Names that make a document out of bytes when a server types files by their extension.
DOCUMENT_NAMES = ["x.html", "x.htm", "x.xhtml", "x.js", "x.svg", "x.xml", "x.shtml", "index.html"]


def polyglot(seed_colour: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (seed_colour, 40, 90)).save(out, "GIF")
    return out.getvalue() + PAYLOAD


@pytest.fixture
def hostile(gallery: Gallery, seed: Seed) -> dict[str, ImageInfo]:
    """One public polyglot per dangerous name, a private image, and a key as long as keys may be. The tenant's
    profile publishes originals as uploaded (the public copy would drop what follows the picture, the payload with
    it): the site then holds the polyglots whole, the worst case its typing must hold against. The images are
    returned as the site publishes them."""
    gallery.storage.catalog.update_profile(replace(seed.profile, public_metadata=True))
    admin = as_principal(seed.users["admin"])
    made = {name: gallery.images.upload(admin, name, polyglot(n), name, None) for n, name in enumerate(DOCUMENT_NAMES)}
    made = {name: replace(image, public_original=image.original) for name, image in made.items()}
    made["private"] = gallery.images.upload(admin, "secret-plan.png", png(30, 20), "Secret plan", None)
    made["private"] = gallery.images.set_public(admin, Scope.TENANT, "secret-plan.png", False)
    long_key = "k" * 251 + ".png"
    made["long"] = gallery.images.upload(admin, long_key, png(12, 12, (1, 2, 3)), "Long key", None)
    made["drawing"] = gallery.images.upload(admin, "drawing.svg", svg(40, 20), "A drawing", None)
    return made


@pytest.fixture
def built(tmp_path: Path, env: dict[str, str], hostile: dict[str, ImageInfo], seed: Seed) -> Path:
    out = tmp_path / "site"
    code, output = build(out, "--tenant", seed.tenants["A"].name)
    assert code == 0, output  # a 255-character key once stopped every tenant's build ("File name too long")
    return out


@pytest.fixture
def served(built: Path, gallery: Gallery) -> Iterator[LiveServer]:
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(built)}
    with live_server(gallery.settings.data_dir, extra) as live:
        yield live


def site_files(site: Path, folder: str) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in (site / folder).rglob("*") if p.is_file())


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers (names in one case, whatever the server's) and body."""

    def named(headers: Any) -> dict[str, str]:
        return {"-".join(part.capitalize() for part in k.split("-")): v for k, v in headers.items()}

    try:
        with urllib.request.urlopen(url) as response:
            return response.status, named(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, named(error.headers), error.read()


def test_users_bytes_are_named_by_what_we_made_never_by_their_keys(built: Path, hostile: dict[str, ImageInfo]) -> None:
    originals = site_files(built, "originals")
    for name in DOCUMENT_NAMES:
        assert original_path(hostile[name]) in originals
    assert all(path.rsplit(".", 1)[1] in {"gif", "png", "svg"} for path in originals), originals
    # the long key is on the site, under a short name of ours
    assert original_path(hostile["long"]) in originals
    assert (built / "images" / hostile["long"].id / "index.html").is_file()


@pytest.mark.parametrize("name", DOCUMENT_NAMES)
def test_gallery_serve_types_a_polyglot_as_the_image_it_is(
    served: LiveServer, built: Path, hostile: dict[str, ImageInfo], name: str
) -> None:
    image = hostile[name]
    status, headers, body = fetch(f"{served.url}/{original_path(image)}")
    assert (status, headers["Content-Type"]) == (200, "image/gif")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert not headers.get("Content-Disposition", "").startswith("attachment")  # may show in the browser's viewer
    assert body.endswith(PAYLOAD)  # the bytes are served as they are: only their type is ours
    # the key's own path, where the old site put it, is nothing at all
    for guess in (f"originals/{image.tenant_id}/{name}", f"originals/{name}", f"originals/system/{name}"):
        assert fetch(f"{served.url}/{guess}")[0] == 404


def test_anything_in_the_users_folders_that_is_not_a_raster_image_is_a_sandboxed_download(
    served: LiveServer, built: Path, hostile: dict[str, ImageInfo]
) -> None:
    drawing = original_path(hostile["drawing"])  # a real SVG: shown as a file, never as a document
    status, headers, _ = fetch(f"{served.url}/{drawing}")
    assert (status, headers["Content-Type"]) == (200, "image/svg+xml; charset=utf-8")
    assert headers["Content-Disposition"] == "attachment"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    # a file slipped into a users' folder by hand: its extension means nothing there
    planted = built / "originals" / "planted.html"
    planted.write_bytes(PAYLOAD)
    status, headers, _ = fetch(f"{served.url}/originals/planted.html")
    assert (status, headers["Content-Type"]) == (200, "application/octet-stream")
    assert headers["Content-Disposition"] == "attachment"
    assert headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_pages_carry_a_strict_policy_and_refuse_frames(served: LiveServer) -> None:
    for path in ("/", "/manage/", "/no-such-page"):
        _, headers, _ = fetch(served.url + path)
        policy = headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy, path
        assert "frame-ancestors 'none'" in policy
        assert "object-src 'none'" in policy
        assert "base-uri 'none'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"


def test_no_uploaded_script_runs_in_chromium_anywhere_on_the_site(
    browser: Any, served: LiveServer, built: Path, hostile: dict[str, ImageInfo], seed: Seed
) -> None:
    """Every page and every file of the site, opened as a signed-in administrator would (a token in localStorage):
    the polyglots' script never runs, and nothing asks the server for /stolen."""
    context = browser.new_context(accept_downloads=True)
    stolen: list[str] = []
    context.on("request", lambda r: stolen.append(r.url) if "/stolen" in r.url else None)
    page = context.new_page()
    page.goto(f"{served.url}/")
    page.evaluate("localStorage.setItem('gallery.token', 'a-token-worth-stealing')")
    paths = [p for folder in ("originals", "images") for p in site_files(built, folder)]
    paths += [f"images/{image.id}/" for image in hostile.values() if image.public]
    opened = {path: open_as(page, f"{served.url}/{path}") for path in paths}
    assert "XSS" not in opened.values(), opened
    assert {opened[p] for p in paths if p.endswith(".svg")} == {"download"}  # attachments: never documents
    context.close()
    assert stolen == []


def open_as(page: Any, url: str) -> str:
    """Open `url` as a person would: "download" when the browser saves it instead of showing it, else the title
    of the document it shows (the polyglots' script would make it "XSS")."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        page.goto(url)
    except PlaywrightError as exc:
        if "Download is starting" not in exc.message:
            raise
        return "download"
    page.wait_for_timeout(20)  # a script that runs at all runs by now
    title: str = page.title()
    return title


def test_private_images_are_not_on_the_site_by_default(
    built: Path, served: LiveServer, hostile: dict[str, ImageInfo]
) -> None:
    private = hostile["private"]
    everything = "".join(p.read_text(errors="replace") for p in built.rglob("*") if p.suffix in {".html", ".json"})
    assert "Secret plan" not in everything
    assert private.id not in everything
    assert private.public_key not in everything
    assert private.etag not in everything
    assert not (built / "exports" / f"{private.id}.json").exists()
    assert fetch(f"{served.url}/images/{private.id}/")[0] == 404
    assert fetch(f"{served.url}/api/images/tenant/secret-plan.png")[0] == 401  # as the API says


def test_the_published_bucket_holds_the_same_types_and_no_private_image(
    built: Path, hostile: dict[str, ImageInfo], tmp_path: Path
) -> None:
    with moto_subprocess() as url:
        s3 = aws_session().client("s3", endpoint_url=url)
        s3.create_bucket(Bucket="site")
        env = {**AWS_ENV, "AWS_ENDPOINT_URL": url}
        result = CliRunner().invoke(main, ["publish", "--bucket", "site", "--site", str(built)], env=env)
        assert result.exit_code == 0, result.output
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="site")["Contents"]]
        assert not any(key.endswith((".htm", ".xhtml", ".js")) and key.startswith("originals/") for key in keys)
        for name in DOCUMENT_NAMES:
            head = s3.head_object(Bucket="site", Key=original_path(hostile[name]))
            assert head["ContentType"] == "image/gif"
        drawing = original_path(hostile["drawing"])
        assert s3.head_object(Bucket="site", Key=drawing)["ContentDisposition"] == "attachment"
        # what a browser gets from the bucket over HTTP
        signed = s3.generate_presigned_url(
            "get_object", Params={"Bucket": "site", "Key": original_path(hostile["x.html"])}
        )
        status, headers, _ = fetch(signed)
        assert (status, headers["Content-Type"]) == (200, "image/gif")
        assert not any(hostile["private"].id in key or hostile["private"].etag in key for key in keys)


def test_the_management_page_refuses_to_load_in_another_sites_frame(
    browser: Any, served: LiveServer, tmp_path: Path
) -> None:
    """Clickjacking: a page elsewhere frames /manage/ under a decoy. The browser must show nothing of ours in it."""
    from tests.browser import static_server

    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "index.html").write_text(
        f'<!doctype html><title>Win a prize</title><iframe id="f" src="{served.url}/manage/" width="800" height="600">'
        "</iframe>"
    )
    with static_server(decoy) as elsewhere:
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{elsewhere}/")
        page.wait_for_timeout(500)
        framed = [frame for frame in page.frames if frame != page.main_frame]
        assert len(framed) == 1
        # a refused frame is left blank or on the browser's error page: never our sign-in form
        assert framed[0].url.startswith(("chrome-error://", "about:blank")), framed[0].url
        assert "Sign in" not in framed[0].content()
        context.close()
