"""The aws backend: the catalog, sessions and open uploads as items of one DynamoDB table (`keys.py` is its layout),
the bytes and staged uploads on S3. One module a concept; `open_aws` builds the stores on shared clients."""

from __future__ import annotations

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.aws.auth import DynamoAuthStore
from gallery.storage.aws.blobs import S3BlobStore
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.clients import clients, s3_client
from gallery.storage.aws.staging import S3Staging
from gallery.storage.aws.table import Table
from gallery.storage.aws.uploads import DynamoUploadLedger
from gallery.storage.protocols import Storage

__all__ = ["open_aws", "open_aws_blobs"]


def open_aws(settings: Settings) -> Storage:
    _require_bucket(settings)
    dynamodb, s3 = clients(settings)
    table = Table(dynamodb, settings.table)
    return Storage(
        DynamoCatalog(table),
        DynamoAuthStore(table),
        DynamoUploadLedger(table),
        S3BlobStore(s3, settings.bucket),
        S3Staging(s3, settings.bucket),
    )


def open_aws_blobs(settings: Settings) -> S3BlobStore:
    _require_bucket(settings)
    return S3BlobStore(s3_client(settings), settings.bucket)


def _require_bucket(settings: Settings) -> None:
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
