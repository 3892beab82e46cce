"""The backend `GALLERY_BACKEND` names, opened: whole for the wiring, its blob store alone for the static build's
workers. Everything else sees the protocols."""

from __future__ import annotations

from dataclasses import dataclass

from gallery.config import Settings
from gallery.domain.errors import ConfigError
from gallery.storage.protocols import BlobStore, Storage


def open_storage(settings: Settings) -> Storage:
    if settings.backend == "local":
        from gallery.storage.local import open_local

        return open_local(settings)
    if settings.backend == "aws":
        from gallery.storage.aws import open_aws

        return open_aws(settings)
    raise ConfigError(f"Unknown GALLERY_BACKEND {settings.backend!r}")


def with_secrets(settings: Settings) -> Settings:
    """The secrets kept in SSM Parameter Store (`GALLERY_SECRETS_PATH`), read into the settings."""
    if not settings.secrets_path:
        return settings
    from gallery.storage.aws.secrets import with_secrets as read

    return read(settings)


@dataclass(frozen=True)
class BlobsOf:
    """`open_blobs` for these settings, as a value: picklable and comparable, so a render worker process can be
    handed it (and open the store itself) and a lasting pool can tell whether it serves the same store."""

    settings: Settings

    def __call__(self) -> BlobStore:
        return open_blobs(self.settings)


def open_blobs(settings: Settings) -> BlobStore:
    """The bytes alone: what a rendering worker reads, with no catalog opened (no database, no table)."""
    if settings.backend == "local":
        from gallery.storage.local import open_local_blobs

        return open_local_blobs(settings)
    if settings.backend == "aws":
        from gallery.storage.aws import open_aws_blobs

        return open_aws_blobs(settings)
    raise ConfigError(f"Unknown GALLERY_BACKEND {settings.backend!r}")
