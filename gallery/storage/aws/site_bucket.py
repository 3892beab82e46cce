"""The published site's bucket: `SiteBucket` on S3, with CloudFront invalidations.

Single-part puts keep S3's ETag the MD5 of the bytes, which is how a publish knows an object is unchanged. A small
JSON manifest beside the site (`.gallery-publish.json`, never cached) records the headers each object went up with,
since S3's listing does not say.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.aws.clients import cloudfront_client, s3_client
from gallery.storage.aws.errors import translated, when_missing

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

MANIFEST = ".gallery-publish.json"
INVALIDATION_BATCH = 1000  # paths per CloudFront invalidation request
DELETE_BATCH = 1000  # keys per DeleteObjects request (S3's limit)
# The headers S3 stores with an object (and serves back), as put_object names them.
_S3_FIELDS: dict[str, Literal["ContentType", "CacheControl", "ContentDisposition"]] = {
    "Content-Type": "ContentType",
    "Cache-Control": "CacheControl",
    "Content-Disposition": "ContentDisposition",
}


class StoredHeaders(TypedDict, total=False):
    ContentType: str
    CacheControl: str
    ContentDisposition: str


def key_prefix(prefix: str) -> str:
    """A `--prefix` as keys start with it: "" or "some/path/"."""
    return prefix.strip("/") + "/" if prefix.strip("/") else ""


class S3SiteBucket:
    def __init__(self, settings: Settings, bucket: str, prefix: str = "", distribution: str | None = None) -> None:
        self.settings = settings
        self.bucket = bucket
        self.prefix = key_prefix(prefix)
        self.distribution = distribution
        self.s3 = s3_client(settings)

    def objects(self) -> dict[str, str]:
        found: dict[str, str] = {}
        with translated(self._answers()):
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for entry in page.get("Contents", []):
                    found[entry["Key"][len(self.prefix) :]] = entry["ETag"].strip('"')
        found.pop(MANIFEST, None)
        return found

    def read_manifest(self) -> dict[str, str]:
        try:
            with translated({**when_missing(), **self._answers()}):
                body = self.s3.get_object(Bucket=self.bucket, Key=self.prefix + MANIFEST)["Body"].read()
        except errors.NotFound:
            return {}
        try:
            found = json.loads(body)
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    def write_manifest(self, manifest: Mapping[str, str]) -> None:
        with translated():
            self.s3.put_object(
                Bucket=self.bucket,
                Key=self.prefix + MANIFEST,
                Body=json.dumps(dict(manifest), sort_keys=True).encode(),
                ContentType="application/json",
                CacheControl="no-store",
            )

    def put(self, key: str, path: Path, md5: str, headers: Mapping[str, str]) -> None:
        digest = base64.b64encode(bytes.fromhex(md5)).decode()
        with translated(), path.open("rb") as body:
            self.s3.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=body, ContentMD5=digest, **_stored(headers)
            )

    def put_bytes(self, key: str, data: bytes, headers: Mapping[str, str]) -> None:
        digest = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        with translated():
            self.s3.put_object(
                Bucket=self.bucket, Key=self.prefix + key, Body=data, ContentMD5=digest, **_stored(headers)
            )

    def restamp(self, key: str, headers: Mapping[str, str]) -> None:
        with translated():
            self.s3.copy_object(
                Bucket=self.bucket,
                Key=self.prefix + key,
                CopySource={"Bucket": self.bucket, "Key": self.prefix + key},
                MetadataDirective="REPLACE",
                **_stored(headers),
            )

    def delete(self, keys: list[str]) -> None:
        with translated():
            for start in range(0, len(keys), DELETE_BATCH):
                batch: list[ObjectIdentifierTypeDef] = [
                    {"Key": self.prefix + key} for key in keys[start : start + DELETE_BATCH]
                ]
                self.s3.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def invalidate(self, paths: list[str]) -> None:
        if not self.distribution or not paths:
            return
        cloudfront = cloudfront_client(self.settings)
        named = [f"/{self.prefix}{path}" for path in paths]
        with translated():
            for start in range(0, len(named), INVALIDATION_BATCH):
                batch = named[start : start + INVALIDATION_BATCH]
                cloudfront.create_invalidation(
                    DistributionId=self.distribution,
                    InvalidationBatch={
                        "Paths": {"Quantity": len(batch), "Items": batch},
                        "CallerReference": f"gallery-publish-{time.time_ns()}-{start}",
                    },
                )

    def _answers(self) -> dict[str, errors.GalleryError]:
        """A bucket that is not there or not ours to read is a mistake in the command, not an outage."""
        denied = errors.ConfigError(f"Access to the bucket {self.bucket} is denied with these credentials")
        return {
            "NoSuchBucket": errors.ConfigError(f"The bucket {self.bucket} does not exist"),
            "AccessDenied": denied,
            "403": denied,
        }


def _stored(headers: Mapping[str, str]) -> StoredHeaders:
    stored: StoredHeaders = {}
    for header, stored_as in _S3_FIELDS.items():
        if header in headers:
            stored[stored_as] = headers[header]
    return stored
