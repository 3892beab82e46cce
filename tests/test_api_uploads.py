"""Large uploads through staging: a form for the client to send the file straight to storage (S3 on the aws
backend, a signed endpoint of ours locally), then a finish call that inspects and commits it or refuses it.

In the aws session the form goes to the moto server over real HTTP, as a browser's would go to S3.
"""

from __future__ import annotations

import base64
import io
import json
import os
import time
from typing import Any

import jwt
import pytest
import requests
from flask.testing import FlaskClient
from PIL import Image
from urllib3 import encode_multipart_formdata

from gallery.domain.model import FileLimits
from gallery.services.credentials import derive_key
from gallery.services.uploads import LOCAL_STAGING_PATH
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, Actor
from tests.helpers import error_of, ok_json, png, sha256, upload
from tests.test_api_limits import limit_tenant


def noise_png(megabytes: int) -> bytes:
    """A PNG that cannot compress: random pixels, about `megabytes` MB."""
    side = int((megabytes * 1_000_000 / 3) ** 0.5)
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG", compress_level=1)
    return out.getvalue()


def start(client: FlaskClient, actor: Actor, file_name: str, size: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"fileName": file_name}
    if size is not None:
        body["size"] = size
    return ok_json(client.post("/api/image/uploads", json=body, headers=actor.headers))  # type: ignore[no-any-return]


def send(client: FlaskClient, form: dict[str, Any], data: bytes) -> int:
    """POST the form as a browser would: every field, then the file. Returns the storage's status."""
    if form["url"] == LOCAL_STAGING_PATH:  # the local backend's form: a path of the API's
        # Encoded here, in memory: werkzeug's test builder would spool a body this big to a file it never closes.
        fields: dict[str, Any] = {**form["fields"], form["fileField"]: ("upload.bin", data)}
        body, content_type = encode_multipart_formdata(fields)
        return client.post(LOCAL_STAGING_PATH, data=body, content_type=content_type).status_code
    response = requests.post(form["url"], data=form["fields"], files={form["fileField"]: data}, timeout=60)
    return response.status_code


def finish(client: FlaskClient, actor: Actor, upload_id: str, **body: str) -> Any:
    return client.post(f"/api/image/uploads/{upload_id}", json=body or None, headers=actor.headers)


def is_staged(gallery: Gallery, form: dict[str, Any]) -> bool:
    claims = jwt.decode(form["uploadId"], options={"verify_signature": False})
    try:
        gallery.storage.staging.read(f"{claims['tid']}/{claims['uid']}", 1 << 30)
    except Exception:
        return False
    return True


def listed(client: FlaskClient, actor: Actor) -> list[str]:
    page = ok_json(client.get("/api/images?pageSize=50&page=0", headers=actor.headers))
    return [i["resourceKey"] for i in page["data"]]


