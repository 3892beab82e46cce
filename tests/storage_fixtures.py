"""Storage backends for contract tests: the local one on real files, the AWS one under moto's `mock_aws`."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gallery.config import Settings
from gallery.domain.model import Descriptor, ImageInfo, SubType
from gallery.storage.backends import open_storage
from gallery.storage.protocols import Storage

AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def distribution(cloudfront: Any, origin_bucket: str) -> str:
    """A CloudFront distribution in front of a site bucket (what the publisher invalidates), as moto makes one."""
    origin = {
        "Id": "site",
        "DomainName": f"{origin_bucket}.s3.amazonaws.com",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config: Any = {
        "CallerReference": origin_bucket,
        "Comment": "gallery",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {"TargetOriginId": "site", "ViewerProtocolPolicy": "redirect-to-https", "MinTTL": 0},
    }
    return str(cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def invalidations(cloudfront: Any, distribution_id: str) -> list[list[str]]:
    """The paths of each invalidation asked of a distribution."""
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"].get("Items", [])
    batches = []
    for summary in listed:
        found = cloudfront.get_invalidation(DistributionId=distribution_id, Id=summary["Id"])
        batches.append(found["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", []))
    return batches


def aws_session() -> Any:
    """A boto3 session with the dummy credentials moto accepts, whatever this process's environment holds."""
    import boto3

    return boto3.session.Session(
        aws_access_key_id=AWS_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=AWS_ENV["AWS_DEFAULT_REGION"],
    )


@contextmanager
def aws_env() -> Iterator[None]:
    import os

    saved = {k: os.environ.get(k) for k in AWS_ENV}
    os.environ.update(AWS_ENV)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class Requests:
    """Counts the DynamoDB operations a client sends, and refuses `Scan`: nothing we do may cost the whole table."""

    def __init__(self) -> None:
        self.operations: list[str] = []
        self.scans = 0

    def __call__(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)
        if model.name == "Scan":
            self.scans += 1
            raise AssertionError("DynamoDB Scan attempted")

    def count(self, *names: str) -> int:
        return sum(1 for op in self.operations if not names or op in names)


@contextmanager
def watched(client: Any) -> Iterator[Requests]:
    """Hooks botocore's `before-call` event on a DynamoDB client for the duration; fails the test on any Scan."""
    requests = Requests()
    client.meta.events.register("before-call.dynamodb", requests)
    try:
        yield requests
    finally:
        client.meta.events.unregister("before-call.dynamodb", requests)
    assert requests.scans == 0, "a DynamoDB Scan was attempted"


@contextmanager
def backend(kind: str, tmp_path: Path) -> Iterator[Storage]:
    if kind == "local":
        storage = open_storage(Settings.from_env({}, data_dir=tmp_path / "data"))
        yield storage
        storage.close()
        return
    from moto import mock_aws

    from gallery.storage.aws.catalog import DynamoCatalog
    from gallery.storage.aws.provision import provision

    settings = Settings.from_env({}, backend="aws", table="contract", bucket="contract-bucket")
    with aws_env(), mock_aws():
        provision(settings)
        storage = open_storage(settings)
        assert isinstance(storage.catalog, DynamoCatalog)
        with watched(storage.catalog.table.client):
            yield storage


def descriptor(data: bytes, media_type: str = "image/png", size: tuple[int, int] = (10, 10)) -> Descriptor:
    return Descriptor(media_type, size[0], size[1], len(data), hashlib.sha256(data).hexdigest())


def image(
    tenant_id: str,
    key: str,
    *,
    data: bytes | None = None,
    title: str | None = None,
    created: int = 1,
    sub_type: SubType = SubType.IMAGE,
    public_key: str | None = None,
    tags: tuple[str, ...] = (),
    alt_text: str = "",
    description: str = "",
) -> ImageInfo:
    payload = data if data is not None else key.encode()
    original = descriptor(payload)
    return ImageInfo(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        resource_key=key,
        title=title or key,
        file_name=key,
        sub_type=sub_type,
        public=True,
        public_key=public_key or uuid.uuid4().hex,
        original=original,
        preview=original,
        created_time=created,
        updated_time=created,
        tags=tags,
        alt_text=alt_text,
        description=description,
    )
