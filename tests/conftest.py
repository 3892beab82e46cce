"""Chained fixtures over real components: a real SQLite file and real blob files per test.

Accounts are created once per session (password hashing is slow on purpose) in a template data directory that
each test copies, so every test starts from the same seeded state on its own files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gallery.app import create_app
from gallery.config import Settings
from gallery.core import Gallery
from gallery.model import Authority, User

JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long"
PASSWORD = "secret-password"


@dataclass(frozen=True)
class Seed:
    users: dict[str, User]
    tenants: dict[str, str]  # name -> id


@dataclass(frozen=True)
class Actor:
    name: str
    user: User
    headers: dict[str, str]

    @property
    def tenant_id(self) -> str:
        return self.user.tenant_id


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    return Settings.from_env({}, data_dir=data_dir, jwt_secret=JWT_SECRET, **overrides)


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Seed]:
    data_dir = tmp_path_factory.mktemp("template")
    gallery = Gallery.open(make_settings(data_dir))
    accounts = gallery.accounts
    tenant_a = accounts.create_tenant("Tenant A")
    tenant_b = accounts.create_tenant("Tenant B")
    users = {
        "sysadmin": accounts.create_user("sysadmin@example.com", PASSWORD, Authority.SYS_ADMIN),
        "admin": accounts.create_user("admin@a.example.com", PASSWORD, Authority.TENANT_ADMIN, tenant_a.id),
        "customer": accounts.create_user("customer@a.example.com", PASSWORD, Authority.CUSTOMER_USER, tenant_a.id),
        "other": accounts.create_user("admin@b.example.com", PASSWORD, Authority.TENANT_ADMIN, tenant_b.id),
    }
    gallery.close()
    tenants = {"A": tenant_a.id, "B": tenant_b.id}
    return data_dir, Seed(users, tenants)


@pytest.fixture
def data_dir(seeded: tuple[Path, Seed], tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(seeded[0], target)
    return target


@pytest.fixture
def seed(seeded: tuple[Path, Seed]) -> Seed:
    return seeded[1]


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir)


@pytest.fixture
def gallery(settings: Settings) -> Iterator[Gallery]:
    opened = Gallery.open(settings)
    yield opened
    opened.close()


class BufferedClient(FlaskClient):
    """Reads and closes each response, as a WSGI server would, so streamed files are closed."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def make_app(settings: Settings | None = None, gallery: Gallery | None = None) -> Flask:
    app = create_app(settings, gallery)
    app.test_client_class = BufferedClient
    return app


@pytest.fixture
def app(gallery: Gallery) -> Flask:
    return make_app(gallery=gallery)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def actors(gallery: Gallery, seed: Seed) -> dict[str, Actor]:
    result = {}
    for name, user in seed.users.items():
        token = gallery.accounts.tokens.issue(user).token
        result[name] = Actor(name, user, {"X-Authorization": f"Bearer {token}"})
    return result


@pytest.fixture
def sysadmin(actors: dict[str, Actor]) -> Actor:
    return actors["sysadmin"]


@pytest.fixture
def admin(actors: dict[str, Actor]) -> Actor:
    return actors["admin"]


@pytest.fixture
def customer(actors: dict[str, Actor]) -> Actor:
    return actors["customer"]


@pytest.fixture
def other(actors: dict[str, Actor]) -> Actor:
    return actors["other"]
