"""Test data made in the tests: images drawn with Pillow, and small request helpers."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from flask.testing import FlaskClient
from PIL import Image, ImageCms
from werkzeug.test import TestResponse


def png(width: int = 200, height: int = 160, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 300, height: int = 200, color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def svg(width: int = 120, height: int = 40) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#123456"/></svg>'
    ).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    file_name: str = "image.png",
    *,
    title: str | None = None,
    sub_type: str | None = None,
    content_type: str = "application/octet-stream",
) -> TestResponse:
    form: dict[str, Any] = {"file": (io.BytesIO(data), file_name, content_type)}
    if title is not None:
        form["title"] = title
    if sub_type is not None:
        form["imageSubType"] = sub_type
    return client.post("/api/image", data=form, headers=headers, content_type="multipart/form-data")


def put_file(client: FlaskClient, path: str, headers: dict[str, str], data: bytes, file_name: str) -> TestResponse:
    form = {"file": (io.BytesIO(data), file_name)}
    return client.put(path, data=form, headers=headers, content_type="multipart/form-data")


def ok_json(response: TestResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The standard error body, checked for shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    assert body["status"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["errorCode"], int)
    assert isinstance(body["timestamp"], int)
    return body


# A phone photo and what can be read from it (tests/test_api_privacy.py, tests/test_site_privacy.py).
GPS, MAKE, MODEL, SERIAL, LENS_SERIAL, OWNER, ORIENTATION = 0x8825, 0x010F, 0x0110, 0xA431, 0xA435, 0xA430, 0x0112
SECRETS = (b"PhoneMaker", b"SN-0451-7731", b"LENS-99812", b"Ada Lovelace", b"Holiday at home")


def _phone_profile() -> bytes:
    """An ICC profile as LittleCMS makes it, with a fixed creation time in its header (bytes 24-35): lcms stamps the
    second it was made, and two photos made a second apart would differ."""
    made = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return made[:24] + bytes.fromhex("07ea00010001000000000000") + made[36:]  # 2026-01-01 00:00:00


PHONE_PROFILE = _phone_profile()


def phone_photo(kind: str = "JPEG") -> bytes:
    """A photo as a phone writes it: GPS, make, model, body and lens serial numbers, the owner, an XMP packet, a
    Display P3-like profile and an orientation (turned a quarter). The same bytes at every call."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "PhoneMaker", "Phone 15", 6
    exif.get_ifd(0x8769).update({SERIAL: "SN-0451-7731", LENS_SERIAL: "LENS-99812", OWNER: "Ada Lovelace"})
    exif.get_ifd(GPS).update({1: "N", 2: (51.0, 30.0, 12.5), 3: "W", 4: (0.0, 7.0, 39.0)})
    profile = PHONE_PROFILE
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><dc:title>Holiday at home</dc:title></x:xmpmeta>'
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 80, 20)).save(out, kind, exif=exif, icc_profile=profile, xmp=xmp)
    return out.getvalue()


def what_it_tells(data: bytes) -> dict[str, Any]:
    """What anyone holding the bytes can read from them."""
    with Image.open(io.BytesIO(data)) as opened:
        exif = opened.getexif()
        return {
            "gps": dict(exif.get_ifd(GPS)),
            "make": exif.get(MAKE),
            "serial": exif.get_ifd(0x8769).get(SERIAL),
            "orientation": exif.get(ORIENTATION),
            "profile": opened.info.get("icc_profile"),
            "secrets": [s.decode() for s in SECRETS if s in data],
        }


SITEMAPS_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_urls(site: Path, base: str) -> list[str]:
    """Every page URL the site's sitemap index names through its sitemaps, checked against the protocol's rules
    (sitemaps.org): each sitemap is under `base` and lists only URLs under its own folder, at most 50,000 of them."""
    index = ElementTree.fromstring((site / "sitemap.xml").read_bytes())
    assert index.tag == f"{SITEMAPS_NS}sitemapindex"
    found: list[str] = []
    for loc in index.iter(f"{SITEMAPS_NS}loc"):
        url = loc.text or ""
        assert url.startswith(base), url
        assert "/" not in url[len(base) :], url
        part = ElementTree.fromstring((site / url[len(base) :]).read_bytes())
        assert part.tag == f"{SITEMAPS_NS}urlset"
        urls = [entry.text or "" for entry in part.iter(f"{SITEMAPS_NS}loc")]
        assert len(urls) <= 50_000
        folder = url.rsplit("/", 1)[0] + "/"
        assert all(listed.startswith(folder) for listed in urls), (url, urls)
        found += urls
    return found


def site_cards(site: Path) -> list[dict[str, Any]]:
    """Every card of a built site's search index, newest first, as the index page's script reads them: the shards
    `gallery.json` names, in its order."""
    head = json.loads((site / "gallery.json").read_text())
    assert all(re.fullmatch(r"search/\d+\.json", shard) for shard in head["shards"]), head
    return [card for shard in head["shards"] for card in json.loads((site / shard).read_text())]
