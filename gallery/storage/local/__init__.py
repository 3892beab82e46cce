"""The embedded backend: one SQLite file (WAL) for the catalog, the auth store and the upload ledger, and folders of
files for the bytes (content-addressed) and for staged uploads. One module a concept; `open_local` builds them."""

from __future__ import annotations

from gallery.config import Settings
from gallery.storage.local.auth import SqliteAuthStore
from gallery.storage.local.blobs import FileBlobStore
from gallery.storage.local.catalog import SqliteCatalog
from gallery.storage.local.database import SqliteDatabase
from gallery.storage.local.staging import FileStaging
from gallery.storage.local.uploads import SqliteUploadLedger
from gallery.storage.protocols import Storage


def open_local(settings: Settings) -> Storage:
    root = settings.data_dir
    # The three SQLite stores share one database, so one connection a thread rather than three (see database.py).
    db = SqliteDatabase(root / "catalog.sqlite3")
    return Storage(
        SqliteCatalog(db),
        SqliteAuthStore(db),
        SqliteUploadLedger(db),
        open_local_blobs(settings),
        FileStaging(root / "staging"),
    )


def open_local_blobs(settings: Settings) -> FileBlobStore:
    return FileBlobStore(settings.data_dir / "blobs")
