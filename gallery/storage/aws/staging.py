"""Where large uploads land on S3 (`Staging`): the client posts straight to `staging/<tenant>/<upload>` with a
presigned POST whose policy caps the size, never through us; the bucket's lifecycle rule (`provision.py`) removes
whatever is never finished."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from gallery.domain import errors
from gallery.storage.aws.errors import translated, when_missing
from gallery.storage.staging_names import checked_staging_name, is_staging_name, nothing_staged

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

STAGING_PREFIX = "staging/"


class S3Staging:
    receives_posts = False

    def __init__(self, client: S3Client, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def key(name: str) -> str:
        return f"{STAGING_PREFIX}{checked_staging_name(name)}"

    def store(self, name: str, stream: IO[bytes], max_size: int) -> int:
        raise errors.NotFound()  # clients post to S3 itself

    def post_form(self, name: str, max_size: int, expires_in: int, ticket: str) -> tuple[str, dict[str, str]]:
        with translated():
            post = self.client.generate_presigned_post(
                Bucket=self.bucket,
                Key=self.key(name),
                Conditions=[["content-length-range", 1, max_size]],
                ExpiresIn=expires_in,
            )
        return str(post["url"]), {str(k): str(v) for k, v in post["fields"].items()}

    def read(self, name: str, limit: int) -> bytes:
        key = self.key(name)
        with translated(when_missing(nothing_staged())):
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        with response["Body"] as body:
            if int(response.get("ContentLength", 0)) > limit:
                raise errors.resource_too_big(limit)
            with translated():
                data: bytes = body.read()
        return data

    def delete(self, name: str) -> None:
        with translated():
            self.client.delete_object(Bucket=self.bucket, Key=self.key(name))

    def remove_leftovers(self, before: float) -> int:
        """A POST to S3 stores the whole object or nothing."""
        return 0

    def staged_before(self, cutoff: float, tenant_id: str | None = None) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        prefix = STAGING_PREFIX + (f"{tenant_id}/" if tenant_id else "")
        with translated():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for entry in page.get("Contents", []):
                    name = entry["Key"].removeprefix(STAGING_PREFIX)
                    if is_staging_name(name) and entry["LastModified"].timestamp() < cutoff:
                        yield name
