"""`GET /api/openapi.json` stays true: every route under `/api` is documented and every documented path is a route;
every schema is valid JSON Schema (2020-12, as OpenAPI 3.1 uses); and every operation with an example is sent to
the real app, its answer validated against the schema the document gives for it."""

from __future__ import annotations

import base64
import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from gallery.demo import as_principal
from gallery.domain.model import Authority, FileLimits
from gallery.services.dashboards import DashboardDraft
from gallery.web.openapi import EXAMPLE_KEY, OPERATIONS, Operation, document
from gallery.wiring import Gallery
from tests.conftest import PASSWORD, Actor, Seed
from tests.helpers import png

DOCUMENT_URI = "urn:gallery:openapi"


def flask_path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?[^>]+>", "{}", rule)


def documented_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def validator(schema_name: str) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI, Resource.from_contents(document(), default_specification=DRAFT202012)
    )
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#/components/schemas/{schema_name}"}, registry=registry)


def test_every_api_route_is_documented_and_every_documented_path_is_a_route(client: FlaskClient) -> None:
    app = client.application
    routes = {
        (method, flask_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    served = client.get("/api/openapi.json").get_json()
    documented = {(method.upper(), documented_path(path)) for path, ops in served["paths"].items() for method in ops}
    assert documented == routes


def test_the_document_is_well_formed(client: FlaskClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    served = response.get_json()
    assert served["openapi"].startswith("3.1")
    for name, schema in served["components"]["schemas"].items():
        Draft202012Validator.check_schema(schema)
        assert name
    for path, operations in served["paths"].items():
        for method, operation in operations.items():
            named = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
            assert named == set(re.findall(r"\{([^}]+)\}", path)), (method, path)
            for status, answer in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status)
                assert answer["description"]
    ids = [op["operationId"] for ops in served["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


class World:
    """What the examples name, made in the catalog: an image under the example key, a dashboard, a tenant, a
    profile, a user; and who may call each kind of operation."""

    def __init__(self, gallery: Gallery, seed: Seed, actors: dict[str, Actor]) -> None:
        admin = as_principal(seed.users["admin"])
        self.image = gallery.images.upload(admin, EXAMPLE_KEY, png(120, 60), "Logo", None)
        self.dashboard = gallery.dashboards.save(admin, DashboardDraft("Board", None, {"x": 1}))
        self.tenant = gallery.accounts.create_tenant_with_limits("Documented", FileLimits(0, 0))
        self.profile = gallery.accounts.get_tenant(self.tenant.id).profile_id
        self.user = gallery.accounts.create_user(
            "doc@example.com", "a-long-password", Authority.CUSTOMER_USER, self.tenant.id
        )
        self.actors = actors
        self.path_values = {
            "scope": "tenant",
            "key": EXAMPLE_KEY,
            "publicKey": self.image.public_key,
            "dashboardId": self.dashboard.id,
            "tenantId": self.tenant.id,
            "profileId": self.profile,
            "userId": self.user.id,
        }

    def actor(self, op: Operation) -> Actor:
        return self.actors["sysadmin" if op.tag == "administration" else "admin"]


GENERIC = [
    op
    for op in OPERATIONS
    if op.ok
    and not op.multipart
    and "upload_id" not in op.params
    and op.auth
    and op.method in {"GET", "PUT", "POST"}
    and op.path not in {"/api/auth/changePassword"}
]


@pytest.mark.parametrize("op", GENERIC, ids=lambda op: f"{op.method} {op.path}")
def test_each_example_is_answered_as_documented(
    op: Operation, client: FlaskClient, gallery: Gallery, seed: Seed, actors: dict[str, Actor]
) -> None:
    world = World(gallery, seed, actors)
    values = {**world.path_values, **op.example.get("path", {})}
    path = re.sub(r"\{([^}]+)\}", lambda m: str(values[m.group(1)]), op.path)
    documented = document()["paths"][op.path][op.method.lower()]
    query = {p["name"]: p["example"] for p in documented["parameters"] if p["in"] == "query" and p.get("required")}
    query.update(op.example.get("query", {}))
    kwargs: dict[str, Any] = {"headers": world.actor(op).headers, "query_string": query}
    if op.body:
        kwargs["json"] = op.example.get("body") or _body_for(op, world)
    response = client.open(path, method=op.method, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    errors = sorted(validator(op.ok).iter_errors(response.get_json()), key=str)  # type: ignore[arg-type]
    assert not errors, [e.message for e in errors]


def _body_for(op: Operation, world: World) -> Any:
    """Bodies an example cannot hold verbatim (they carry bytes, or tokens made for this run)."""
    if op.body == "ResourceExportData":
        return {"fileName": "imported.png", "data": base64.b64encode(png(30, 30)).decode(), "public": True}
    if op.body == "UploadFinish":
        return {}
    raise AssertionError(f"{op.method} {op.path} needs an example body")


def test_the_operations_the_examples_cannot_reach_answer_as_documented(
    client: FlaskClient, gallery: Gallery, seed: Seed, actors: dict[str, Actor]
) -> None:
    """Sign-in, refresh, the public and the binary answers, uploads, and the error bodies."""
    world = World(gallery, seed, actors)
    pair = client.post("/api/auth/login", json={"username": seed.users["admin"].email, "password": PASSWORD})
    assert pair.status_code == 200
    assert not list(validator("JwtPair").iter_errors(pair.get_json()))
    refreshed = client.post("/api/auth/token", json={"refreshToken": pair.get_json()["refreshToken"]})
    assert not list(validator("JwtPair").iter_errors(refreshed.get_json()))
    params = client.get("/api/noauth/signInParams")
    assert not list(validator("SignInParams").iter_errors(params.get_json()))
    uploaded = client.post(
        "/api/image",
        data={"file": (io.BytesIO(png(50, 50)), "new.png"), "title": "New"},
        headers=world.actors["admin"].headers,
    )
    assert not list(validator("TbResourceInfo").iter_errors(uploaded.get_json()))
    public = client.get(f"/api/images/public/{world.image.public_key}")
    assert (public.status_code, public.mimetype) == (200, "image/png")
    missing = client.get("/api/images/tenant/no-such.png/info", headers=world.actors["admin"].headers)
    assert missing.status_code == 404
    assert not list(validator("Error").iter_errors(missing.get_json()))
    wrong = client.get("/api/images?pageSize=0&page=0", headers=world.actors["admin"].headers)
    assert wrong.status_code == 400
    assert not list(validator("Error").iter_errors(wrong.get_json()))
