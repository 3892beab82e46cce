"""DynamoDB throttling and S3 errors surface as a 503 JSON error with nothing half-written (moto in-process, with
faults injected through botocore's `before-call` event, which answers in place of the service)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from flask.testing import FlaskClient

from gallery.wiring import Gallery
from tests.conftest import Seed, make_app, make_settings
from tests.helpers import error_of, ok_json, png, put_file, sha256, upload
from tests.storage_fixtures import aws_env


@pytest.fixture
def aws_gallery(tmp_path: Path, seed: Seed) -> Iterator[Gallery]:
    from moto import mock_aws

    from gallery.storage.aws.provision import provision

    settings = make_settings(tmp_path, backend="aws", table="faults", bucket="faults")
    with aws_env(), mock_aws():
        provision(settings)
        gallery = Gallery.open(settings)
        seed.store(gallery.storage.catalog)
        yield gallery
        gallery.close()


@pytest.fixture
def client(aws_gallery: Gallery) -> FlaskClient:
    return make_app(gallery=aws_gallery).test_client()


@pytest.fixture
def headers(aws_gallery: Gallery, seed: Seed) -> dict[str, str]:
    return {"X-Authorization": f"Bearer {aws_gallery.sessions.tokens.issue(seed.users['admin']).token}"}


def failing(code: str, status: int) -> Callable[..., tuple[AWSResponse, dict[str, Any]]]:
    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        parsed = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://fault.invalid", status, HTTPHeaders(), None), parsed

    return answer


def inject(client: Any, event: str, code: str, status: int) -> Callable[[], None]:
    handler = failing(code, status)
    client.meta.events.register_first(event, handler)
    return lambda: client.meta.events.unregister(event, handler)


def state(client: FlaskClient, gallery: Gallery, headers: dict[str, str], tenant_id: str) -> tuple[Any, int]:
    listed = ok_json(client.get("/api/images?pageSize=10&page=0", headers=headers))
    return [i["resourceKey"] for i in listed["data"]], gallery.images.usage(tenant_id)


@pytest.mark.parametrize(
    ("service", "event", "code", "status"),
    [
        ("dynamodb", "before-call.dynamodb.TransactWriteItems", "ThrottlingException", 400),
        ("dynamodb", "before-call.dynamodb.TransactWriteItems", "ProvisionedThroughputExceededException", 400),
        ("dynamodb", "before-call.dynamodb.BatchWriteItem", "ThrottlingException", 400),  # the search postings
        ("s3", "before-call.s3.PutObject", "SlowDown", 503),
        ("s3", "before-call.s3.PutObject", "InternalError", 500),
    ],
)
def test_upload_fault_is_a_503_and_writes_nothing(
    client: FlaskClient, aws_gallery: Gallery, headers: dict[str, str], seed: Seed, service: str, event: str, code: str,
    status: int,
) -> None:  # fmt: skip
    tenant_id = seed.users["admin"].tenant_id
    ok_json(upload(client, headers, png(color=(1, 2, 3)), "kept.png"))
    before = state(client, aws_gallery, headers, tenant_id)
    target = aws_gallery.storage.catalog.table.client if service == "dynamodb" else aws_gallery.storage.blobs.client  # type: ignore[attr-defined]
    lost = png(color=(9, 9, 9))
    undo = inject(target, event, code, status)
    try:
        body = error_of(upload(client, headers, lost, "lost.png"), 503)
    finally:
        undo()
    assert "try again" in body["message"]
    assert state(client, aws_gallery, headers, tenant_id) == before
    # At worst the new bytes are an orphan in S3, which gc removes; never a row without its bytes.
    aws_gallery.images.keeper.collect_garbage()
    assert not aws_gallery.storage.blobs.exists(sha256(lost))
    assert ok_json(client.get("/api/images/tenant/kept.png/info", headers=headers))["resourceKey"] == "kept.png"
    assert client.get("/api/images/tenant/kept.png", headers=headers).status_code == 200


def test_a_read_fault_is_a_503_not_a_500(client: FlaskClient, aws_gallery: Gallery, headers: dict[str, str]) -> None:
    # every list reads its counters in one BatchGetItem first
    table = aws_gallery.storage.catalog.table.client  # type: ignore[attr-defined]
    undo = inject(table, "before-call.dynamodb.BatchGetItem", "ThrottlingException", 400)
    try:
        error_of(client.get("/api/images?pageSize=10&page=0", headers=headers), 503)
    finally:
        undo()
    ok_json(client.get("/api/images?pageSize=10&page=0", headers=headers))


@pytest.mark.parametrize(
    ("what", "event", "code", "status"),
    [
        # after the row commits: confirming the new bytes (S3 HEAD), releasing replaced or deleted ones
        ("upload", "before-call.s3.HeadObject", "SlowDown", 503),
        ("update", "before-call.s3.HeadObject", "SlowDown", 503),
        ("update", "before-call.dynamodb.Query", "ThrottlingException", 400),
        ("delete", "before-call.s3.DeleteObject", "SlowDown", 503),
        # removing the search postings of a deleted image's text
        ("delete", "before-call.dynamodb.DeleteItem", "ThrottlingException", 400),
    ],
)
def test_a_fault_after_the_commit_still_answers_success_and_the_write_stands(
    client: FlaskClient, aws_gallery: Gallery, headers: dict[str, str], what: str, event: str, code: str, status: int
) -> None:
    """A 503 must mean nothing was written: once the row is committed, the tidying after it (tried again through
    a hiccup, else left to gc) cannot turn the answer into a failure the client would retry."""
    ok_json(upload(client, headers, png(color=(5, 5, 5)), "old.png"))
    replacement = png(color=(6, 6, 6))
    service = event.split(".")[1]
    target = aws_gallery.storage.catalog.table.client if service == "dynamodb" else aws_gallery.storage.blobs.client  # type: ignore[attr-defined]
    undo = inject(target, event, code, status)  # every try fails: the tidying gives up and logs
    try:
        if what == "upload":
            answer = ok_json(upload(client, headers, replacement, "new.png"))
            key = answer["resourceKey"]
        elif what == "update":
            answer = ok_json(put_file(client, "/api/images/tenant/old.png", headers, replacement, "old.png"))
            key = "old.png"
        else:
            assert client.delete("/api/images/tenant/old.png", headers=headers).status_code == 200
    finally:
        undo()
    if what == "delete":
        assert client.get("/api/images/tenant/old.png/info", headers=headers).status_code == 404
    else:
        assert client.get(f"/api/images/tenant/{key}", headers=headers).data == replacement
    aws_gallery.images.keeper.collect_garbage()  # what the tidying could not do, gc does
    if what != "upload":
        assert not aws_gallery.storage.blobs.exists(sha256(png(color=(5, 5, 5))))
