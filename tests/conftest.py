"""Chained fixtures over real components: per test, a real SQLite file and blob files (or, in the aws session, a
DynamoDB table and S3 bucket on a moto server), seeded with the same accounts."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gallery.config import SETTINGS, Settings
from gallery.domain.model import Authority, Tenant, TenantProfile, User
from gallery.storage.backends import open_storage
from gallery.storage.protocols import Catalog
from gallery.web.app import create_app
from gallery.wiring import Gallery
from tests.storage_fixtures import AWS_ENV, watched

pytest_plugins = ("tests.site_fixtures", "tests.manage_fixtures")

JWT_SECRET = "test-secret-that-is-at-least-32-bytes-long"
PASSWORD = "secret-password"


# `local` (default) runs on SQLite + files; `aws` runs the same API tests on DynamoDB + S3 served by a moto server
# over real HTTP. The aws run is a pytest process of its own: moto's in-process `mock_aws` never shares it.
TEST_BACKEND = os.environ.get("GALLERY_TEST_BACKEND", "local")


@dataclass(frozen=True)
class Seed:
    """Accounts made once per session (their password hashes are the slow part), stored anew for each test."""

    profile: TenantProfile
    tenants: dict[str, Tenant]
    users: dict[str, User]

    def store(self, catalog: Catalog) -> None:
        catalog.insert_profile(self.profile)
        for tenant in self.tenants.values():
            catalog.insert_tenant(tenant)
        for user in self.users.values():
            catalog.insert_user(user)


@dataclass(frozen=True)
class Actor:
    name: str
    user: User
    headers: dict[str, str]

    @property
    def tenant_id(self) -> str:
        return self.user.tenant_id


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    overrides.setdefault("site_dir", data_dir / "no-site")  # never whatever build/site the checkout holds
    return Settings.from_env({}, data_dir=data_dir, jwt_secret=JWT_SECRET, **overrides)


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    gallery = Gallery.open(make_settings(tmp_path_factory.mktemp("seed")))
    accounts = gallery.accounts
    tenant_a = accounts.create_tenant("Tenant A")
    tenant_b = accounts.create_tenant("Tenant B")
    users = {
        "sysadmin": accounts.create_user("sysadmin@example.com", PASSWORD, Authority.SYS_ADMIN),
        "admin": accounts.create_user("admin@a.example.com", PASSWORD, Authority.TENANT_ADMIN, tenant_a.id),
        "customer": accounts.create_user("customer@a.example.com", PASSWORD, Authority.CUSTOMER_USER, tenant_a.id),
        "other": accounts.create_user("admin@b.example.com", PASSWORD, Authority.TENANT_ADMIN, tenant_b.id),
    }
    profile = accounts.default_profile()
    gallery.close()
    return Seed(profile, {"A": tenant_a, "B": tenant_b}, users)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server on loopback for the whole aws session; each test gets its own table and bucket."""
    from tests.moto_http import start_moto

    os.environ.update(AWS_ENV)
    server = start_moto()
    yield server.url
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def api_role_allows_every_call() -> Iterator[None]:
    """In the aws session, every AWS call the app makes while answering a request is recorded, and at the end held
    against the API function's role in deploy/stack.yaml: a call the role would refuse fails the session (on AWS
    it would be a 500). Each test's table and bucket share one name, so the role is read for that name."""
    if TEST_BACKEND != "aws":
        yield
        return
    import flask

    from tests.iam_ledger import Call, record, refusals, role_statements

    calls: list[Call] = []
    with record(flask.has_request_context, calls.append):
        yield

    by_name: dict[str, list[dict[str, Any]]] = {}

    def statements(call: Call) -> list[dict[str, Any]]:
        name = (
            call.params.get("TableName")
            or call.params.get("Bucket")
            or next(iter(call.params.get("RequestItems", {})), "")
        )
        if call.operation == "TransactWriteItems":
            name = next(iter(call.params["TransactItems"][0].values()))["TableName"]
        if name not in by_name:  # the role for this test's table and bucket, resolved once
            parameters = {"Project": "image-gallery", "Stage": "dev", "Table": name, "DataBucket": name}
            by_name[name] = role_statements("ApiRole", {**parameters, "SecretsPath": "/image-gallery/dev/"})
        return by_name[name]

    refused = refusals(calls, statements)
    operations = sorted({f"{call.service}:{call.operation}" for call in calls})
    Path("test-artifacts").mkdir(exist_ok=True)
    summary = {"calls": len(calls), "operations": operations, "refused": refused}
    Path("test-artifacts/api-role-calls.json").write_text(json.dumps(summary))
    assert not refused, "the API's role would refuse:\n" + "\n".join(refused)


