"""Role × endpoint × scope. Tenant isolation first: `tenant` always means the caller's own tenant."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import Actor
from tests.helpers import ok_json, png, upload

Call = Callable[[FlaskClient, str, dict[str, str]], TestResponse]

ENDPOINTS: dict[str, Call] = {
    "download": lambda c, p, h: c.get(p, headers=h),
    "preview": lambda c, p, h: c.get(f"{p}/preview", headers=h),
    "info": lambda c, p, h: c.get(f"{p}/info", headers=h),
    "export": lambda c, p, h: c.get(f"{p}/export", headers=h),
    "rename": lambda c, p, h: c.put(f"{p}/info", json={"title": "renamed"}, headers=h),
    "public": lambda c, p, h: c.put(f"{p}/public/false", headers=h),
    "update": lambda c, p, h: c.put(
        p, data={"file": (io.BytesIO(png(color=(5, 5, 5))), "new.png")}, headers=h, content_type="multipart/form-data"
    ),
    "delete": lambda c, p, h: c.delete(p, headers=h),
}
READS = {"download", "preview"}
ADMIN_READS = {"info", "export"}

# Expected status by (role, scope) for each endpoint family. `a.png` lives in tenant A, `s.png` in the system tenant.
EXPECTED: dict[tuple[str, str], dict[str, int]] = {
    ("admin", "tenant"): dict.fromkeys(ENDPOINTS, 200),
    ("admin", "system"): {e: 200 if e in READS | ADMIN_READS else 403 for e in ENDPOINTS},
    ("customer", "tenant"): {e: 200 if e in READS else 403 for e in ENDPOINTS},
    ("customer", "system"): {e: 200 if e in READS else 403 for e in ENDPOINTS},
    ("other", "tenant"): dict.fromkeys(ENDPOINTS, 404),  # tenant B has no a.png: A's image is unreachable
    ("other", "system"): {e: 200 if e in READS | ADMIN_READS else 403 for e in ENDPOINTS},
    ("sysadmin", "tenant"): dict.fromkeys(ENDPOINTS, 404),  # the system administrator's tenant is the system
    ("sysadmin", "system"): dict.fromkeys(ENDPOINTS, 200),
    ("anonymous", "tenant"): dict.fromkeys(ENDPOINTS, 401),
    ("anonymous", "system"): dict.fromkeys(ENDPOINTS, 401),
}
CASES = [(role, scope, endpoint) for (role, scope), table in EXPECTED.items() for endpoint in table]


@pytest.mark.parametrize(("role", "scope", "endpoint"), CASES)
def test_matrix(
    client: FlaskClient, actors: dict[str, Actor], sysadmin: Actor, admin: Actor, role: str, scope: str, endpoint: str
) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    ok_json(upload(client, sysadmin.headers, png(), "s.png"))
    path = "/api/images/tenant/a.png" if scope == "tenant" else "/api/images/system/s.png"
    headers = {} if role == "anonymous" else actors[role].headers
    expected = EXPECTED[(role, scope)][endpoint]
    response = ENDPOINTS[endpoint](client, path, headers)
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected >= 400:
        assert response.get_json()["status"] == expected
    # Whatever was refused changed nothing.
    if expected != 200:
        owner = admin if scope == "tenant" else sysadmin
        info = ok_json(client.get(f"{path}/info", headers=owner.headers))
        assert info["title"] == path.rsplit("/", 1)[1]
        assert info["public"] is True


def test_lists_never_show_another_tenants_images(client: FlaskClient, admin: Actor, other: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "secret.png", title="A secret"))
    for include in ["false", "true"]:
        listed = ok_json(
            client.get(f"/api/images?pageSize=100&page=0&includeSystemImages={include}", headers=other.headers)
        )
        assert listed["totalElements"] == 0
    searched = ok_json(client.get("/api/images?pageSize=100&page=0&textSearch=secret", headers=other.headers))
    assert searched["data"] == []


def test_same_key_in_two_tenants_are_two_images(client: FlaskClient, admin: Actor, other: Actor) -> None:
    mine, theirs = png(color=(1, 0, 0)), png(color=(0, 1, 0))
    ok_json(upload(client, admin.headers, mine, "logo.png"))
    ok_json(upload(client, other.headers, theirs, "logo.png"))
    assert client.get("/api/images/tenant/logo.png", headers=admin.headers).data == mine
    assert client.get("/api/images/tenant/logo.png", headers=other.headers).data == theirs
    ok_json(client.delete("/api/images/tenant/logo.png", headers=other.headers))
    assert client.get("/api/images/tenant/logo.png", headers=admin.headers).data == mine


def test_import_cannot_overwrite_another_tenants_image(client: FlaskClient, admin: Actor, other: Actor) -> None:
    original = png(color=(1, 0, 0))
    info = ok_json(upload(client, admin.headers, original, "logo.png"))
    exported = ok_json(client.get("/api/images/tenant/logo.png/export", headers=admin.headers))
    exported["data"] = base64.b64encode(png(color=(0, 0, 1))).decode()
    theirs = ok_json(client.put("/api/image/import", json=exported, headers=other.headers))
    assert theirs["tenantId"]["id"] == other.tenant_id
    assert theirs["publicResourceKey"] != info["publicResourceKey"]
    assert client.get("/api/images/tenant/logo.png", headers=admin.headers).data == original
    assert client.get(info["publicLink"]).data == original
