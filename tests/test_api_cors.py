"""Cross-origin calls: only the origins named in GALLERY_CORS_ORIGINS may call the API from a browser."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from gallery.config import Settings
from gallery.domain import errors
from tests.conftest import Actor, make_app

SITE = "https://gallery.example.com"


def client_for(settings: Settings, origins: tuple[str, ...]) -> FlaskClient:
    return make_app(settings.evolve(cors_origins=origins)).test_client()


def preflight(settings: Settings, origins: tuple[str, ...], origin: str) -> dict[str, str]:
    response = client_for(settings, origins).options(
        "/api/images",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "X-Authorization",
        },
    )
    assert response.status_code == 200
    return dict(response.headers)


def test_a_named_origin_may_call_the_api_with_its_token(settings: Settings, admin: Actor) -> None:
    headers = preflight(settings, (SITE,), SITE)
    assert headers["Access-Control-Allow-Origin"] == SITE
    assert "x-authorization" in headers["Access-Control-Allow-Headers"].lower()
    response = client_for(settings, (SITE,)).get(
        "/api/images?pageSize=10&page=0", headers={**admin.headers, "Origin": SITE}
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == SITE
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]


def test_other_origins_and_the_default_get_no_permission(settings: Settings) -> None:
    assert "Access-Control-Allow-Origin" not in preflight(settings, (SITE,), "https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in preflight(settings, (), SITE)


@pytest.mark.parametrize("value", ["gallery.example.com", "https://gallery.example.com/manage", "ftp://x.example"])
def test_a_malformed_origin_is_refused_at_start(value: str) -> None:
    with pytest.raises(errors.ConfigError, match="GALLERY_CORS_ORIGINS"):
        Settings.from_env({"GALLERY_CORS_ORIGINS": value})


def test_several_origins_are_read_from_one_variable() -> None:
    settings = Settings.from_env({"GALLERY_CORS_ORIGINS": f"{SITE}/, http://localhost:8000"})
    assert settings.cors_origins == (SITE, "http://localhost:8000")
