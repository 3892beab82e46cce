"""The aws backend: the catalog, sessions and open uploads as items of one DynamoDB table (`keys.py` is its layout),
the bytes and staged uploads on S3. One module a concept; `open_aws` builds the stores on shared clients."""

from __future__ import annotations

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.aws.auth import DynamoAuthStore
from gallery.storage.aws.blobs import S3BlobStore
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.clients import clients
from gallery.storage.aws.staging import S3Staging
from gallery.storage.aws.table import Table
from gallery.storage.aws.uploads import DynamoUploadLedger

__all__ = ["open_aws"]


def open_aws(settings: Settings) -> tuple[DynamoCatalog, DynamoAuthStore, DynamoUploadLedger, S3BlobStore, S3Staging]:
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
    dynamodb, s3 = clients(settings)
    table = Table(dynamodb, settings.table)
    return (
        DynamoCatalog(table),
        DynamoAuthStore(table),
        DynamoUploadLedger(table),
        S3BlobStore(s3, settings.bucket),
        S3Staging(s3, settings.bucket),
    )
