"""Tokens never outlive what they stood for. After each event in EVENTS, the tokens issued before it are tried for
each use in USES: every try is a 401 and changes nothing. Then refresh-token rotation (a spent token coming back
ends every session), password change, enabling and disabling, and the limits of the revocation cache.

Runs on both backends (the aws run: DynamoDB and S3 on moto, with no Scan).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jwt
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gallery.domain.model import Authority
from gallery.services import sessions
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, PASSWORD, Actor, Seed, make_app
from tests.helpers import error_of, ok_json, png, upload


@dataclass(frozen=True)
class Pair:
    token: str
    refresh: str

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Authorization": f"Bearer {self.token}"}


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD) -> Pair:
    body = ok_json(client.post("/api/auth/login", json={"username": email, "password": password}))
    return Pair(body["token"], body["refreshToken"])


def refresh(client: FlaskClient, pair: Pair) -> TestResponse:
    return client.post("/api/auth/token", json={"refreshToken": pair.refresh})


@dataclass
class World:
    client: FlaskClient
    gallery: Gallery
    seed: Seed
    sysadmin: Actor
    victim: Pair  # tenant A's administrator, signed in before the event

    @property
    def victim_id(self) -> str:
        return self.seed.users["admin"].id


Event = Callable[[World], None]

EVENTS: dict[str, Event] = {
    "user deleted": lambda w: ok_status(w.client.delete(f"/api/user/{w.victim_id}", headers=w.sysadmin.headers)),
    "password reset by the administrator": lambda w: ok_status(
        w.client.post(
            f"/api/user/{w.victim_id}/password", json={"password": "reset-pass-1"}, headers=w.sysadmin.headers
        )
    ),
    "password changed by the user": lambda w: ok_status(
        w.client.post(
            "/api/auth/changePassword",
            json={"currentPassword": PASSWORD, "newPassword": "changed-pass-1"},
            headers=w.victim.headers,
        )
    ),
    "user disabled": lambda w: ok_status(
        w.client.post(
            f"/api/user/{w.victim_id}/userCredentialsEnabled?userCredentialsEnabled=false", headers=w.sysadmin.headers
        )
    ),
    "signed out": lambda w: ok_status(w.client.post("/api/auth/logout", headers=w.victim.headers)),
    "tenant deleted": lambda w: ok_status(
        w.client.delete(f"/api/tenant/{w.seed.tenants['A'].id}", headers=w.sysadmin.headers)
    ),
}

Use = Callable[[World], TestResponse]
USES: dict[str, Use] = {
    "read who I am": lambda w: w.client.get("/api/auth/user", headers=w.victim.headers),
    "list images": lambda w: w.client.get("/api/images?pageSize=10&page=0", headers=w.victim.headers),
    "upload": lambda w: upload(w.client, w.victim.headers, png(color=(9, 9, 9)), "after.png"),
    "delete": lambda w: w.client.delete("/api/images/tenant/before.png", headers=w.victim.headers),
    "refresh": lambda w: refresh(w.client, w.victim),
}


def ok_status(response: TestResponse) -> None:
    assert response.status_code == 200, response.get_data(as_text=True)


@pytest.mark.parametrize("use", USES)
@pytest.mark.parametrize("event", EVENTS)
def test_tokens_issued_before_an_event_are_refused_after_it(
    client: FlaskClient, gallery: Gallery, seed: Seed, sysadmin: Actor, event: str, use: str
) -> None:
    victim = sign_in(client, seed.users["admin"].email)
    before = ok_json(upload(client, victim.headers, png(), "before.png"))
    world = World(client, gallery, seed, sysadmin, victim)
    EVENTS[event](world)
    error_of(USES[use](world), 401)
    # nothing changed: the image that was there is there (unless the event itself removed the tenant), no new one
    tenant = seed.tenants["A"].id
    kept = gallery.storage.catalog.get_image(tenant, "before.png")
    assert (kept is not None) is (event != "tenant deleted")
    assert gallery.storage.catalog.get_image(tenant, "after.png") is None
    if kept is not None:
        assert kept.etag == before["etag"]


def test_a_refresh_token_is_usable_once_and_its_reuse_ends_every_session(
    client: FlaskClient, seed: Seed, admin: Actor
) -> None:
    email = seed.users["admin"].email
    first = sign_in(client, email)
    elsewhere = sign_in(client, email)  # the same person on another device
    body = ok_json(refresh(client, first))
    second = Pair(body["token"], body["refreshToken"])
    ok_json(client.get("/api/auth/user", headers=second.headers))
    # the first refresh token comes back (a copy someone kept): refused, and everything of this user ends
    assert "used before" in error_of(refresh(client, first), 401)["message"]
    for pair in (first, second, elsewhere):
        error_of(client.get("/api/auth/user", headers=pair.headers), 401)
        error_of(refresh(client, pair), 401)
    ok_json(client.get("/api/auth/user", headers=sign_in(client, email).headers))  # signing in again works


def test_two_refreshes_with_one_token_at_once_end_the_session(
    client: FlaskClient, gallery: Gallery, seed: Seed
) -> None:
    """Exactly one of two refreshes with the same token wins the rotation; the other is a reuse, which ends every
    session of the user — the winner's new pair included. Strict on purpose: a grace for the loser would also
    shelter a thief who got there first. (The management page makes its tabs take turns: test_manage_browse.)"""
    pair = sign_in(client, seed.users["admin"].email)
    app = make_app(gallery=gallery)
    barrier = threading.Barrier(2)

    def attempt(_: int) -> TestResponse:
        barrier.wait()
        return app.test_client().post("/api/auth/token", json={"refreshToken": pair.refresh})

    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(attempt, range(2)))
    assert sorted(a.status_code for a in answers) == [200, 401]
    (won,) = [a.get_json() for a in answers if a.status_code == 200]
    error_of(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {won['token']}"}), 401)
    error_of(client.post("/api/auth/token", json={"refreshToken": won["refreshToken"]}), 401)


def test_changing_ones_password(client: FlaskClient, seed: Seed) -> None:
    email = seed.users["admin"].email
    pair = sign_in(client, email)
    other_device = sign_in(client, email)

    def change(current: str, new: str) -> TestResponse:
        body = {"currentPassword": current, "newPassword": new}
        return client.post("/api/auth/changePassword", json=body, headers=pair.headers)

    assert error_of(change("wrong-password", "new-password-1"), 400)["message"] == "Current password doesn't match!"
    assert "at least 8" in error_of(change(PASSWORD, "short"), 400)["message"]
    assert "e-mail" in error_of(change(PASSWORD, email), 400)["message"]
    assert "different" in error_of(change(PASSWORD, PASSWORD), 400)["message"]
    ok_json(client.get("/api/auth/user", headers=other_device.headers))  # refusals changed nothing
    fresh = ok_json(change(PASSWORD, "new-password-1"))
    ok_json(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {fresh['token']}"}))
    error_of(client.get("/api/auth/user", headers=other_device.headers), 401)
    error_of(client.post("/api/auth/login", json={"username": email, "password": PASSWORD}), 401)
    sign_in(client, email, "new-password-1")


def test_enabling_and_disabling_users(
    client: FlaskClient, gallery: Gallery, seed: Seed, sysadmin: Actor, admin: Actor, other: Actor
) -> None:
    customer = seed.users["customer"]

    def switch(actor: Actor, user_id: str, enabled: bool) -> TestResponse:
        value = "true" if enabled else "false"
        path = f"/api/user/{user_id}/userCredentialsEnabled?userCredentialsEnabled={value}"
        return client.post(path, headers=actor.headers)

    error_of(switch(other, customer.id, False), 404)  # another tenant's user: not even confirmed to exist
    error_of(switch(admin, sysadmin.user.id, False), 404)  # a tenant administrator over the system's
    assert "yourself" in error_of(switch(admin, admin.user.id, False), 400)["message"]
    error_of(switch(admin, "no-such-user", False), 404)
    assert gallery.accounts.get_user(customer.id).enabled
    ok_status(switch(admin, customer.id, False))  # an administrator of the customer's own tenant may
    body = {"username": customer.email, "password": PASSWORD}
    assert error_of(client.post("/api/auth/login", json=body), 401)["message"] == "User account is not active"
    wrong = {"username": customer.email, "password": "not-the-password"}
    assert error_of(client.post("/api/auth/login", json=wrong), 401)["message"] == "Invalid username or password"
    listed = ok_json(client.get(f"/api/user/{customer.id}", headers=sysadmin.headers))
    assert listed["additionalInfo"]["userCredentialsEnabled"] is False
    ok_status(switch(sysadmin, customer.id, True))
    sign_in(client, customer.email)
    # As decided (SECURITY.md, "Who is who"): the tenant's administrator owns its users, whoever disabled one.
    ok_status(switch(sysadmin, customer.id, False))
    ok_status(switch(admin, customer.id, True))
    sign_in(client, customer.email)


def test_tokens_from_before_generations_are_refused(client: FlaskClient, admin: Actor) -> None:
    """A token in the old shape (no generation, no session), correctly signed: the user signs in again."""
    now = int(time.time())
    claims = {
        "sub": admin.user.email,
        "userId": admin.user.id,
        "scopes": ["TENANT_ADMIN"],
        "tenantId": admin.tenant_id,
        "customerId": admin.user.customer_id,
        "iss": "image-gallery",
        "iat": now,
        "exp": now + 600,
    }
    old = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    error_of(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {old}"}), 401)


def test_another_process_learns_of_a_revocation_within_the_check_interval(
    gallery: Gallery, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one catalog (two `gallery serve`s, two Lambda containers): a sign-out in one is refused
    by the other once its CHECK_SECONDS view has aged, not 2.5 hours later."""
    clock = [1000.0]
    monkeypatch.setattr(sessions, "monotonic_clock", lambda: clock[0])
    here, there = make_app(gallery=gallery).test_client(), make_app(gallery=Gallery.open(gallery.settings))
    pair = sign_in(here, seed.users["admin"].email)
    remote = there.test_client()
    ok_json(remote.get("/api/auth/user", headers=pair.headers))
    ok_status(here.post("/api/auth/logout", headers=pair.headers))
    error_of(here.get("/api/auth/user", headers=pair.headers), 401)  # this process: at once
    clock[0] += sessions.CHECK_SECONDS + 0.1
    error_of(remote.get("/api/auth/user", headers=pair.headers), 401)  # the other: within the interval
    there.extensions["gallery"].close()


def test_a_deleted_tenants_users_cannot_sign_in(
    client: FlaskClient, gallery: Gallery, seed: Seed, sysadmin: Actor
) -> None:
    tenant = gallery.accounts.create_tenant("Short-lived")
    gallery.accounts.create_user("temp@short.example", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    pair = sign_in(client, "temp@short.example")
    ok_status(client.delete(f"/api/tenant/{tenant.id}", headers=sysadmin.headers))
    error_of(client.get("/api/images?pageSize=1&page=0", headers=pair.headers), 401)
    error_of(client.post("/api/auth/login", json={"username": "temp@short.example", "password": PASSWORD}), 401)
