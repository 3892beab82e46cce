"""Export and import (reference §12 items 26–30)."""

from __future__ import annotations

import base64

from flask.testing import FlaskClient

from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, sha256, upload


def test_export_shape(client: FlaskClient, admin: Actor) -> None:
    data = png()
    info = ok_json(upload(client, admin.headers, data, "logo.png", title="Logo"))
    exported = ok_json(client.get("/api/images/tenant/logo.png/export", headers=admin.headers))
    assert exported == {
        "link": "/api/images/tenant/logo.png",
        "title": "Logo",
        "type": "IMAGE",
        "subType": "IMAGE",
        "resourceKey": "logo.png",
        "fileName": "logo.png",
        "publicResourceKey": info["publicResourceKey"],
        "public": True,
        "mediaType": "image/png",
        "data": base64.b64encode(data).decode(),
        "altText": "",
        "description": "",
        "tags": [],
    }


def test_export_delete_import_restores_the_image(client: FlaskClient, admin: Actor) -> None:
    data = png()
    before = ok_json(upload(client, admin.headers, data, "logo.png", title="Logo"))
    exported = ok_json(client.get("/api/images/tenant/logo.png/export", headers=admin.headers))
    ok_json(client.delete("/api/images/tenant/logo.png", headers=admin.headers))
    after = ok_json(client.put("/api/image/import", json=exported, headers=admin.headers))
    for field in [
        "resourceKey",
        "title",
        "fileName",
        "public",
        "publicResourceKey",
        "descriptor",
        "link",
        "publicLink",
    ]:
        assert after[field] == before[field], field
    assert client.get("/api/images/tenant/logo.png", headers=admin.headers).data == data
    assert client.get(before["publicLink"]).data == data


def test_import_over_an_existing_key_overwrites_in_place(client: FlaskClient, admin: Actor) -> None:
    before = ok_json(upload(client, admin.headers, png(color=(1, 1, 1)), "logo.png"))
    new = png(color=(7, 7, 7))
    body = {
        "title": "Replaced",
        "resourceKey": "logo.png",
        "fileName": "logo.png",
        "mediaType": "image/png",
        "public": True,
        "data": base64.b64encode(new).decode(),
    }
    after = ok_json(client.put("/api/image/import", json=body, headers=admin.headers))
    assert after["id"] == before["id"]
    assert after["resourceKey"] == "logo.png"
    assert after["etag"] == sha256(new)
    assert after["title"] == "Replaced"
    listed = ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))
    assert listed["totalElements"] == 1


def test_import_of_the_3_6_2_shape_defaults_to_private_image(client: FlaskClient, admin: Actor) -> None:
    body = {
        "mediaType": "image/png",
        "fileName": "old.png",
        "title": "Old",
        "resourceKey": "old.png",
        "data": base64.b64encode(png()).decode(),
    }
    info = ok_json(client.put("/api/image/import", json=body, headers=admin.headers))
    assert info["public"] is False
    assert info["publicLink"] is None
    assert info["resourceSubType"] == "IMAGE"
    assert len(info["publicResourceKey"]) == 32


def test_import_accepts_is_public_too(client: FlaskClient, admin: Actor) -> None:
    body = {"fileName": "a.png", "isPublic": True, "data": base64.b64encode(png()).decode()}
    info = ok_json(client.put("/api/image/import", json=body, headers=admin.headers))
    assert info["public"] is True
    assert info["resourceKey"] == "a.png"


def test_tenant_admin_exports_a_system_image_and_imports_it_as_its_own(
    client: FlaskClient, admin: Actor, sysadmin: Actor
) -> None:
    data = png()
    system = ok_json(upload(client, sysadmin.headers, data, "shared.png"))
    exported = ok_json(client.get("/api/images/system/shared.png/export", headers=admin.headers))
    assert exported["link"] == "/api/images/system/shared.png"
    mine = ok_json(client.put("/api/image/import", json=exported, headers=admin.headers))
    assert mine["link"] == "/api/images/tenant/shared.png"
    assert mine["tenantId"]["id"] == admin.tenant_id
    # The public key belongs to the system image, so the copy gets its own.
    assert mine["publicResourceKey"] != system["publicResourceKey"]
    assert client.get("/api/images/tenant/shared.png", headers=admin.headers).data == data


def test_import_rejects_bad_bodies_and_stores_nothing(client: FlaskClient, admin: Actor) -> None:
    good = {"fileName": "a.png", "data": base64.b64encode(png()).decode()}
    bad_bodies = [
        ({**good, "data": "not base64!!"}, "base64"),
        ({**good, "data": ""}, "Resource data should be specified"),
        ({**good, "data": base64.b64encode(b"hello").decode()}, "image"),
        ({**good, "fileName": "../x.png"}, "forbidden"),
        ({**good, "resourceKey": "a/../../b.png"}, "forbidden"),
        ({**good, "resourceKey": "..png"}, "forbidden"),
        ({**good, "title": "x" * 256}, "255"),
        ({**good, "public": "yes"}, "public"),
        ({**good, "subType": "WIDGET"}, "WIDGET"),
        ({**good, "publicResourceKey": "../../etc"}, "publicResourceKey"),
    ]
    for body, message in bad_bodies:
        response = error_of(client.put("/api/image/import", json=body, headers=admin.headers), 400)
        assert message in response["message"], (body, response)
    for raw in [b"{not json", b"[1, 2]", b""]:
        error_of(client.put("/api/image/import", data=raw, headers=admin.headers, content_type="application/json"), 400)
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0
