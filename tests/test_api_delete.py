"""Delete one or many (reference §12 items 31 and 33), and what deleting releases."""

from __future__ import annotations

from flask.testing import FlaskClient

from gallery.core import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, sha256, upload


def test_delete_answers_success_and_the_image_is_gone(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    assert ok_json(client.delete("/api/images/tenant/a.png", headers=admin.headers)) == {
        "success": True,
        "references": None,
    }
    error_of(client.get("/api/images/tenant/a.png/info", headers=admin.headers), 404)
    error_of(client.delete("/api/images/tenant/a.png", headers=admin.headers), 404)


def test_delete_releases_bytes_and_usage(client: FlaskClient, admin: Actor, gallery: Gallery) -> None:
    data = png(400, 400)
    info = ok_json(upload(client, admin.headers, data, "a.png"))
    preview_etag = info["descriptor"]["previewDescriptor"]["etag"]
    assert gallery.images.usage(admin.tenant_id) == len(data)
    assert gallery.images.blobs.exists(sha256(data))
    ok_json(client.delete("/api/images/tenant/a.png?force=False", headers=admin.headers))
    assert gallery.images.usage(admin.tenant_id) == 0
    assert not gallery.images.blobs.exists(sha256(data))
    assert not gallery.images.blobs.exists(preview_etag)


def test_shared_bytes_stay_while_another_image_uses_them(client: FlaskClient, admin: Actor, other: Actor) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "a.png"))
    ok_json(upload(client, other.headers, data, "b.png"))
    ok_json(client.delete("/api/images/tenant/a.png", headers=admin.headers))
    assert client.get("/api/images/tenant/b.png", headers=other.headers).data == data


def test_tenant_admin_cannot_change_system_images_but_can_read_them(
    client: FlaskClient, admin: Actor, sysadmin: Actor
) -> None:
    data = png()
    ok_json(upload(client, sysadmin.headers, data, "sys.png"))
    path = "/api/images/system/sys.png"
    for response in [
        client.delete(path, headers=admin.headers),
        client.put(f"{path}/info", json={"title": "x"}, headers=admin.headers),
        client.put(f"{path}/public/false", headers=admin.headers),
    ]:
        assert error_of(response, 403)["errorCode"] == 20
    assert client.get(path, headers=admin.headers).data == data
    assert ok_json(client.get(f"{path}/info", headers=admin.headers))["title"] == "sys.png"


def test_bulk_delete_reports_each_image(client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    for name in ["a.png", "b.png", "c.png"]:
        ok_json(upload(client, admin.headers, png(), name))
    ok_json(upload(client, sysadmin.headers, png(), "sys.png"))
    body = {
        "images": [
            {"type": "tenant", "key": "a.png"},
            {"type": "tenant", "key": "b.png"},
            {"type": "system", "key": "sys.png"},
            {"type": "tenant", "key": "missing.png"},
        ]
    }
    result = ok_json(client.post("/api/images/bulkDelete", json=body, headers=admin.headers))
    assert result["success"] is False
    assert result["deleted"] == 2
    assert [r["success"] for r in result["results"]] == [True, True, False, False]
    assert [r.get("error", {}).get("status") for r in result["results"]] == [None, None, 403, 404]
    left = ok_json(client.get("/api/images?pageSize=10&page=0&includeSystemImages=true", headers=admin.headers))
    assert sorted(i["resourceKey"] for i in left["data"]) == ["c.png", "sys.png"]


def test_bulk_delete_validates_everything_before_deleting(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    bodies = [
        {"images": [{"type": "tenant", "key": "a.png"}, {"type": "bogus", "key": "x"}]},
        {"images": [{"type": "tenant", "key": "a.png"}, "a.png"]},
        {"images": []},
        {"images": "a.png"},
        {"images": [{"type": "tenant", "key": "a.png"}], "force": "yes"},
        {"images": [{"type": "tenant", "key": "a.png"}] * 1001},
    ]
    for body in bodies:
        error_of(client.post("/api/images/bulkDelete", json=body, headers=admin.headers), 400)
    assert ok_json(client.get("/api/images/tenant/a.png/info", headers=admin.headers))["resourceKey"] == "a.png"
