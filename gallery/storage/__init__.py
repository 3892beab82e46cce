"""Storage backends behind the `Catalog`, `AuthStore`, `UploadLedger`, `BlobStore` and `Staging` protocols, chosen by
`GALLERY_BACKEND`."""

from __future__ import annotations

from gallery.config import Settings
from gallery.domain.errors import ConfigError
from gallery.storage.protocols import Storage


def open_storage(settings: Settings) -> Storage:
    if settings.backend == "local":
        from gallery.storage.local import open_local

        return open_local(settings)
    if settings.backend == "aws":
        from gallery.storage.aws import open_aws

        return Storage(*open_aws(settings))
    raise ConfigError(f"Unknown GALLERY_BACKEND {settings.backend!r}")
