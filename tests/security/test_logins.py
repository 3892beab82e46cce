"""Guessing passwords is slow and cheap for us: failures per account and per client address bring growing waits
(429 with Retry-After) that are answered without hashing anything, concurrent hashing is bounded, passwords follow
a policy, and the demo logins — the only weak ones — are named on the sign-in page.

Runs on both backends.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gallery.demo import CUSTOMER, DEMO_LOGINS, SYSADMIN, TENANT_ADMIN, first_run
from gallery.domain.model import Authority
from gallery.services import credentials, sessions
from gallery.wiring import Gallery
from tests.conftest import PASSWORD, Actor, Seed, make_app
from tests.helpers import error_of, ok_json


class Clock:
    """`time.time` as the account service sees it, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    ticking = Clock()
    monkeypatch.setattr(sessions, "wall_clock", ticking)
    return ticking


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password check that costs a hash."""
    seen: list[str] = []
    real = credentials.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        seen.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(sessions, "verify_password", counted)
    return seen


def login(client: FlaskClient, email: str, password: str, address: str = "198.51.100.7") -> TestResponse:
    body = {"username": email, "password": password}
    return client.post("/api/auth/login", json=body, environ_base={"REMOTE_ADDR": address})


def test_thirty_wrong_passwords_then_the_right_one_is_refused_until_the_wait_is_over(
    client: FlaskClient, seed: Seed, clock: Clock, hashes: list[str]
) -> None:
    email = seed.users["admin"].email
    codes = [login(client, email, f"guess-{n}").status_code for n in range(30)]
    assert codes[:5] == [401] * 5
    assert set(codes[5:]) == {429}
    assert len(hashes) == 5  # only the free attempts cost a hash; every throttled one is answered from the count
    refused = login(client, email, PASSWORD)
    body = error_of(refused, 429)
    assert body["errorCode"] == 33
    assert "try again in 1 s" in body["message"]
    assert refused.headers["Retry-After"] == "1"
    clock.now += 1.5
    ok_json(login(client, email, PASSWORD))
    ok_json(login(client, email, PASSWORD))  # a success clears the account's count


def test_the_wait_doubles_with_each_failure_up_to_a_quarter_of_an_hour(
    client: FlaskClient, seed: Seed, clock: Clock
) -> None:
    email = seed.users["admin"].email
    waits: list[int] = []
    for _ in range(40):
        response = login(client, email, "wrong-password")
        if response.status_code == 429:
            waits.append(int(response.headers["Retry-After"]))
            clock.now += waits[-1]  # wait as told, then fail again
        if len(waits) == 11:
            break
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    clock.now += sessions.ACCOUNT_THROTTLE.forget_after + 1  # an hour without failures: forgotten
    assert login(client, email, "wrong-password").status_code == 401


def test_one_address_trying_many_accounts_is_throttled_too(
    client: FlaskClient, gallery: Gallery, seed: Seed, clock: Clock
) -> None:
    for n in range(sessions.ADDRESS_THROTTLE.free):
        assert login(client, f"user{n}@nowhere.example", "guess", address="203.0.113.9").status_code == 401
    # an account that has never failed, from that address: the address's count decides
    error_of(login(client, seed.users["customer"].email, PASSWORD, address="203.0.113.9"), 429)
    ok_json(login(client, seed.users["customer"].email, PASSWORD, address="203.0.113.10"))  # elsewhere: fine


def test_unknown_accounts_are_throttled_like_known_ones(client: FlaskClient, clock: Clock) -> None:
    """No difference in answer between an account that exists and one that does not."""
    codes = [login(client, "nobody@nowhere.example", "guess").status_code for _ in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_concurrent_hashing_is_bounded(gallery: Gallery, seed: Seed, monkeypatch: pytest.MonkeyPatch) -> None:
    """More sign-ins at once than the process hashes at once: the extra ones wait briefly, then get 429."""
    monkeypatch.setattr(sessions, "CONCURRENT_HASHES", 1)
    monkeypatch.setattr(sessions, "HASH_QUEUE_SECONDS", 0.05)
    release = threading.Event()
    real = credentials.verify_password

    def slow(password_hash: str | None, password: str) -> bool:
        release.wait(5)
        return real(password_hash, password)

    monkeypatch.setattr(sessions, "verify_password", slow)
    bounded = Gallery.open(gallery.settings)
    app = make_app(gallery=bounded)
    results: list[int] = []

    def attempt(address: str) -> None:
        results.append(login(app.test_client(), seed.users["admin"].email, PASSWORD, address).status_code)

    first = threading.Thread(target=attempt, args=("192.0.2.1",))
    first.start()
    time.sleep(0.2)  # the first one now holds the only hashing slot
    attempt("192.0.2.2")
    release.set()
    first.join()
    bounded.close()
    assert sorted(results) == [200, 429]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "at least 8"),
        ("new.user@example.com", "e-mail"),
        ("new.user", "e-mail"),
        ("aaaaaaaaaaaa", "one character"),
        ("p" * 257, "at most 256"),
    ],
)
def test_the_password_policy_holds_for_new_users(
    client: FlaskClient, gallery: Gallery, sysadmin: Actor, password: str, message: str
) -> None:
    body = {"email": "new.user@example.com", "password": password, "authority": "SYS_ADMIN"}
    assert message in error_of(client.post("/api/user", json=body, headers=sysadmin.headers), 400)["message"]
    assert gallery.storage.catalog.find_user("new.user@example.com") is None


def test_the_demo_logins_are_the_only_weak_ones_and_are_named_until_changed(
    client: FlaskClient, gallery: Gallery
) -> None:
    # a fresh gallery with its demo accounts (the seeded test accounts are strong)
    assert ok_json(client.get("/api/noauth/signInParams"))["demoLogins"] == []
    for email, _ in DEMO_LOGINS:  # the seed has none of them
        assert gallery.storage.catalog.find_user(email) is None
    tenant = gallery.accounts.create_tenant("Demo tenant")
    gallery.accounts.create_user(*SYSADMIN, Authority.SYS_ADMIN, weak_password=True)
    gallery.accounts.create_user(*TENANT_ADMIN, Authority.TENANT_ADMIN, tenant.id, weak_password=True)
    gallery.accounts.create_user(*CUSTOMER, Authority.CUSTOMER_USER, tenant.id, weak_password=True)
    params = ok_json(client.get("/api/noauth/signInParams"))
    assert params["minPasswordLength"] == 8
    assert params["demoLogins"] == [{"email": e, "password": p} for e, p in DEMO_LOGINS]
    pair = ok_json(login(client, TENANT_ADMIN[0], TENANT_ADMIN[1]))
    changed = {"currentPassword": TENANT_ADMIN[1], "newPassword": "a-real-password-now"}
    headers = {"X-Authorization": f"Bearer {pair['token']}"}
    ok_json(client.post("/api/auth/changePassword", json=changed, headers=headers))
    emails = [login["email"] for login in ok_json(client.get("/api/noauth/signInParams"))["demoLogins"]]
    assert emails == [SYSADMIN[0], CUSTOMER[0]]
    assert first_run(gallery, demo=True) == []  # accounts exist: first_run adds nothing


def test_forty_guesses_at_once_reach_the_hash_only_five_times(
    gallery: Gallery, seed: Seed, clock: Clock, hashes: list[str]
) -> None:
    """The count is taken before the hash, atomically: guesses sent together each see their own."""
    app = make_app(gallery=gallery)
    email = seed.users["admin"].email
    barrier = threading.Barrier(8)

    def guess(n: int) -> int:
        if n < 8:
            barrier.wait()
        return int(login(app.test_client(), email, f"guess-{n}").status_code)

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(40)))
    assert len(hashes) == sessions.ACCOUNT_THROTTLE.free
    assert sorted(set(codes)) == [401, 429]
    assert codes.count(401) == sessions.ACCOUNT_THROTTLE.free
    clock.now += 1.5  # as the last refusal said: then the right password works
    ok_json(login(app.test_client(), email, PASSWORD))


def test_guessing_the_current_password_is_throttled_like_a_sign_in(
    client: FlaskClient, seed: Seed, admin: Actor, clock: Clock, hashes: list[str]
) -> None:
    """A stolen access token must not be a way to try passwords without limit (and take the account over)."""
    codes = []
    for n in range(8):
        body = {"currentPassword": f"guess-{n}", "newPassword": "taken-over-1"}
        codes.append(client.post("/api/auth/changePassword", json=body, headers=admin.headers).status_code)
    assert codes == [400] * 5 + [429] * 3
    assert len(hashes) == 5
    error_of(login(client, admin.user.email, PASSWORD), 429)  # the same count as a sign-in's
    clock.now += 1.5
    ok_json(login(client, admin.user.email, PASSWORD))  # the password is still the owner's


def test_an_ipv6_client_is_one_client_across_its_64(client: FlaskClient, clock: Clock) -> None:
    for n in range(sessions.ADDRESS_THROTTLE.free):
        address = f"2001:db8:1:2::{n + 1:x}"  # a new address each time, all in one /64
        assert login(client, f"user{n}@nowhere.example", "guess", address=address).status_code == 401
    assert login(client, "fresh@nowhere.example", "guess", address="2001:db8:1:2:ffff::1").status_code == 429
    assert login(client, "fresh@nowhere.example", "guess", address="2001:db8:1:3::1").status_code == 401
