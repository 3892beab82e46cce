"""Download, ETags and caching (reference §12 items 12–18), plus our stronger promises:
304 without reading bytes, correct after a restart, and with the ETag cache off."""

from __future__ import annotations

import gzip
from typing import BinaryIO

import pytest
from flask.testing import FlaskClient

from gallery.config import Settings
from gallery.storage.protocols import BlobStore
from gallery.wiring import Gallery
from tests.conftest import Actor, make_app
from tests.helpers import error_of, ok_json, png, put_file, sha256, svg, upload


class CountingBlobs:
    """Wraps the real blob store and counts reads."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def open(self, etag: str) -> BinaryIO:
        self.reads += 1
        return self.inner.open(etag)


@pytest.fixture
def counting(gallery: Gallery) -> CountingBlobs:
    wrapped = CountingBlobs(gallery.downloads.blobs)
    gallery.downloads.blobs = wrapped  # type: ignore[assignment]
    return wrapped


def test_download_sends_bytes_and_headers(client: FlaskClient, admin: Actor) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    response = client.get("/api/images/tenant/logo.png", headers=admin.headers)
    assert response.status_code == 200
    assert response.data == data
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["ETag"] == f'"{sha256(data)}"'
    assert response.headers["Content-Disposition"] == "attachment;filename=logo.png"
    assert response.headers["x-filename"] == "logo.png"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-cache"
    assert int(response.headers["Content-Length"]) == len(data)


@pytest.mark.parametrize(
    "header",
    ['"{etag}"', "{etag}", 'W/"{etag}"', '"nope", "{etag}"', "*"],
    ids=["quoted", "unquoted", "weak", "list", "star"],
)
def test_if_none_match_answers_304_without_reading_bytes(
    client: FlaskClient, admin: Actor, counting: CountingBlobs, header: str
) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    reads = counting.reads
    response = client.get(
        "/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": header.format(etag=sha256(data))}
    )
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == f'"{sha256(data)}"'
    assert response.headers["Cache-Control"] == "no-cache"
    assert counting.reads == reads


def test_empty_or_other_if_none_match_gets_200(client: FlaskClient, admin: Actor) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    for header in ["", '"0000"']:
        response = client.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": header})
        assert response.status_code == 200
        assert response.data == data


def test_preview_has_its_own_etag_and_type(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, png(600, 600), "big.png"))
    preview = info["descriptor"]["previewDescriptor"]
    response = client.get("/api/images/tenant/big.png/preview", headers=admin.headers)
    assert response.headers["ETag"] == f'"{preview["etag"]}"'
    assert response.headers["Content-Type"] == preview["mediaType"]
    assert preview["etag"] != info["etag"]
    again = client.get(
        "/api/images/tenant/big.png/preview", headers={**admin.headers, "If-None-Match": f'"{preview["etag"]}"'}
    )
    assert again.status_code == 304
    # The original's ETag does not revalidate the preview.
    other = client.get(
        "/api/images/tenant/big.png/preview", headers={**admin.headers, "If-None-Match": f'"{info["etag"]}"'}
    )
    assert other.status_code == 200


def test_public_endpoint_needs_no_auth_and_ignores_a_token(client: FlaskClient, admin: Actor) -> None:
    data = png()
    info = ok_json(upload(client, admin.headers, data, "logo.png"))
    anonymous = client.get(info["publicLink"])
    assert anonymous.status_code == 200
    assert anonymous.data == data
    assert "Content-Disposition" not in anonymous.headers
    assert "x-filename" not in anonymous.headers
    assert anonymous.headers["X-Content-Type-Options"] == "nosniff"
    garbage_token = client.get(info["publicLink"], headers={"X-Authorization": "Bearer not-a-token"})
    assert garbage_token.status_code == 200
    revalidated = client.get(info["publicLink"], headers={"If-None-Match": f'"{sha256(data)}"'})
    assert revalidated.status_code == 304


def test_public_endpoint_unknown_key_is_404_json(client: FlaskClient) -> None:
    assert error_of(client.get("/api/images/public/doesnotexist"), 404)["errorCode"] == 32


def test_svg_is_gzipped_when_accepted(client: FlaskClient, admin: Actor) -> None:
    data = svg()
    ok_json(upload(client, admin.headers, data, "badge.svg"))
    zipped = client.get("/api/images/tenant/badge.svg", headers={**admin.headers, "Accept-Encoding": "gzip, br"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == data
    assert zipped.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    plain = client.get("/api/images/tenant/badge.svg", headers={**admin.headers, "Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert plain.data == data


def test_png_is_never_gzipped(client: FlaskClient, admin: Actor) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    response = client.get("/api/images/tenant/logo.png", headers={**admin.headers, "Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert response.data == data


@pytest.fixture
def ttl_client(data_dir: object, settings: Settings) -> FlaskClient:
    tuned = settings.evolve(system_browser_ttl=60, tenant_browser_ttl=5)
    return make_app(tuned).test_client()


def test_browser_ttl_applies_by_scope(ttl_client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    """Authenticated answers are for the caller's browser only (`private`, varying by token: the URL is tenant-
    relative); public links may sit in shared caches."""
    mine = ok_json(upload(ttl_client, admin.headers, png(), "t.png"))
    ok_json(upload(ttl_client, sysadmin.headers, png(color=(1, 2, 3)), "s.png"))
    tenant = ttl_client.get("/api/images/tenant/t.png", headers=admin.headers)
    system = ttl_client.get("/api/images/system/s.png", headers=admin.headers)
    assert tenant.headers["Cache-Control"] == "private, max-age=300"
    assert system.headers["Cache-Control"] == "private, max-age=3600"
    assert tenant.headers["Vary"] == system.headers["Vary"] == "X-Authorization, Authorization"
    not_modified = ttl_client.get(
        "/api/images/system/s.png", headers={**admin.headers, "If-None-Match": system.headers["ETag"]}
    )
    assert not_modified.status_code == 304
    assert not_modified.headers["Cache-Control"] == "private, max-age=3600"
    assert not_modified.headers["Vary"] == "X-Authorization, Authorization"
    public = ttl_client.get(mine["publicLink"])
    assert public.headers["Cache-Control"] == "public, max-age=300"
    assert "Vary" not in public.headers


def test_update_changes_etag_but_keeps_url_key_and_public_key(client: FlaskClient, admin: Actor) -> None:
    first, second = png(color=(1, 1, 1)), png(color=(2, 2, 2))
    before = ok_json(upload(client, admin.headers, first, "logo.png", title="Logo"))
    cached = client.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": f'"{sha256(first)}"'})
    assert cached.status_code == 304  # warms the ETag cache
    after = ok_json(put_file(client, "/api/images/tenant/logo.png", admin.headers, second, "logo-v2.png"))
    assert after["etag"] == sha256(second) != before["etag"]
    assert after["resourceKey"] == before["resourceKey"]
    assert after["publicResourceKey"] == before["publicResourceKey"]
    assert after["id"] == before["id"]
    assert after["title"] == "Logo"
    assert after["fileName"] == "logo-v2.png"
    stale = client.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": f'"{sha256(first)}"'})
    assert stale.status_code == 200
    assert stale.data == second
    assert client.get(before["publicLink"]).data == second


def test_revalidation_is_correct_after_a_restart(settings: Settings, admin: Actor) -> None:
    data = png()
    first = make_app(settings).test_client()
    ok_json(upload(first, admin.headers, data, "logo.png"))
    restarted = make_app(settings).test_client()
    response = restarted.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": sha256(data)})
    assert response.status_code == 304


def test_cache_off_still_answers_304_from_the_catalog(settings: Settings, admin: Actor) -> None:
    gallery = Gallery.open(settings.evolve(etag_cache_max_bytes=0))
    client = make_app(gallery=gallery).test_client()
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    for _ in range(2):
        response = client.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": sha256(data)})
        assert response.status_code == 304
    assert len(gallery.images.cache) == 0
    gallery.close()


def test_etag_cache_is_used_and_bounded(gallery: Gallery, client: FlaskClient, admin: Actor) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    client.get("/api/images/tenant/logo.png", headers={**admin.headers, "If-None-Match": sha256(data)})
    assert len(gallery.images.cache) == 1
    assert 0 < gallery.images.cache.size_bytes <= gallery.settings.etag_cache_max_bytes


def test_deleted_image_is_not_served_from_the_etag_cache(client: FlaskClient, admin: Actor) -> None:
    data = png()
    info = ok_json(upload(client, admin.headers, data, "logo.png"))
    headers = {**admin.headers, "If-None-Match": sha256(data)}
    assert client.get("/api/images/tenant/logo.png", headers=headers).status_code == 304
    assert client.get(info["publicLink"], headers=headers).status_code == 304
    ok_json(client.delete("/api/images/tenant/logo.png", headers=admin.headers))
    assert error_of(client.get("/api/images/tenant/logo.png", headers=headers), 404)["errorCode"] == 32
    assert client.get(info["publicLink"], headers=headers).status_code == 404


def test_private_image_is_not_served_publicly_even_when_cached(client: FlaskClient, admin: Actor) -> None:
    data = png()
    info = ok_json(upload(client, admin.headers, data, "logo.png"))
    assert client.get(info["publicLink"], headers={"If-None-Match": sha256(data)}).status_code == 304
    ok_json(client.put("/api/images/tenant/logo.png/public/false", headers=admin.headers))
    assert client.get(info["publicLink"], headers={"If-None-Match": sha256(data)}).status_code == 404
    assert client.get(info["publicLink"]).status_code == 404


def test_non_ascii_file_name_gets_rfc6266_disposition(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "café logo.png"))
    response = client.get("/api/images/tenant/caf%C3%A9%20logo.png", headers=admin.headers)
    assert response.status_code == 200
    assert "filename*=UTF-8''caf%C3%A9%20logo.png" in response.headers["Content-Disposition"]
