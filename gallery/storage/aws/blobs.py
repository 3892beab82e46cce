"""Image bytes on S3 (`BlobStore`), content-addressed at `blobs/<aa>/<sha256>`. Puts are conditional
(`If-None-Match: *`), so an object is never rewritten: one that is there already holds the same bytes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from gallery.domain import errors
from gallery.storage.aws.errors import translated, when_missing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_ETAG = re.compile(r"^[0-9a-f]{64}$")
BLOB_PREFIX = "blobs/"
# S3's answers to a conditional put when the object exists (or another put of it is under way).
_ALREADY_THERE = ("PreconditionFailed", "ConditionalRequestConflict")
# Headers a presigned GET may set on S3's response (S3's `response-*` query parameters).
_RESPONSE_HEADERS = {
    "Content-Type": "ResponseContentType",
    "Cache-Control": "ResponseCacheControl",
    "Content-Disposition": "ResponseContentDisposition",
}


class S3BlobStore:
    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def key(etag: str) -> str:
        if not _ETAG.match(etag):
            raise errors.NotFound()
        return f"{BLOB_PREFIX}{etag[:2]}/{etag}"

    def put(self, etag: str, data: bytes) -> None:
        key = self.key(etag)
        try:
            with translated(dict.fromkeys(_ALREADY_THERE, errors.AlreadyExists())):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, IfNoneMatch="*")
        except errors.AlreadyExists:
            return  # content addressing makes it the same bytes

    def open(self, etag: str) -> BinaryIO:
        key = self.key(etag)
        with translated(when_missing()):
            return cast(BinaryIO, self.client.get_object(Bucket=self.bucket, Key=key)["Body"])

    def exists(self, etag: str) -> bool:
        key = self.key(etag)
        try:
            with translated(when_missing()):
                self.client.head_object(Bucket=self.bucket, Key=key)
        except errors.NotFound:
            return False
        return True

    def delete(self, etag: str) -> None:
        with translated():
            self.client.delete_object(Bucket=self.bucket, Key=self.key(etag))

    def remove_leftovers(self, before: float) -> int:
        """An S3 put is whole or absent: nothing is ever half-written."""
        return 0

    def link(self, etag: str, target: Path) -> bool:
        return False  # no file to name twice: the caller writes the bytes it read

    def download_url(self, etag: str, headers: Mapping[str, str], expires_in: int) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.key(etag)}
        params.update({_RESPONSE_HEADERS[name]: value for name, value in headers.items() if name in _RESPONSE_HEADERS})
        with translated():
            return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in)

    def etags(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with translated():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=BLOB_PREFIX):
                for entry in page.get("Contents", []):
                    name = entry["Key"].rsplit("/", 1)[-1]
                    if _ETAG.match(name):
                        yield name
