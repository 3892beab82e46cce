"""Delete one or many (reference §12 items 31 and 33), and what deleting releases."""

from __future__ import annotations

from collections.abc import Mapping

from flask.testing import FlaskClient

from gallery.wiring import Gallery
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
    assert gallery.storage.blobs.exists(sha256(data))
    ok_json(client.delete("/api/images/tenant/a.png?force=False", headers=admin.headers))
    assert gallery.images.usage(admin.tenant_id) == 0
    assert not gallery.storage.blobs.exists(sha256(data))
    assert not gallery.storage.blobs.exists(preview_etag)


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


def dashboard(client: FlaskClient, actor: Actor, configuration: Mapping[str, object], image: str | None = None) -> str:
    body = {"title": "Plant overview", "configuration": configuration, "image": image}
    saved = ok_json(client.post("/api/dashboard", json=body, headers=actor.headers))
    return str(saved["id"]["id"])


def test_referenced_image_is_kept_unless_forced(client: FlaskClient, admin: Actor, gallery: Gallery) -> None:
    data = png()
    ok_json(upload(client, admin.headers, data, "logo.png"))
    config = {"widgets": {"w1": {"config": {"settings": {"background": "tb-image;/api/images/tenant/logo.png"}}}}}
    dashboard_id = dashboard(client, admin, config)
    response = client.delete("/api/images/tenant/logo.png", headers=admin.headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["success"] is False
    assert [d["id"]["id"] for d in body["references"]["DASHBOARD"]] == [dashboard_id]
    assert client.get("/api/images/tenant/logo.png", headers=admin.headers).data == data
    assert gallery.images.usage(admin.tenant_id) == len(data)
    forced = ok_json(client.delete("/api/images/tenant/logo.png?force=true", headers=admin.headers))
    assert forced == {"success": True, "references": None}
    error_of(client.get("/api/images/tenant/logo.png/info", headers=admin.headers), 404)


def test_dashboard_image_field_and_other_keys(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "logo.png"))
    ok_json(upload(client, admin.headers, png(), "logo.png.bak.png"))
    dashboard(
        client,
        admin,
        {"note": "mentions /api/images/tenant/logo.png without the prefix"},
        image="tb-image;/api/images/tenant/logo.png",
    )
    assert client.delete("/api/images/tenant/logo.png", headers=admin.headers).status_code == 400
    # A longer key that merely starts with the same text is not a reference.
    ok_json(client.delete("/api/images/tenant/logo.png.bak.png", headers=admin.headers))


def test_system_image_references_count_in_every_tenant(
    client: FlaskClient, admin: Actor, other: Actor, sysadmin: Actor
) -> None:
    ok_json(upload(client, sysadmin.headers, png(), "shared.png"))
    dashboard(client, other, {"logo": "tb-image;/api/images/system/shared.png"})
    response = client.delete("/api/images/system/shared.png", headers=sysadmin.headers)
    assert response.status_code == 400
    assert response.get_json()["references"]["DASHBOARD"][0]["tenantId"]["id"] == other.tenant_id
    # A tenant image with the same key is referenced only from its own tenant.
    ok_json(upload(client, admin.headers, png(), "shared.png"))
    ok_json(client.delete("/api/images/tenant/shared.png", headers=admin.headers))


def test_bulk_delete_reports_references(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "used.png"))
    ok_json(upload(client, admin.headers, png(), "free.png"))
    dashboard(client, admin, {"img": "tb-image;/api/images/tenant/used.png"})
    images = [{"type": "tenant", "key": "used.png"}, {"type": "tenant", "key": "free.png"}]
    result = ok_json(client.post("/api/images/bulkDelete", json={"images": images}, headers=admin.headers))
    assert [r["success"] for r in result["results"]] == [False, True]
    assert "DASHBOARD" in result["results"][0]["references"]
    forced = ok_json(
        client.post("/api/images/bulkDelete", json={"images": images[:1], "force": True}, headers=admin.headers)
    )
    assert forced["success"] is True


def test_dashboards_are_per_tenant(client: FlaskClient, admin: Actor, other: Actor, customer: Actor) -> None:
    dashboard_id = dashboard(client, admin, {"a": 1})
    assert ok_json(client.get(f"/api/dashboard/{dashboard_id}", headers=admin.headers))["configuration"] == {"a": 1}
    error_of(client.get(f"/api/dashboard/{dashboard_id}", headers=other.headers), 404)
    error_of(client.delete(f"/api/dashboard/{dashboard_id}", headers=other.headers), 404)
    error_of(client.post("/api/dashboard", json={"id": dashboard_id, "title": "x"}, headers=other.headers), 404)
    error_of(client.get(f"/api/dashboard/{dashboard_id}", headers=customer.headers), 403)
    listed = ok_json(client.get("/api/tenant/dashboards?pageSize=10&page=0", headers=admin.headers))
    assert [d["id"]["id"] for d in listed["data"]] == [dashboard_id]
    renamed = ok_json(
        client.post("/api/dashboard", json={"id": dashboard_id, "title": "Renamed"}, headers=admin.headers)
    )
    assert renamed["title"] == "Renamed"
    for bad in [{"title": ""}, {"title": "x", "configuration": [1]}, {"title": "x", "image": 5}, {}]:
        error_of(client.post("/api/dashboard", json=bad, headers=admin.headers), 400)
    assert client.delete(f"/api/dashboard/{dashboard_id}", headers=admin.headers).status_code == 200
