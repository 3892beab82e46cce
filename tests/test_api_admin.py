"""System administration over HTTP: tenant profiles with limits, tenants, users."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.conftest import PASSWORD, Actor
from tests.helpers import error_of, ok_json, png, upload


def profile_body(name: str, size: int = 0, total: int = 0) -> dict[str, object]:
    return {
        "name": name,
        "profileData": {"configuration": {"maxResourceSize": size, "maxResourcesInBytes": total}},
    }


def test_profile_tenant_and_user_lifecycle(client: FlaskClient, sysadmin: Actor) -> None:
    h = sysadmin.headers
    profile = ok_json(client.post("/api/tenantProfile", json=profile_body("Small", 5000, 100000), headers=h))
    config = profile["profileData"]["configuration"]
    assert (config["maxResourceSize"], config["maxResourcesInBytes"]) == (5000, 100000)
    tenant = ok_json(client.post("/api/tenant", json={"title": "Acme", "tenantProfileId": profile["id"]}, headers=h))
    assert tenant["tenantProfileId"]["id"] == profile["id"]["id"]
    user = ok_json(
        client.post(
            "/api/user",
            json={
                "email": "boss@acme.example",
                "password": PASSWORD,
                "authority": "TENANT_ADMIN",
                "tenantId": tenant["id"],
            },
            headers=h,
        )
    )
    assert user["tenantId"]["id"] == tenant["id"]["id"]
    token = ok_json(client.post("/api/auth/login", json={"username": "boss@acme.example", "password": PASSWORD}))
    boss = {"X-Authorization": f"Bearer {token['token']}"}
    assert ok_json(client.get("/api/system/params", headers=boss))["maxResourceSize"] == 5000
    ok_json(upload(client, boss, png(), "a.png"))
    fetched = ok_json(client.get(f"/api/tenant/{tenant['id']['id']}", headers=h))
    assert fetched["resourcesInBytes"] == len(png())
    names = [t["title"] for t in ok_json(client.get("/api/tenants?pageSize=100&page=0", headers=h))["data"]]
    assert "Acme" in names
    listed = ok_json(client.get(f"/api/users?pageSize=10&page=0&tenantId={tenant['id']['id']}", headers=h))
    assert [u["email"] for u in listed["data"]] == ["boss@acme.example"]
    # A profile in use cannot be deleted; a tenant can, with its users and images.
    assert error_of(client.delete(f"/api/tenantProfile/{profile['id']['id']}", headers=h), 409)
    assert client.delete(f"/api/tenant/{tenant['id']['id']}", headers=h).status_code == 200
    error_of(client.get("/api/auth/user", headers=boss), 401)
    assert client.delete(f"/api/tenantProfile/{profile['id']['id']}", headers=h).status_code == 200


def test_update_profile_limits(client: FlaskClient, sysadmin: Actor) -> None:
    h = sysadmin.headers
    profile = ok_json(client.post("/api/tenantProfile", json=profile_body("P"), headers=h))
    updated = ok_json(
        client.post("/api/tenantProfile", json={**profile_body("P2", 10, 20), "id": profile["id"]}, headers=h)
    )
    assert updated["name"] == "P2"
    assert updated["profileData"]["configuration"]["maxResourceSize"] == 10
    got = ok_json(client.get(f"/api/tenantProfile/{profile['id']['id']}", headers=h))
    assert got == updated


def test_admin_endpoints_are_for_the_system_administrator_only(
    client: FlaskClient, admin: Actor, customer: Actor
) -> None:
    for actor in (admin, customer):
        for response in [
            client.get("/api/tenants?pageSize=10&page=0", headers=actor.headers),
            client.post("/api/tenant", json={"title": "X"}, headers=actor.headers),
            client.post("/api/tenantProfile", json=profile_body("X"), headers=actor.headers),
            client.post("/api/user", json={"email": "x@y.z"}, headers=actor.headers),
        ]:
            assert error_of(response, 403)["errorCode"] == 20


def test_admin_bad_input(client: FlaskClient, sysadmin: Actor, admin: Actor) -> None:
    h = sysadmin.headers
    bad = [
        client.post("/api/tenantProfile", json=profile_body(""), headers=h),
        client.post("/api/tenantProfile", json=profile_body("Neg", -1), headers=h),
        client.post(
            "/api/tenantProfile",
            json={"name": "T", "profileData": {"configuration": {"maxResourceSize": "1"}}},
            headers=h,
        ),
        client.post("/api/tenant", json={"title": ""}, headers=h),
        client.post("/api/tenant", json={"title": "X", "tenantProfileId": "nope"}, headers=h),
        client.post("/api/user", json={"email": "bad", "password": PASSWORD, "authority": "TENANT_ADMIN"}, headers=h),
        client.post("/api/user", json={"email": "a@b.c", "password": "123", "authority": "SYS_ADMIN"}, headers=h),
        client.post("/api/user", json={"email": "a@b.c", "password": PASSWORD, "authority": "ROOT"}, headers=h),
        client.post("/api/user", json={"email": "a@b.c", "password": PASSWORD, "authority": "TENANT_ADMIN"}, headers=h),
        client.post(
            "/api/user", json={"email": admin.user.email, "password": PASSWORD, "authority": "SYS_ADMIN"}, headers=h
        ),
        client.get("/api/tenants?pageSize=10&page=0&sortProperty=title", headers=h),
    ]
    statuses = [r.status_code for r in bad]
    assert all(400 <= s < 500 for s in statuses), statuses
    for response in bad:
        error_of(response, response.status_code)
    assert error_of(client.delete(f"/api/user/{sysadmin.user.id}", headers=h), 400)
    error_of(client.get("/api/tenant/00000000-0000-0000-0000-000000000000", headers=h), 404)


def test_tenants_show_their_images_and_bytes_and_admins_their_usage(
    client: FlaskClient, sysadmin: Actor, admin: Actor
) -> None:
    """What the administration screens show: each tenant's image count and bytes; and to a tenant administrator,
    their own usage against their total limit (beside ThingsBoard's `maxResourceSize`)."""
    before = ok_json(client.get("/api/system/params", headers=admin.headers))
    first = ok_json(upload(client, admin.headers, png(40, 40), "usage-a.png"))
    second = ok_json(upload(client, admin.headers, png(50, 30), "usage-b.png", sub_type="SCADA_SYMBOL"))
    params = ok_json(client.get("/api/system/params", headers=admin.headers))
    added = first["descriptor"]["size"] + second["descriptor"]["size"]
    assert params["resourcesInBytes"] == before["resourcesInBytes"] + added
    assert params["maxResourcesInBytes"] == 0
    tenant_id = first["tenantId"]["id"]
    tenant = ok_json(client.get(f"/api/tenant/{tenant_id}", headers=sysadmin.headers))
    assert tenant["resourcesInBytes"] == params["resourcesInBytes"]
    listed = ok_json(client.get("/api/tenants?pageSize=100&page=0", headers=sysadmin.headers))["data"]
    (same,) = [t for t in listed if t["id"]["id"] == tenant_id]
    assert same["imageCount"] == tenant["imageCount"] >= 2
    client.delete("/api/images/tenant/usage-a.png", headers=admin.headers)
    after = ok_json(client.get(f"/api/tenant/{tenant_id}", headers=sysadmin.headers))
    assert after["imageCount"] == tenant["imageCount"] - 1