def test_a_12_mb_image_goes_through_staging_and_comes_back_identical(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    data = noise_png(12)
    assert len(data) > 12_000_000
    form = start(client, admin, "big photo.png", len(data))
    assert form["maxSize"] >= len(data)
    assert send(client, form, data) in {200, 201, 204}
    assert is_staged(gallery, form)
    info = ok_json(finish(client, admin, form["uploadId"], title="Big photo"))
    assert (info["resourceKey"], info["title"], info["etag"]) == ("big photo.png", "Big photo", sha256(data))
    assert info["descriptor"]["size"] == len(data)
    assert not is_staged(gallery, form)
    assert gallery.images.usage(admin.tenant_id) == len(data)

    response = client.get("/api/images/tenant/big%20photo.png", headers=admin.headers)
    if gallery.settings.backend == "aws":  # beyond what a Lambda response carries: straight from S3
        assert response.status_code == 302
        assert response.headers["Cache-Control"] == "no-store"
        fetched = requests.get(response.headers["Location"], timeout=60)
        assert fetched.status_code == 200
        assert fetched.headers["Content-Type"] == "image/png"
        assert fetched.headers["Content-Disposition"].startswith("attachment")
        assert fetched.content == data
    else:
        assert response.status_code == 200
        assert response.get_data() == data
    # The ETag check still comes first: a revalidation is a 304 whatever the size.
    revalidated = client.get(
        "/api/images/tenant/big%20photo.png", headers={**admin.headers, "If-None-Match": f'"{sha256(data)}"'}
    )
    assert revalidated.status_code == 304


def test_update_in_place_through_staging_keeps_the_key(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    first = ok_json(upload(client, admin.headers, png(), "logo.png"))
    replacement = png(640, 480, (1, 200, 3))
    form = start(client, admin, "logo-v2.png")
    assert send(client, form, replacement) in {200, 201, 204}
    path = f"/api/images/tenant/logo.png/uploads/{form['uploadId']}"
    updated = ok_json(client.put(path, headers=admin.headers))
    assert (updated["resourceKey"], updated["link"]) == ("logo.png", first["link"])
    assert updated["etag"] == sha256(replacement)
    assert updated["fileName"] == "logo-v2.png"
    assert not is_staged(gallery, form)


def test_finishing_twice_is_a_404_and_commits_once(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    form = start(client, admin, "once.png")
    send(client, form, png())
    ok_json(finish(client, admin, form["uploadId"]))
    body = error_of(finish(client, admin, form["uploadId"]), 404)
    assert "finished already" in body["message"]
    assert listed(client, admin) == ["once.png"]


def test_not_an_image_is_refused_and_the_staged_object_removed(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    form = start(client, admin, "notes.png")
    send(client, form, b"these are not pixels" * 100)
    assert is_staged(gallery, form)
    body = error_of(finish(client, admin, form["uploadId"]), 400)
    assert "not a supported image" in body["message"]
    assert not is_staged(gallery, form)
    assert listed(client, admin) == []
    assert gallery.images.usage(admin.tenant_id) == 0


def test_sizes_over_the_tenant_limit_are_refused_at_every_step(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    data = png(300, 300)
    limit_tenant(gallery, admin.tenant_id, FileLimits(max_resource_size=len(data) - 1))
    body = error_of(
        client.post("/api/image/uploads", json={"fileName": "a.png", "size": len(data)}, headers=admin.headers), 400
    )
    assert body["message"] == f"Resource exceeds the maximum size of {len(data) - 1} bytes"
    form = start(client, admin, "a.png")  # no size given: the cap travels in the form itself
    assert form["maxSize"] == len(data) - 1
    status = send(client, form, data)
    if gallery.settings.backend == "aws":
        # S3 enforces the policy's size range at the POST; moto does not, so check the policy says it, and that
        # finishing overrules a store that took too much anyway.
        policy = json.loads(base64.b64decode(form["fields"]["policy"]))
        assert ["content-length-range", 1, len(data) - 1] in policy["conditions"]
        assert {"key": form["fields"]["key"]} in policy["conditions"]
        assert form["fields"]["key"].startswith(f"staging/{admin.tenant_id}/")
        error_of(finish(client, admin, form["uploadId"]), 400)
    else:
        assert status == 400
        error_of(finish(client, admin, form["uploadId"]), 404)
    assert not is_staged(gallery, form)
    assert listed(client, admin) == []
    assert gallery.images.usage(admin.tenant_id) == 0


def test_an_expired_upload_is_refused_and_removed(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    form = start(client, admin, "late.png")
    send(client, form, png())
    ticket_key = derive_key(JWT_SECRET, "upload-tickets")
    claims = jwt.decode(form["uploadId"], ticket_key, algorithms=["HS256"], issuer="image-gallery")
    claims["exp"] = int(time.time()) - 1
    expired = jwt.encode(claims, ticket_key, algorithm="HS256")
    body = error_of(finish(client, admin, expired), 400)
    assert "expired" in body["message"]
    assert not is_staged(gallery, form)
    assert listed(client, admin) == []


def test_another_tenants_upload_cannot_be_finished(
    client: FlaskClient, gallery: Gallery, admin: Actor, other: Actor
) -> None:
    form = start(client, admin, "mine.png")
    send(client, form, png())
    error_of(finish(client, other, form["uploadId"]), 403)
    error_of(client.put(f"/api/images/tenant/x.png/uploads/{form['uploadId']}", headers=other.headers), 403)
    assert listed(client, other) == []
    assert ok_json(finish(client, admin, form["uploadId"]))["resourceKey"] == "mine.png"


@pytest.mark.parametrize(
    "upload_id",
    ["nonsense", jwt.encode({"purpose": "upload", "exp": 9999999999}, "some-other-secret-32-bytes-long!!", "HS256")],
)
def test_an_unknown_upload_id_is_a_400(client: FlaskClient, admin: Actor, upload_id: str) -> None:
    assert error_of(finish(client, admin, upload_id), 400)["message"] == "Unknown upload id"


def test_a_customer_cannot_start_an_upload(client: FlaskClient, customer: Actor) -> None:
    error_of(client.post("/api/image/uploads", json={"fileName": "a.png"}, headers=customer.headers), 403)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"size": 10}, "should be specified"),
        ({"fileName": "a.png", "size": "big"}, "'size' must be a whole number of bytes from 1"),
    ],
)
def test_bad_start_requests_are_400(client: FlaskClient, admin: Actor, body: dict[str, Any], message: str) -> None:
    assert message in error_of(client.post("/api/image/uploads", json=body, headers=admin.headers), 400)["message"]


def test_the_local_endpoint_checks_its_ticket(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    form = start(client, admin, "x.png")
    forged = {"ticket": form["uploadId"][:-4] + "AAAA", "file": (io.BytesIO(png()), "x.png")}
    if gallery.settings.backend == "local":
        error_of(client.post(LOCAL_STAGING_PATH, data=forged, content_type="multipart/form-data"), 400)
        error_of(client.post(LOCAL_STAGING_PATH, data={"ticket": form["uploadId"]}), 400)
    else:  # the aws backend's clients upload to S3: our endpoint is not there for them
        error_of(client.post(LOCAL_STAGING_PATH, data={**forged, "ticket": form["uploadId"]}), 404)
    assert not is_staged(gallery, form)


def test_a_large_upload_is_not_held_to_the_request_body_limit(gallery: Gallery, admin: Actor) -> None:
    """On Lambda a request body stops at 4 MiB (its 6 MB payload, base64): files above it take the large-upload
    form, whose limit is its own (GALLERY_MAX_UPLOAD_BYTES)."""
    from tests.conftest import make_app

    settings = gallery.settings.evolve(max_request_bytes=1_000_000, max_upload_bytes=3_000_000)
    client = make_app(settings).test_client()
    data = noise_png(2)
    assert 1_000_000 < len(data) < 3_000_000
    body, content_type = encode_multipart_formdata({"file": ("direct.png", data)})  # in memory, as `send` does
    direct = client.post("/api/image", data=body, content_type=content_type, headers=admin.headers)
    assert direct.status_code == 413
    form = start(client, admin, "staged.png", len(data))
    assert form["maxSize"] == 3_000_000
    assert send(client, form, data) in {200, 201, 204}
    info = ok_json(finish(client, admin, form["uploadId"], title="Staged"))
    assert info["descriptor"]["size"] == len(data)
    too_big = client.post("/api/image/uploads", json={"fileName": "x.png", "size": 3_000_001}, headers=admin.headers)
    assert too_big.status_code == 400
