"""Upload and keys (reference §12 items 4–11)."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from flask.testing import FlaskClient

from gallery.domain.model import SYSTEM_TENANT_ID
from tests.conftest import Actor
from tests.helpers import error_of, jpeg, ok_json, png, sha256, svg, upload


def test_upload_with_file_only_follows_thingsboard_defaults(client: FlaskClient, admin: Actor) -> None:
    data = png(200, 160)
    info = ok_json(upload(client, admin.headers, data, "my_png_image.png"))
    assert info["title"] == info["fileName"] == info["resourceKey"] == info["name"] == "my_png_image.png"
    assert info["resourceType"] == "IMAGE"
    assert info["resourceSubType"] == "IMAGE"
    assert info["public"] is True
    assert re.fullmatch(r"[A-Za-z0-9]{32}", info["publicResourceKey"])
    assert info["link"] == "/api/images/tenant/my_png_image.png"
    assert info["publicLink"] == "/api/images/public/" + info["publicResourceKey"]
    assert info["tenantId"] == {"entityType": "TENANT", "id": admin.tenant_id}
    assert info["id"]["entityType"] == "TB_RESOURCE"
    assert info["externalId"] is None


def test_same_file_name_three_times_gets_numbered_keys(client: FlaskClient, admin: Actor) -> None:
    keys = [ok_json(upload(client, admin.headers, png(), "x.jpg"))["resourceKey"] for _ in range(3)]
    assert keys == ["x.jpg", "x_(1).jpg", "x_(2).jpg"]
    info = ok_json(client.get("/api/images/tenant/x_(2).jpg/info", headers=admin.headers))
    assert info["title"] == info["fileName"] == "x.jpg"


def test_numbered_keys_without_extension(client: FlaskClient, admin: Actor) -> None:
    keys = [ok_json(upload(client, admin.headers, png(), "noext"))["resourceKey"] for _ in range(2)]
    assert keys == ["noext", "noext_(1)"]


def test_title_part_overrides_title_and_sub_type_is_stored(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, svg(), "pump.svg", title="Pump", sub_type="SCADA_SYMBOL"))
    assert info["title"] == info["name"] == "Pump"
    assert info["fileName"] == "pump.svg"
    assert info["resourceSubType"] == "SCADA_SYMBOL"


def test_invalid_sub_type_is_rejected(client: FlaskClient, admin: Actor) -> None:
    body = error_of(upload(client, admin.headers, png(), "a.png", sub_type="WIDGET"), 400)
    assert "WIDGET" in body["message"]


def test_etag_and_descriptor_describe_the_bytes(client: FlaskClient, admin: Actor) -> None:
    data = png(200, 160)
    info = ok_json(upload(client, admin.headers, data, "a.png"))
    descriptor = info["descriptor"]
    assert info["etag"] == descriptor["etag"] == sha256(data)
    assert descriptor["size"] == len(data)
    assert (descriptor["width"], descriptor["height"]) == (200, 160)
    assert descriptor["mediaType"] == "image/png"


def test_small_png_preview_is_the_original(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, png(200, 160), "a.png"))
    descriptor = info["descriptor"]
    preview = descriptor.pop("previewDescriptor")
    assert preview == descriptor
    body = client.get("/api/images/tenant/a.png/preview", headers=admin.headers).data
    assert body == client.get("/api/images/tenant/a.png", headers=admin.headers).data


def test_small_jpeg_preview_is_a_png_of_the_same_size(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, jpeg(225, 225), "photo.jpg"))
    preview = info["descriptor"]["previewDescriptor"]
    assert preview["mediaType"] == "image/png"
    assert (preview["width"], preview["height"]) == (225, 225)
    assert preview["etag"] != info["etag"]


def test_large_image_preview_is_250_on_the_long_side(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, png(1000, 400), "wide.png"))
    preview = info["descriptor"]["previewDescriptor"]
    assert (preview["width"], preview["height"], preview["mediaType"]) == (250, 100, "image/png")
    served = client.get("/api/images/tenant/wide.png/preview", headers=admin.headers)
    assert sha256(served.data) == preview["etag"]
    assert served.headers["Content-Type"] == "image/png"


def test_svg_upload_takes_size_from_the_document(client: FlaskClient, admin: Actor) -> None:
    data = svg(120, 40)
    info = ok_json(upload(client, admin.headers, data, "badge.svg"))
    descriptor = info["descriptor"]
    assert descriptor["mediaType"] == "image/svg+xml"
    assert (descriptor["width"], descriptor["height"]) == (120, 40)
    assert descriptor["previewDescriptor"]["mediaType"] == "image/svg+xml"
    assert descriptor["previewDescriptor"]["etag"] == sha256(data)


def test_sysadmin_uploads_land_in_the_system_tenant(client: FlaskClient, sysadmin: Actor) -> None:
    info = ok_json(upload(client, sysadmin.headers, png(), "sys.png"))
    assert info["tenantId"]["id"] == SYSTEM_TENANT_ID
    assert info["link"] == "/api/images/system/sys.png"


def test_type_comes_from_the_bytes_not_the_name_or_content_type(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, png(), "x.jpg", content_type="image/jpeg"))
    assert info["descriptor"]["mediaType"] == "image/png"
    served = client.get("/api/images/tenant/x.jpg", headers=admin.headers)
    assert served.headers["Content-Type"] == "image/png"


@pytest.mark.parametrize("key", ["my img (1).png", "ünïcødé ✓.png", "a+b&c=d.png"])
def test_keys_with_spaces_parentheses_and_unicode_work_percent_encoded(
    client: FlaskClient, admin: Actor, key: str
) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, key))
    path = "/api/images/tenant/" + urllib.parse.quote(key, safe="")
    assert ok_json(client.get(path + "/info", headers=admin.headers))["resourceKey"] == key
    assert client.get(path, headers=admin.headers).data == data


@pytest.mark.parametrize("value", ["True", "true", "TRUE"])
def test_python_style_booleans_are_accepted(client: FlaskClient, admin: Actor, value: str) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    off = ok_json(client.put("/api/images/tenant/a.png/public/False", headers=admin.headers))
    assert off["public"] is False
    on = ok_json(client.put(f"/api/images/tenant/a.png/public/{value}", headers=admin.headers))
    assert on["public"] is True
    listed = ok_json(client.get(f"/api/images?pageSize=5&page=0&includeSystemImages={value}", headers=admin.headers))
    assert listed["totalElements"] == 1


def test_customer_cannot_upload(client: FlaskClient, customer: Actor) -> None:
    assert error_of(upload(client, customer.headers, png(), "a.png"), 403)["errorCode"] == 20
