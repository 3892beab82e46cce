"""A client's mistake is a clear 4xx JSON error and changes nothing: no row, no bytes, usage unchanged."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, upload

Send = Callable[[FlaskClient, dict[str, str]], TestResponse]


def multipart(fields: dict[str, object]) -> Send:
    def send(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return client.post("/api/image", data=fields, headers=headers, content_type="multipart/form-data")

    return send


def file_part(data: bytes, name: str = "a.png") -> tuple[io.BytesIO, str]:
    return (io.BytesIO(data), name)


def raw_multipart(file_name_header: str, data: bytes) -> Send:
    """A hand-built body, for names the test client would not encode faithfully."""
    boundary = "gallery-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name_header}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )

    def send(client: FlaskClient, headers: dict[str, str]) -> TestResponse:
        return client.post(
            "/api/image", data=body, headers=headers, content_type=f"multipart/form-data; boundary={boundary}"
        )

    return send


TRUNCATED = png(300, 300)[:200]
BAD_UPLOADS: dict[str, tuple[Send, str]] = {
    "no file part": (multipart({"title": "x"}), "'file'"),
    "empty file": (multipart({"file": file_part(b"")}), "Resource data should be specified"),
    "text file": (multipart({"file": file_part(b"hello, world\n", "a.txt")}), "supported"),
    "html named png": (multipart({"file": file_part(b"<html><script>alert(1)</script></html>")}), "supported"),
    "truncated png": (multipart({"file": file_part(TRUNCATED)}), "image"),
    "slash in name": (multipart({"file": file_part(png(), "a/b.png")}), "forbidden"),
    "backslash in name": (raw_multipart("a\\\\b.png", png()), "forbidden"),
    "nul in name": (multipart({"file": file_part(png(), "a\x00b.png")}), "forbidden"),
    "dot-dot name": (multipart({"file": file_part(png(), "..")}), "forbidden"),
    "dot name": (multipart({"file": file_part(png(), ".")}), "forbidden"),
    "long title": (multipart({"file": file_part(png()), "title": "t" * 256}), "255"),
    "long name": (multipart({"file": file_part(png(), "n" * 252 + ".png")}), "255"),
    "bad sub type": (multipart({"file": file_part(png()), "imageSubType": "nope"}), "nope"),
    "not multipart": (lambda c, h: c.post("/api/image", data=b"raw", headers=h, content_type="image/png"), "'file'"),
}


@pytest.mark.parametrize("case", list(BAD_UPLOADS))
def test_bad_upload_is_400_and_stores_nothing(client: FlaskClient, gallery: Gallery, admin: Actor, case: str) -> None:
    send, message = BAD_UPLOADS[case]
    blobs_before = set(gallery.storage.blobs.etags())
    body = error_of(send(client, admin.headers), 400)
    assert message in body["message"], body
    assert gallery.images.usage(admin.tenant_id) == 0
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0
    assert set(gallery.storage.blobs.etags()) == blobs_before


def test_bad_update_changes_nothing(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    data = png()
    before = ok_json(upload(client, admin.headers, data, "a.png"))
    for payload, name in [(b"", "a.png"), (b"garbage", "a.png"), (TRUNCATED, "a.png"), (png(), "x/y.png")]:
        response = client.put(
            "/api/images/tenant/a.png",
            data={"file": (io.BytesIO(payload), name)},
            headers=admin.headers,
            content_type="multipart/form-data",
        )
        error_of(response, 400)
    assert ok_json(client.get("/api/images/tenant/a.png/info", headers=admin.headers)) == before
    assert client.get("/api/images/tenant/a.png", headers=admin.headers).data == data
    assert gallery.images.usage(admin.tenant_id) == len(data)
    assert set(gallery.storage.blobs.etags()) == {before["etag"]}


def test_decompression_bomb_is_rejected_before_decoding(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    # A flat 1-bit image compresses to almost nothing yet declares 400 megapixels.
    out = io.BytesIO()
    from PIL import Image

    Image.new("1", (20_000, 20_000)).save(out, "PNG")
    body = error_of(upload(client, admin.headers, out.getvalue(), "bomb.png"), 400)
    assert "pixels" in body["message"]
    assert gallery.images.usage(admin.tenant_id) == 0


def test_oversized_request_is_413_json(settings: object, admin: Actor) -> None:
    from gallery.config import Settings
    from tests.conftest import make_app

    assert isinstance(settings, Settings)
    client = make_app(settings.evolve(max_request_bytes=1000)).test_client()
    body = error_of(upload(client, admin.headers, png() + b"\0" * 2000, "a.png"), 413)
    assert body["message"] == "Payload is too large"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/nothing-here"),
        ("POST", "/api/images/tenant/a.png"),
        ("GET", "/api/images/public/x/info"),
        ("PUT", "/api/images/tenant/a.png/public/maybe"),
    ],
)
def test_unknown_routes_and_methods_are_json(client: FlaskClient, admin: Actor, method: str, path: str) -> None:
    response = client.open(path, method=method, headers=admin.headers)
    assert 400 <= response.status_code < 500
    error_of(response, response.status_code)


def test_rename_with_bad_json_is_400(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    for data in [b"{", b"[]", b'{"title": 5}', b""]:
        response = client.put(
            "/api/images/tenant/a.png/info", data=data, headers=admin.headers, content_type="application/json"
        )
        error_of(response, 400)
    assert ok_json(client.get("/api/images/tenant/a.png/info", headers=admin.headers))["title"] == "a.png"


LONE_SURROGATE = "\\ud800"  # as JSON escapes it: valid JSON, but half a UTF-16 pair is no character


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/api/image/import", f'{{"resourceKey": "{LONE_SURROGATE}.png", "fileName": "a.png", "data": "AAAA"}}'),
        ("PUT", "/api/image/import", f'{{"fileName": "a{LONE_SURROGATE}.png", "data": "AAAA"}}'),
        ("PUT", "/api/images/tenant/kept.png/info", f'{{"title": "{LONE_SURROGATE}"}}'),
        ("POST", "/api/dashboard", f'{{"title": "x", "configuration": {{"{LONE_SURROGATE}": 1}}}}'),
        ("POST", "/api/auth/login", f'{{"username": "{LONE_SURROGATE}", "password": "x"}}'),
    ],
)
def test_a_lone_surrogate_in_json_is_400_and_changes_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, method: str, path: str, body: str
) -> None:
    kept = ok_json(upload(client, admin.headers, png(), "kept.png"))
    usage = gallery.images.usage(admin.tenant_id)
    response = client.open(path, method=method, data=body, content_type="application/json", headers=admin.headers)
    assert "lone surrogate" in error_of(response, 400)["message"]
    listed = ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))
    assert [(i["resourceKey"], i["title"]) for i in listed["data"]] == [(kept["resourceKey"], kept["title"])]
    assert ok_json(client.get("/api/tenant/dashboards?pageSize=10&page=0", headers=admin.headers))["data"] == []
    assert gallery.images.usage(admin.tenant_id) == usage


def test_a_surrogate_pair_is_a_character_and_is_kept(client: FlaskClient, admin: Actor) -> None:
    kept = ok_json(upload(client, admin.headers, png(), "kept.png"))
    renamed = client.put(
        f"{kept['link']}/info",
        data='{"title": "smile \\ud83d\\ude00"}',
        content_type="application/json",
        headers=admin.headers,
    )
    assert ok_json(renamed)["title"] == "smile 😀"
