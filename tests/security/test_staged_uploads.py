"""Large uploads cost what they should: no form for a tenant at its limit, a bounded number open per tenant, each
upload finished exactly once (a form posted again, or two finishes at once, never make a second image), forms that
never point where a request's Host header says, and staged files swept by the server itself. Both backends."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask.testing import FlaskClient
from urllib3 import encode_multipart_formdata

from gallery.domain.model import Authority, FileLimits
from gallery.services import uploads as uploads_module
from gallery.services.uploads import LOCAL_STAGING_PATH
from gallery.wiring import Gallery
from tests.conftest import PASSWORD, Actor, make_app
from tests.helpers import error_of, ok_json, png

LISTING = "/api/images?pageSize=50&page=0"


def start(client: FlaskClient, actor: Actor, name: str = "big.png", size: int | None = None, **headers: str) -> Any:
    body: dict[str, Any] = {"fileName": name} | ({"size": size} if size else {})
    return client.post("/api/image/uploads", json=body, headers={**actor.headers, **headers})


def send(client: FlaskClient, form: dict[str, Any], data: bytes) -> int:
    """Post the file with the form, as a browser would (to S3 on aws, to our own endpoint locally)."""
    if form["url"] == LOCAL_STAGING_PATH:
        body, content_type = encode_multipart_formdata({**form["fields"], form["fileField"]: ("f.png", data)})
        return client.post(LOCAL_STAGING_PATH, data=body, content_type=content_type).status_code
    import requests

    return requests.post(form["url"], data=form["fields"], files={form["fileField"]: data}, timeout=30).status_code


def finish(client: FlaskClient, actor: Actor, form: dict[str, Any]) -> Any:
    return client.post(f"/api/image/uploads/{form['uploadId']}", json={}, headers=actor.headers)


def images(client: FlaskClient, actor: Actor) -> list[str]:
    return [i["resourceKey"] for i in ok_json(client.get(LISTING, headers=actor.headers))["data"]]


def test_a_tenant_at_its_limit_gets_no_upload_form(client: FlaskClient, gallery: Gallery) -> None:
    tenant = gallery.accounts.create_tenant_with_limits("Full", FileLimits(0, 600))
    user = gallery.accounts.create_user("full@example.com", PASSWORD, Authority.TENANT_ADMIN, tenant.id)
    actor = Actor("full", user, {"X-Authorization": f"Bearer {gallery.sessions.tokens.issue(user).token}"})
    data = png(8, 8)
    ok_json(client.post("/api/image", data={"file": (io.BytesIO(data), "first.png")}, headers=actor.headers,
                        content_type="multipart/form-data"))  # fmt: skip
    room = 600 - gallery.images.usage(tenant.id)
    assert "total size exceeds" in error_of(start(client, actor, size=room + 1), 400)["message"]
    ok_json(start(client, actor, size=room))  # what still fits is fine
    assert images(client, actor) == ["first.png"]


def test_open_uploads_are_bounded_per_tenant(client: FlaskClient, gallery: Gallery, admin: Actor, other: Actor) -> None:
    most = gallery.settings.max_open_uploads
    forms = [ok_json(start(client, admin, f"f{n}.png")) for n in range(most)]
    refused = start(client, admin, "one-more.png")
    assert "large uploads open" in error_of(refused, 429)["message"]
    assert int(refused.headers["Retry-After"]) == gallery.settings.upload_ttl
    ok_json(start(client, other, "theirs.png"))  # another tenant is not held up
    assert send(client, forms[0], png()) in {200, 204}
    ok_json(finish(client, admin, forms[0]))
    ok_json(start(client, admin, "one-more.png"))  # a finished upload frees its place


def test_a_form_posted_again_after_its_finish_makes_no_second_image(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    form = ok_json(start(client, admin, "once.png"))
    assert send(client, form, png(10, 10, (1, 1, 1))) in {200, 204}
    ok_json(finish(client, admin, form))
    again = send(client, form, png(10, 10, (2, 2, 2)))
    # our endpoint refuses it at once; S3 takes it (its policy is still valid), but nothing can claim it
    assert again == (400 if gallery.settings.backend == "local" else 204)
    # locally nothing was staged again (404); on S3 the object is there but the upload was claimed (409)
    assert finish(client, admin, form).status_code == (404 if gallery.settings.backend == "local" else 409)
    assert images(client, admin) == ["once.png"]
    # and what S3 took is gone by the tenant's next form: posting again and again stacks up nothing
    ok_json(start(client, admin, "next.png"))
    assert list(gallery.storage.staging.staged_before(time.time() + 1, admin.tenant_id)) == []


def test_two_finishes_at_once_make_one_image(gallery: Gallery, admin: Actor) -> None:
    app = make_app(gallery=gallery)
    client = app.test_client()
    form = ok_json(start(client, admin, "race.png"))
    assert send(client, form, png(10, 10, (3, 3, 3))) in {200, 204}
    barrier = threading.Barrier(2)

    def attempt(_: int) -> int:
        barrier.wait()
        return int(finish(app.test_client(), admin, form).status_code)

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(attempt, range(2)))
    assert codes[0] == 200
    assert codes[1] in {404, 409}
    assert images(client, admin) == ["race.png"]


@pytest.mark.parametrize("host", ["evil.example", "attacker.test:8443"])
def test_the_form_never_points_where_the_host_header_says(client: FlaskClient, admin: Actor, host: str) -> None:
    form = ok_json(start(client, admin, Host=host))
    assert host not in form["url"]
    assert form["url"] == LOCAL_STAGING_PATH or form["url"].startswith("http://127.0.0.1")  # ours, or S3's (moto)


def test_the_configured_public_url_is_the_forms_base(gallery: Gallery, admin: Actor) -> None:
    if gallery.settings.backend != "local":
        pytest.skip("on AWS the form is S3's presigned URL")
    configured = Gallery.open(gallery.settings.evolve(public_url="https://gallery.example.com/base"))
    form = ok_json(start(make_app(gallery=configured).test_client(), admin, Host="evil.example"))
    configured.close()
    assert form["url"] == f"https://gallery.example.com/base{LOCAL_STAGING_PATH}"


def test_the_server_sweeps_abandoned_staged_files_by_itself(
    gallery: Gallery, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `gallery serve` runs: no `gallery gc` needed for a file nobody finished."""
    if gallery.settings.backend != "local":
        pytest.skip("S3's lifecycle rule expires staged objects (tests/test_provision.py)")
    monkeypatch.setattr(uploads_module, "SWEEP_EVERY_SECONDS", 0.05)
    short = Gallery.open(gallery.settings.evolve(upload_ttl=1))
    client = make_app(gallery=short).test_client()
    form = ok_json(start(client, admin, "abandoned.png"))
    assert send(client, form, png()) == 204
    staged = list(short.settings.data_dir.joinpath("staging").glob("*/*"))
    assert len(staged) == 1
    stop = threading.Event()
    thread = short.uploads.sweep_in_background(stop)
    deadline = time.monotonic() + 10
    while staged[0].exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join(5)
    short.close()
    assert not staged[0].exists()
