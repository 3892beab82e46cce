"""The AWS backend: the catalog on DynamoDB (`dynamo.py`) and the bytes on S3, plus `provision`.

Clients come from boto3's client layer (thread-safe), S3 with SigV4 for presigning. `AWS_ENDPOINT_URL` points both
at moto, LocalStack or another compatible endpoint.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from typing import IO, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.awserrors import error_code, translated
from gallery.storage.dynamo import DynamoCatalog
from gallery.storage.dynamo_auth import TTL_ATTRIBUTE, DynamoAuthStore
from gallery.storage.dynamo_uploads import DynamoUploadLedger
from gallery.storage.staging_names import checked_staging_name, is_staging_name, nothing_staged

_ETAG = re.compile(r"^[0-9a-f]{64}$")
BLOB_PREFIX = "blobs/"
STAGING_PREFIX = "staging/"
STAGING_DAYS = 1
_CONFIG = Config(signature_version="s3v4", retries={"max_attempts": 4, "mode": "standard"})


def clients(settings: Settings) -> tuple[Any, Any]:
    with translated():
        return _clients(settings.aws_endpoint_url or None)


@functools.cache
def _clients(endpoint: str | None) -> tuple[Any, Any]:
    # Building a client loads botocore's service models (~0.1 s); clients are thread-safe, so one pair per endpoint
    # serves every table and bucket for the life of the process (a Lambda container keeps them warm).
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=_CONFIG)
    # A custom endpoint (moto, LocalStack, MinIO) is an address, not a domain buckets can be subdomains of.
    s3_config = _CONFIG.merge(Config(s3={"addressing_style": "path"})) if endpoint else _CONFIG
    s3 = session.client("s3", endpoint_url=endpoint, config=s3_config)
    return dynamodb, s3


_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _cause_code(exc: errors.GalleryError) -> str | None:
    """The S3 error code behind a translated error, for the few codes that are answers rather than failures."""
    return error_code(exc.__cause__) if isinstance(exc.__cause__, ClientError) else None


def get_object(client: Any, bucket: str, key: str, missing: errors.NotFound | None = None) -> Any:
    """GetObject, with an absent object raising `missing` (any other failure stays as translated)."""
    try:
        with translated():
            return client.get_object(Bucket=bucket, Key=key)
    except errors.GalleryError as exc:
        if _cause_code(exc) in _MISSING:
            raise (missing or errors.NotFound()) from None
        raise


class S3BlobStore:
    """Bytes at `blobs/<aa>/<sha256>`; puts are conditional (`If-None-Match: *`), so an object is never rewritten."""

    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    @staticmethod
    def key(etag: str) -> str:
        if not _ETAG.match(etag):
            raise errors.NotFound()
        return f"{BLOB_PREFIX}{etag[:2]}/{etag}"

    def put(self, etag: str, data: bytes) -> None:
        try:
            with translated():
                self.client.put_object(Bucket=self.bucket, Key=self.key(etag), Body=data, IfNoneMatch="*")
        except errors.GalleryError as exc:
            cause = exc.__cause__
            if isinstance(cause, ClientError) and error_code(cause) in {
                "PreconditionFailed",
                "ConditionalRequestConflict",
            }:
                return  # already there: content addressing makes it the same bytes
            raise

    def open(self, etag: str) -> BinaryIO:
        return cast(BinaryIO, get_object(self.client, self.bucket, self.key(etag), errors.NotFound())["Body"])

    def exists(self, etag: str) -> bool:
        try:
            with translated():
                self.client.head_object(Bucket=self.bucket, Key=self.key(etag))
        except errors.GalleryError as exc:
            if _cause_code(exc) in _MISSING:
                return False
            raise
        return True

    def delete(self, etag: str) -> None:
        with translated():
            self.client.delete_object(Bucket=self.bucket, Key=self.key(etag))

    def remove_leftovers(self, before: float) -> int:
        """An S3 put is whole or absent: nothing is ever half-written."""
        return 0

    def download_url(self, etag: str, headers: Mapping[str, str], expires_in: int) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.key(etag)}
        params.update({_RESPONSE_HEADERS[name]: value for name, value in headers.items() if name in _RESPONSE_HEADERS})
        with translated():
            return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    def etags(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        with translated():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=BLOB_PREFIX):
                for entry in page.get("Contents", []):
                    name = entry["Key"].rsplit("/", 1)[-1]
                    if _ETAG.match(name):
                        yield name


# Headers a presigned GET may set on S3's response (S3's `response-*` query parameters).
_RESPONSE_HEADERS = {
    "Content-Type": "ResponseContentType",
    "Cache-Control": "ResponseCacheControl",
    "Content-Disposition": "ResponseContentDisposition",
}


class S3Staging:
    """Large uploads go from the client straight to `staging/<tenant>/<upload>` by a presigned POST whose policy
    caps the size; the bucket's lifecycle rule removes whatever is never finished."""

    receives_posts = False

    def __init__(self, client: Any, bucket: str) -> None:
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
        response = get_object(self.client, self.bucket, self.key(name), nothing_staged())
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


