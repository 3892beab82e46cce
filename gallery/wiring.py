"""Wiring: settings → storage → services. Shared by the web app, the CLI and the site build; nothing here knows
about HTTP. The one place that picks a backend (`open_storage`) and hands each service the protocols it needs."""

from __future__ import annotations

import os
import secrets
import threading
from dataclasses import dataclass

from gallery.config import Settings
from gallery.domain.errors import ConfigError, GalleryError
from gallery.services.accounts import AccountService
from gallery.services.blobs import BlobKeeper
from gallery.services.credentials import Tokens, derive_key, load_or_create_secret
from gallery.services.dashboards import DashboardService
from gallery.services.downloads import DownloadService
from gallery.services.etags import EtagCache
from gallery.services.images import ImageService
from gallery.services.sessions import SessionService
from gallery.services.site_source import SiteSource
from gallery.services.transfer import TransferService
from gallery.services.uploads import StagedUploads
from gallery.storage.backends import BlobsOf, open_storage, with_secrets
from gallery.storage.protocols import Storage

_MIN_SECRET = 32


@dataclass(frozen=True)
class Gallery:
    settings: Settings
    storage: Storage
    images: ImageService
    downloads: DownloadService
    transfer: TransferService
    sessions: SessionService
    accounts: AccountService
    dashboards: DashboardService
    uploads: StagedUploads
    site: SiteSource  # what a static site reads of the catalog

    @classmethod
    def open(cls, settings: Settings | None = None, *, signing: bool = True) -> Gallery:
        """`signing=False` for what never signs or checks a token (the static build): no secret is needed, and
        any token made with the throwaway one it gets is good nowhere."""
        settings = settings or Settings.from_env()
        if signing:
            settings = with_secrets(settings)
        storage = open_storage(settings)
        catalog = storage.catalog
        cache = EtagCache(settings.etag_cache_ttl * 60, settings.etag_cache_max_bytes)
        images = ImageService(catalog, catalog, catalog, BlobKeeper(catalog, storage.blobs), cache, settings)
        secret = _secret(settings) if signing else secrets.token_urlsafe(48)
        tokens = Tokens(secret, settings.access_token_ttl, settings.refresh_token_ttl)
        sessions = SessionService(catalog, storage.auth, tokens)
        ticket_key = derive_key(secret, "upload-tickets")
        return cls(
            settings,
            storage,
            images,
            DownloadService(catalog, catalog, storage.blobs, cache),
            TransferService(images),
            sessions,
            AccountService(catalog, sessions, images.release),
            DashboardService(catalog),
            StagedUploads(images, storage.staging, storage.uploads, ticket_key, settings),
            SiteSource(catalog, images.decode_limits),
        )

    @property
    def blob_opener(self) -> BlobsOf:
        """Opens this gallery's blob store wherever it is called: what a render worker process is handed."""
        return BlobsOf(self.settings)

    def health(self) -> list[str]:
        """What keeps this process from serving, for `/healthz` (empty: nothing): the catalog answers a read,
        and on the embedded default the data folder takes a write."""
        problems = []
        try:
            self.storage.catalog.default_profile()  # a read of one small item, on both backends
        except GalleryError as exc:
            problems.append(f"the catalog does not answer: {exc.message}")
        if self.settings.backend == "local":
            probe = self.settings.data_dir / f".health-{os.getpid()}-{threading.get_ident()}"
            try:
                probe.write_bytes(b"")
                probe.unlink()
            except OSError as exc:
                problems.append(f"the data folder takes no writes: {exc.strerror or exc}")
        return problems

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
