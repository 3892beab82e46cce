"""The 304 answered before Flask (`gallery.web.revalidation`): it answers exactly what Flask would, and only when the
client's tag is current and every check the view makes passes; everything else reaches Flask. On both backends."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import Client

from gallery.config import Settings
from gallery.wiring import Gallery
from tests.conftest import Actor, make_app
from tests.helpers import ok_json, png, upload

REACHED = b"reached the app"


class Buffered(Client):
    """Reads and closes each response, as a WSGI server would (streamed files are closed)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


def fast_path(app: Flask) -> Any:
    """The fast path: inside the request log and metrics (web/observe.py), around Flask's own WSGI callable."""
    return app.wsgi_app.app  # type: ignore[attr-defined]


def flask_itself(app: Flask) -> Client:
    """The app without the fast path: Flask's own WSGI callable, which the fast path wraps."""
    return Buffered(fast_path(app).app)


def fast_path_alone(app: Flask) -> tuple[Client, list[str]]:
    """The fast path in front of an app that only records that it was reached."""
    reached: list[str] = []

    def inner(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        reached.append(environ["PATH_INFO"])
        start_response("299 REACHED", [])
        return [REACHED]

    fast = copy.copy(fast_path(app))
    fast.app = inner
    return Buffered(fast), reached


@pytest.fixture
def images(client: Any, admin: Actor, sysadmin: Actor) -> dict[str, dict[str, Any]]:
    made = {
        "tenant": ok_json(upload(client, admin.headers, png(400, 300), "logo.png")),
        "awkward": ok_json(upload(client, admin.headers, png(41, 30), "a b+ü%.png")),
        "system": ok_json(upload(client, sysadmin.headers, png(42, 30), "sys.png")),
    }
    preview = client.get("/api/images/tenant/logo.png/preview", headers=admin.headers)
    made["tenant"]["previewTag"] = preview.headers["ETag"].strip('"')
    assert made["tenant"]["previewTag"] != made["tenant"]["etag"]  # a preview of its own, not the original
    return made


def cases(images: dict[str, dict[str, Any]]) -> list[tuple[str, str, str]]:
    """(path, etag, whose token) for every form of image URL."""
    tenant, awkward, system = images["tenant"], images["awkward"], images["system"]
    return [
        ("/api/images/tenant/logo.png", tenant["etag"], "admin"),
        ("/api/images/tenant/logo.png/preview", tenant["previewTag"], "admin"),
        ("/api/images/tenant/a%20b%2B%C3%BC%25.png", awkward["etag"], "admin"),
        ("/api/images/system/sys.png", system["etag"], "admin"),
        ("/api/images/system/sys.png", system["etag"], "sysadmin"),
        (f"/api/images/public/{tenant['publicResourceKey']}", tenant["etag"], "none"),
    ]


def answer(response: Any) -> object:
    """A response's body, an error's JSON without its time."""
    if response.mimetype != "application/json":
        return response.data
    return {k: v for k, v in response.get_json().items() if k != "timestamp"}


def headers_for(actors: dict[str, Actor], who: str, etag: str) -> dict[str, str]:
    base = {} if who == "none" else dict(actors[who].headers)
    return {**base, "If-None-Match": f'"{etag}"'}


def test_a_current_tag_gets_the_same_304_flask_gives_without_reaching_flask(
    app: Flask, images: dict[str, dict[str, Any]], actors: dict[str, Actor]
) -> None:
    fast, reached = fast_path_alone(app)
    for path, etag, who in cases(images):
        assert etag, path
        headers = headers_for(actors, who, etag)
        ours = fast.get(path, headers=headers)
        theirs = flask_itself(app).get(path, headers=headers)
        assert (ours.status, ours.data) == ("304 NOT MODIFIED", b""), path
        assert theirs.status == "304 NOT MODIFIED", path
        assert sorted(ours.headers.items()) == sorted(theirs.headers.items()), path
        whole = app.test_client().get(path, headers=headers).headers  # the app as served: the request's id added
        assert whole.pop("X-Request-Id")
        assert sorted(whole.items()) == sorted(theirs.headers.items())
        assert ours.headers["ETag"] == f'"{etag}"'
        head = fast.head(path, headers=headers)
        assert head.status_code == 304
    assert reached == []


def test_anything_else_reaches_flask_and_gets_flasks_answer(
    app: Flask, images: dict[str, dict[str, Any]], actors: dict[str, Actor], gallery: Gallery
) -> None:
    etag = images["tenant"]["etag"]
    tag = f'"{etag}"'
    admin, customer, other = (actors[n].headers for n in ("admin", "customer", "other"))
    public = images["tenant"]["publicResourceKey"]
    refused: list[tuple[str, str, dict[str, str]]] = [
        ("GET", "/api/images/tenant/logo.png", {**admin, "If-None-Match": '"stale"'}),  # 200 with the bytes
        ("GET", "/api/images/tenant/logo.png", dict(admin)),  # no tag at all
        ("GET", "/api/images/tenant/logo.png", {"If-None-Match": tag}),  # no token: 401
        ("GET", "/api/images/tenant/logo.png", {"X-Authorization": "Bearer not-a-token", "If-None-Match": tag}),
        ("GET", "/api/images/tenant/logo.png", {"X-Authorization": "Basic abc", "If-None-Match": tag}),
        ("GET", "/api/images/tenant/logo.png", {**other, "If-None-Match": tag}),  # another tenant's: 404
        ("GET", "/api/images/nowhere/logo.png", {**admin, "If-None-Match": tag}),  # no such scope: 400
        ("GET", "/api/images/tenant/logo.png/info", {**admin, "If-None-Match": tag}),  # not a download
        ("GET", "/api/images/tenant/logo.png/", {**admin, "If-None-Match": tag}),
        ("GET", "/api/images/tenant//logo.png", {**admin, "If-None-Match": tag}),
        ("GET", f"/api/images/public/{public}/preview", {"If-None-Match": tag}),
        ("GET", "/api/images/public/nobody", {"If-None-Match": tag}),
        ("POST", "/api/images/tenant/logo.png", {**admin, "If-None-Match": tag}),
        ("GET", "/api/images/tenant/logo.png", {**admin, "If-None-Match": tag, "Origin": "https://x.example"}),
        ("GET", "/api/images/tenant/%FF.png", {**admin, "If-None-Match": tag}),  # not UTF-8
    ]
    # a customer may view (the role table says so): that one is the fast path's to answer
    assert fast_path_alone(app)[0].get("/api/images/tenant/logo.png", headers={**customer, "If-None-Match": tag})
    for method, path, headers in refused:
        fast, reached = fast_path_alone(app)
        assert fast.open(path, method=method, headers=headers).data == REACHED, (method, path, headers)
        assert reached, path
        ours = app.test_client().open(path, method=method, headers=headers)
        theirs = flask_itself(app).open(path, method=method, headers=headers)
        assert (ours.status, answer(ours)) == (theirs.status, answer(theirs)), (method, path)
        assert ours.status_code != 500, (method, path, ours.data)


def test_a_signed_out_session_is_refused_on_the_fast_path_too(
    app: Flask, images: dict[str, dict[str, Any]], actors: dict[str, Actor], gallery: Gallery
) -> None:
    headers = {**actors["admin"].headers, "If-None-Match": f'"{images["tenant"]["etag"]}"'}
    client = app.test_client()
    assert client.get("/api/images/tenant/logo.png", headers=headers).status_code == 304
    assert client.post("/api/auth/logout", headers=actors["admin"].headers).status_code == 200
    refused = client.get("/api/images/tenant/logo.png", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json()["errorCode"] == 10


@pytest.mark.parametrize("origin", ["https://dash.example", "https://elsewhere.example", None])
def test_with_cors_configured_a_revalidation_gets_flasks_answer_cors_headers_and_all(
    settings: Settings, images: dict[str, dict[str, Any]], actors: dict[str, Actor], origin: str | None
) -> None:
    """CORS is no reason to lose the fast path: a dashboard on another origin revalidating its images gets the 304
    Flask (with flask-cors) would give, its Access-Control headers and Vary included, without reaching Flask; an
    origin not allowed gets Flask's answer for it too (no CORS headers)."""
    app = make_app(settings.evolve(cors_origins=("https://dash.example", "https://ops.example")))
    fast, reached = fast_path_alone(app)
    for path, etag, who in cases(images):
        headers = headers_for(actors, who, etag) | ({"Origin": origin} if origin else {})
        ours = fast.get(path, headers=headers)
        theirs = flask_itself(app).get(path, headers=headers)
        assert (ours.status, theirs.status) == ("304 NOT MODIFIED", "304 NOT MODIFIED"), path
        assert sorted(ours.headers.items()) == sorted(theirs.headers.items()), path
        if origin is not None:  # (without one flask-cors names the allowed origins anyway: the same on both paths)
            allowed = ours.headers.get("Access-Control-Allow-Origin")
            assert allowed == (origin if origin == "https://dash.example" else None), path
    assert reached == []
