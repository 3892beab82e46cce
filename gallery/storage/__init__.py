"""Storage backends behind the `Catalog`, `AuthStore`, `UploadLedger`, `BlobStore` and `Staging` protocols, chosen by
`GALLERY_BACKEND`."""

from __future__ import annotations

from gallery.config import Settings
from gallery.domain.errors import ConfigError
from gallery.storage.protocols import Storage


def open_storage(settings: Settings) -> Storage:
    if settings.backend == "local":
        from gallery.storage.local import FileBlobStore, FileStaging, SqliteCatalog
        from gallery.storage.local_auth import SqliteAuthStore
        from gallery.storage.local_uploads import SqliteUploadLedger

        root = settings.data_dir
        return Storage(
            SqliteCatalog(root / "catalog.sqlite3"),
            SqliteAuthStore(root / "catalog.sqlite3"),
            SqliteUploadLedger(root / "catalog.sqlite3"),
            FileBlobStore(root / "blobs"),
            FileStaging(root / "staging"),
        )
    if settings.backend == "aws":
        from gallery.storage.aws import open_aws

        return Storage(*open_aws(settings))
    raise ConfigError(f"Unknown GALLERY_BACKEND {settings.backend!r}")
