"""Login, tokens and the header rules (reference §12 items 1–3)."""

from __future__ import annotations

import time

import jwt
import pytest
from flask.testing import FlaskClient

from gallery.domain.model import Authority
from gallery.services.credentials import Tokens
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, PASSWORD, Actor
from tests.helpers import error_of, ok_json, png, upload


def login(client: FlaskClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    pair: dict[str, str] = ok_json(client.post("/api/auth/login", json={"username": email, "password": password}))
    return pair


def test_login_returns_a_decodable_token_pair(client: FlaskClient, admin: Actor) -> None:
    pair = login(client, admin.user.email)
    assert set(pair) == {"token", "refreshToken"}
    claims = jwt.decode(pair["token"], options={"verify_signature": False})
    assert claims["exp"] > time.time()
    assert claims["sub"] == admin.user.email
    assert claims["scopes"] == ["TENANT_ADMIN"]
    assert claims["tenantId"] == admin.tenant_id


def test_login_is_case_insensitive_on_email(client: FlaskClient, admin: Actor) -> None:
    assert login(client, admin.user.email.upper())["token"]


@pytest.mark.parametrize(
    "body",
    [
        {"username": "admin@a.example.com", "password": "wrong"},
        {"username": "nobody@example.com", "password": PASSWORD},
    ],
)
def test_bad_credentials_are_401_with_code_10(client: FlaskClient, admin: Actor, body: dict[str, str]) -> None:
    assert error_of(client.post("/api/auth/login", json=body), 401)["errorCode"] == 10


@pytest.mark.parametrize("body", [{}, {"username": "x"}, {"username": 1, "password": 2}, [1]])
def test_malformed_login_is_400(client: FlaskClient, body: object) -> None:
    error_of(client.post("/api/auth/login", json=body), 400)


def test_both_headers_are_accepted(client: FlaskClient, admin: Actor) -> None:
    token = login(client, admin.user.email)["token"]
    for header in ["X-Authorization", "Authorization"]:
        me = ok_json(client.get("/api/auth/user", headers={header: f"Bearer {token}"}))
        assert me["email"] == admin.user.email
        assert me["authority"] == "TENANT_ADMIN"


def test_refresh_issues_a_new_pair(client: FlaskClient, admin: Actor) -> None:
    pair = login(client, admin.user.email)
    fresh = ok_json(client.post("/api/auth/token", json={"refreshToken": pair["refreshToken"]}))
    assert ok_json(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {fresh['token']}"}))
    # An access token is not a refresh token, and a refresh token is not an access token.
    error_of(client.post("/api/auth/token", json={"refreshToken": pair["token"]}), 401)
    error_of(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {pair['refreshToken']}"}), 401)


def test_expired_token_is_401_with_code_11(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    expired = Tokens(JWT_SECRET, access_ttl=-10, refresh_ttl=60).issue(admin.user).token
    assert (
        error_of(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {expired}"}), 401)["errorCode"] == 11
    )


def forged(admin: Actor, **changes: object) -> str:
    claims = {
        "sub": admin.user.email,
        "userId": admin.user.id,
        "scopes": ["SYS_ADMIN"],
        "tenantId": admin.tenant_id,
        "customerId": admin.user.customer_id,
        "iss": "image-gallery",
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
    }
    claims.update(changes)
    return jwt.encode(claims, "another-secret-of-at-least-32-bytes-length", algorithm="HS256")


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not-a-jwt",
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer " + jwt.encode({"sub": "x"}, key="", algorithm="none"),
    ],
)
def test_bad_tokens_are_401(client: FlaskClient, header: str) -> None:
    assert error_of(client.get("/api/auth/user", headers={"X-Authorization": header}), 401)["errorCode"] == 10


def test_a_token_signed_with_another_key_is_401(client: FlaskClient, admin: Actor) -> None:
    error_of(client.get("/api/auth/user", headers={"X-Authorization": f"Bearer {forged(admin)}"}), 401)


def test_no_token_is_401(client: FlaskClient) -> None:
    error_of(client.get("/api/images?pageSize=1&page=0"), 401)
    error_of(client.post("/api/image"), 401)


def test_login_then_upload_end_to_end(client: FlaskClient, gallery: Gallery) -> None:
    tenant = gallery.accounts.create_tenant("Fresh")
    gallery.accounts.create_user("fresh@example.com", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    token = login(client, "fresh@example.com")["token"]
    info = ok_json(upload(client, {"X-Authorization": f"Bearer {token}"}, png(), "a.png"))
    assert info["tenantId"]["id"] == tenant.id


def test_system_params_then_logout_ends_the_session(client: FlaskClient, admin: Actor) -> None:
    assert ok_json(client.get("/api/system/params", headers=admin.headers))["maxResourceSize"] == 0
    assert client.post("/api/auth/logout", headers=admin.headers).status_code == 200
    assert error_of(client.get("/api/system/params", headers=admin.headers), 401)["errorCode"] == 10
