"""Wiring: settings → storage → services. Shared by the web app and the CLI; nothing here knows about HTTP."""

from __future__ import annotations

from dataclasses import dataclass

from gallery.config import Settings
from gallery.domain.errors import ConfigError
from gallery.services.accounts import AccountService
from gallery.services.auth import Tokens, derive_key, load_or_create_secret
from gallery.services.dashboards import DashboardService
from gallery.services.images import ImageService
from gallery.services.uploads import StagedUploads
from gallery.storage import open_storage
from gallery.storage.protocols import Storage

_MIN_SECRET = 32


@dataclass(frozen=True)
class Gallery:
    settings: Settings
    storage: Storage
    images: ImageService
    accounts: AccountService
    dashboards: DashboardService
    uploads: StagedUploads

    @classmethod
    def open(cls, settings: Settings | None = None) -> Gallery:
        settings = settings or Settings.from_env()
        storage = open_storage(settings)
        images = ImageService(storage, settings)
        secret = _secret(settings)
        tokens = Tokens(secret, settings.access_token_ttl, settings.refresh_token_ttl)
        accounts = AccountService(storage.catalog, storage.auth, tokens, images.release)
        ticket_key = derive_key(secret, "upload-tickets")
        uploads = StagedUploads(images, storage.staging, storage.uploads, ticket_key, settings)
        return cls(settings, storage, images, accounts, DashboardService(storage.catalog), uploads)

    def close(self) -> None:
        self.storage.close()


def _secret(settings: Settings) -> str:
    if settings.jwt_secret:
        if len(settings.jwt_secret.encode()) < _MIN_SECRET:
            raise ConfigError(f"GALLERY_JWT_SECRET must be at least {_MIN_SECRET} bytes")
        return settings.jwt_secret
    if settings.backend != "local":
        raise ConfigError("GALLERY_JWT_SECRET must be set for the aws backend")
    return load_or_create_secret(settings.data_dir / "jwt-secret")
