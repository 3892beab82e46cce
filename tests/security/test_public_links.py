"""A public link is its tenant's for good. Once embedded in someone's page it must keep showing that tenant's image
(or nothing): never another tenant's, however the key is asked for. Runs on both backends."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from gallery.wiring import Gallery
from tests.conftest import Actor, Seed
from tests.helpers import error_of, ok_json, png, sha256, upload


def export_of(client: FlaskClient, actor: Actor, path: str) -> dict[str, Any]:
    exported: dict[str, Any] = ok_json(client.get(f"{path}/export", headers=actor.headers))
    return exported


def forged_export(public_key: str, colour: tuple[int, int, int] = (250, 0, 0), key: str = "mine.png") -> dict[str, Any]:
    """What an attacker can send: any bytes, any key, and someone else's public resource key."""
    data = png(20, 20, colour)
    return {
        "resourceKey": key,
        "fileName": key,
        "title": key,
        "mediaType": "image/png",
        "public": True,
        "publicResourceKey": public_key,
        "data": base64.b64encode(data).decode(),
    }


def imported(client: FlaskClient, actor: Actor, body: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = ok_json(client.put("/api/image/import", json=body, headers=actor.headers))
    return result


def public_etag(client: FlaskClient, public_key: str) -> str | None:
    response = client.get(f"/api/images/public/{public_key}")
    return response.headers["ETag"].strip('"') if response.status_code == 200 else None


def status(response: Any, expected: int = 200) -> None:
    assert response.status_code == expected, response.get_data(as_text=True)


def deleted(client: FlaskClient, admin: Actor, sysadmin: Actor, image: dict[str, Any]) -> None:
    status(client.delete(image["link"], headers=admin.headers))


def made_private(client: FlaskClient, admin: Actor, sysadmin: Actor, image: dict[str, Any]) -> None:
    status(client.put(f"{image['link']}/public/false", headers=admin.headers))


def still_public(client: FlaskClient, admin: Actor, sysadmin: Actor, image: dict[str, Any]) -> None:
    pass


def tenant_deleted(client: FlaskClient, admin: Actor, sysadmin: Actor, image: dict[str, Any]) -> None:
    status(client.delete(f"/api/tenant/{image['tenantId']['id']}", headers=sysadmin.headers))


# How tenant A's link comes to look free, before tenant B asks for it.
SETUPS: dict[str, Callable[[FlaskClient, Actor, Actor, dict[str, Any]], None]] = {
    "image deleted": deleted,
    "image made private": made_private,
    "image still public": still_public,
    "tenant deleted": tenant_deleted,
}


@pytest.mark.parametrize("setup", SETUPS)
def test_another_tenant_cannot_take_over_a_public_link(
    client: FlaskClient, gallery: Gallery, admin: Actor, other: Actor, sysadmin: Actor, setup: str
) -> None:
    original = ok_json(upload(client, admin.headers, png(30, 30, (0, 0, 200)), "logo.png"))
    key = original["publicResourceKey"]
    SETUPS[setup](client, admin, sysadmin, original)
    before = public_etag(client, key)
    taken = imported(client, other, forged_export(key))
    assert taken["publicResourceKey"] != key  # replaced by a fresh key of B's own
    assert len(taken["publicResourceKey"]) == 32
    assert public_etag(client, key) == before  # A's link shows what it showed: A's image, or nothing
    assert public_etag(client, key) != taken["etag"]
    assert public_etag(client, taken["publicResourceKey"]) == taken["etag"]


def test_a_tenant_reimporting_its_own_export_gets_its_link_back(client: FlaskClient, admin: Actor) -> None:
    original = ok_json(upload(client, admin.headers, png(30, 30, (0, 90, 0)), "logo.png"))
    exported = export_of(client, admin, original["link"])
    status(client.delete(original["link"], headers=admin.headers))
    assert public_etag(client, original["publicResourceKey"]) is None
    back = imported(client, admin, exported)
    assert back["publicResourceKey"] == original["publicResourceKey"]
    assert public_etag(client, original["publicResourceKey"]) == sha256(png(30, 30, (0, 90, 0)))


@pytest.mark.parametrize("length", [1, 8, 31])
def test_a_short_chosen_key_is_replaced_by_one_as_long_as_ours(client: FlaskClient, admin: Actor, length: int) -> None:
    """A short public key is a guessable link: whoever asks for one gets a key of 32 instead."""
    short = secrets.token_hex(16)[:length]
    made = imported(client, admin, forged_export(short))
    assert len(made["publicResourceKey"]) == 32
    assert made["publicResourceKey"] != short
    error_of(client.get(f"/api/images/public/{short}"), 404)


def test_a_deleted_tenants_public_links_stay_dead(
    client: FlaskClient, gallery: Gallery, seed: Seed, admin: Actor, sysadmin: Actor
) -> None:
    original = ok_json(upload(client, admin.headers, png(30, 30, (9, 9, 9)), "logo.png"))
    link = original["publicLink"]
    assert client.get(link).status_code == 200
    cached = client.get(link, headers={"If-None-Match": f'"{original["etag"]}"'})
    assert cached.status_code == 304  # the link's ETag is in this process's cache now
    status(client.delete(f"/api/tenant/{seed.tenants['A'].id}", headers=sysadmin.headers))
    error_of(client.get(link), 404)
    error_of(client.get(link, headers={"If-None-Match": f'"{original["etag"]}"'}), 404)  # no 304 from the cache