TABLE_SPEC: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "lpk", "csk", "tsk")
    ],
    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    "GlobalSecondaryIndexes": [
        {
            "IndexName": name,
            "KeySchema": [{"AttributeName": "lpk", "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        for name, sort in (("by_created", "csk"), ("by_title", "tsk"))
    ],
    "BillingMode": "PAY_PER_REQUEST",
}


def provision(settings: Settings) -> list[str]:
    """Create the table (with its indexes) and the bucket (with a lifecycle rule for abandoned staging uploads).
    Idempotent: what exists is left as it is. Returns one line per resource saying what happened."""
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
    dynamodb, s3 = clients(settings)
    done = []
    with translated(reraise_conditions=True):
        try:
            dynamodb.create_table(TableName=settings.table, **TABLE_SPEC)
            dynamodb.get_waiter("table_exists").wait(TableName=settings.table)
            done.append(f"created DynamoDB table {settings.table}")
        except ClientError as exc:
            if error_code(exc) != "ResourceInUseException":
                raise
            done.append(f"DynamoDB table {settings.table} already exists")
        _enable_ttl(dynamodb, settings.table)
        done.append(f"TTL on {TTL_ATTRIBUTE}: ended sessions and old failed sign-ins expire by themselves")
        # Ask first: in us-east-1, creating a bucket you already own succeeds silently.
        if _bucket_exists(s3, settings.bucket):
            done.append(f"S3 bucket {settings.bucket} already exists")
        else:
            region = s3.meta.region_name
            location = (
                {} if region in (None, "us-east-1") else {"CreateBucketConfiguration": {"LocationConstraint": region}}
            )
            s3.create_bucket(Bucket=settings.bucket, **location)
            done.append(f"created S3 bucket {settings.bucket}")
        s3.put_bucket_lifecycle_configuration(
            Bucket=settings.bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-abandoned-staging-uploads",
                        "Filter": {"Prefix": STAGING_PREFIX},
                        "Status": "Enabled",
                        "Expiration": {"Days": STAGING_DAYS},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": STAGING_DAYS},
                    }
                ]
            },
        )
        done.append(f"lifecycle rule: objects under {STAGING_PREFIX} expire after {STAGING_DAYS} day")
        # Browsers send large uploads straight to the bucket with a presigned POST (the management page). The
        # signed policy is the credential, so any origin may POST; nothing else is allowed across origins.
        s3.put_bucket_cors(
            Bucket=settings.bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "ID": "presigned-uploads",
                        "AllowedMethods": ["POST"],
                        "AllowedOrigins": ["*"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )
        done.append("CORS rule: browsers may POST presigned uploads")
    return done


def _enable_ttl(dynamodb: Any, table: str) -> None:
    described = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if described.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
        return
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
    )


def _bucket_exists(s3: Any, bucket: str) -> bool:
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if error_code(exc) in _MISSING or error_code(exc) == "NoSuchBucket":
            return False
        raise
    return True


def open_aws(settings: Settings) -> tuple[DynamoCatalog, DynamoAuthStore, DynamoUploadLedger, S3BlobStore, S3Staging]:
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
    dynamodb, s3 = clients(settings)
    return (
        DynamoCatalog(dynamodb, settings.table),
        DynamoAuthStore(dynamodb, settings.table),
        DynamoUploadLedger(dynamodb, settings.table),
        S3BlobStore(s3, settings.bucket),
        S3Staging(s3, settings.bucket),
    )