@pytest.fixture(autouse=True)
def no_dynamodb_scans(request: pytest.FixtureRequest) -> Iterator[None]:
    """In the aws session every test runs with the shared DynamoDB client watched: a Scan fails the test."""
    if TEST_BACKEND != "aws":
        yield
        return
    from gallery.storage.aws.clients import clients

    dynamodb, _ = clients(Settings.from_env({}, aws_endpoint_url=request.getfixturevalue("moto_endpoint")))
    with watched(dynamodb):
        yield


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def backend_overrides(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings that select this session's backend; for aws, a fresh provisioned table and bucket per test."""
    if TEST_BACKEND != "aws":
        return {}
    return fresh_aws_backend(request.getfixturevalue("moto_endpoint"))


def fresh_aws_backend(endpoint: str) -> dict[str, str]:
    """Settings for a newly provisioned table and bucket of their own on the moto server at `endpoint`."""
    from gallery.storage.aws.provision import provision

    name = f"t{uuid.uuid4().hex[:12]}"
    overrides = {"backend": "aws", "table": name, "bucket": name, "aws_endpoint_url": endpoint}
    provision(Settings.from_env({}, **overrides))
    return overrides


@pytest.fixture(scope="session")
def backend_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment that points a `gallery` subprocess at this session's backend (for aws: a fresh table and bucket,
    plus the dummy credentials moto accepts)."""
    if TEST_BACKEND != "aws":
        return {}
    overrides = fresh_aws_backend(request.getfixturevalue("moto_endpoint"))
    by_field = {setting.field: setting.env for setting in SETTINGS}
    return {**AWS_ENV, **{by_field[name]: value for name, value in overrides.items()}}


@pytest.fixture(scope="session")
def seeded_folder(tmp_path_factory: pytest.TempPathFactory, seed: Seed) -> Path:
    """A data folder on the embedded default holding the seeded catalog, made once: each test gets a copy (a
    file copy costs a fraction of making the schema and the accounts again)."""
    folder = tmp_path_factory.mktemp("seeded") / "data"
    storage = open_storage(make_settings(folder))
    seed.store(storage.catalog)
    storage.close()
    return folder


@pytest.fixture
def settings(data_dir: Path, backend_overrides: dict[str, str], seed: Seed, request: pytest.FixtureRequest) -> Settings:
    settings = make_settings(data_dir, **backend_overrides)
    if settings.backend == "local":
        shutil.copytree(request.getfixturevalue("seeded_folder"), data_dir)
        return settings
    storage = open_storage(settings)
    seed.store(storage.catalog)
    storage.close()
    return settings


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
        token = gallery.sessions.tokens.issue(user).token
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


# `make test-fast` runs what needs no browser, no server, no process and no AWS emulation of its own, in under a
# minute (`-m "not slow"`): a test is slow when it uses the browser or the moto server, when it runs on the aws
# backend, when its own body starts a server or a process, or when its module is one of these (each measures real
# costs or drives servers and processes through helpers).
SLOW_FIXTURES = {"browser", "moto_endpoint"}
SLOW_CALLS = ("live_server(", "static_server(", "start_moto(", "subprocess.", "mkdocs_build(", "ThreadedMotoServer(")
SLOW_MODULES = {
    "test_aws_costs", "test_aws_faults", "test_aws_secrets", "test_aws_keys", "test_provision", "test_load",
    "test_imports", "test_decoding_costs", "test_static_site", "test_site_publisher", "test_site_publish",
    "test_fresh_process", "test_api_lambda", "test_deploy", "test_deploy_steps", "test_deploy_stack",
    "test_iam_ledger", "test_archive", "test_tb_rest_client", "test_site_live", "test_wheel", "test_container",
    "test_makefile", "test_logins", "test_tokens",
}  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        function = getattr(item, "function", None)
        source = inspect.getsource(function) if function is not None else ""
        module = item.nodeid.split("::")[0].rsplit("/", 1)[-1].removesuffix(".py")
        on_aws = "aws" in getattr(getattr(item, "callspec", None), "id", "")
        slow = SLOW_FIXTURES & set(getattr(item, "fixturenames", ())) or any(call in source for call in SLOW_CALLS)
        if slow or on_aws or module in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
