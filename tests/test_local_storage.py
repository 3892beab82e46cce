"""The local backend's own structure, beside the contract both backends pass: a store per concept that satisfies its
protocol alone (the annotations below are what mypy checks), the stores sharing one database, and an older database
file brought up to the current tables on open."""

from __future__ import annotations

import io
import sqlite3
import uuid
from pathlib import Path

import pytest

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID, Dashboard, ImageQuery, PageQuery, SubType, Tenant, TenantProfile
from gallery.files import TEMPORARY_PREFIX, write_atomically
from gallery.storage.local import open_local
from gallery.storage.local.accounts import SqliteAccounts
from gallery.storage.local.auth import SqliteAuthStore
from gallery.storage.local.blobs import FileBlobStore
from gallery.storage.local.catalog import SqliteCatalog
from gallery.storage.local.dashboards import SqliteDashboards
from gallery.storage.local.database import SqliteDatabase
from gallery.storage.local.images import SqliteImages
from gallery.storage.local.staging import FileStaging
from gallery.storage.local.uploads import SqliteUploadLedger
from gallery.storage.protocols import (
    AccountCatalog,
    AuthStore,
    BlobStore,
    Catalog,
    DashboardCatalog,
    Failures,
    ImageCatalog,
    Staging,
    UploadLedger,
)
from tests.storage_fixtures import image


def test_each_concept_is_a_store_of_its_own_on_a_shared_database(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "catalog.sqlite3")
    accounts: AccountCatalog = SqliteAccounts(db)
    images: ImageCatalog = SqliteImages(db)
    dashboards: DashboardCatalog = SqliteDashboards(db)
    auth: AuthStore = SqliteAuthStore(db)
    uploads: UploadLedger = SqliteUploadLedger(db)
    blobs: BlobStore = FileBlobStore(tmp_path / "blobs")
    staging: Staging = FileStaging(tmp_path / "staging")

    profile = TenantProfile(str(uuid.uuid4()), "Profile", created_time=1)
    accounts.insert_profile(profile)
    tenant = Tenant(str(uuid.uuid4()), "Acme", profile.id, 1)
    accounts.insert_tenant(tenant)
    row = image(tenant.id, "logo.png")
    images.insert_image(row, 0)
    dashboards.save_dashboard(Dashboard(str(uuid.uuid4()), tenant.id, "Board", None, {"img": "x"}, 1))
    auth.start_session("s", "u", "j", 2**40)
    assert uploads.open_upload(tenant.id, "u1", 2**40, 1, 0)
    blobs.put(row.etag, b"logo.png")
    assert staging.receives_posts

    # One catalog object over the same tables sees what each store wrote.
    catalog: Catalog = SqliteCatalog(db)
    assert catalog.get_image(tenant.id, "logo.png") == row
    assert catalog.list_dashboards(tenant.id, PageQuery(10, 0)).total_elements == 1
    assert catalog.usage(tenant.id) == row.size
    assert [i.resource_key for i in catalog.delete_tenant(tenant.id)] == ["logo.png"]
    assert catalog.list_dashboards(tenant.id, PageQuery(10, 0)).total_elements == 0
    catalog.close()
    auth.close()  # closing again, through another store of the same database, is harmless


def test_the_stores_of_one_storage_share_one_database_and_reconnect_after_close(tmp_path: Path) -> None:
    storage = open_local(Settings.from_env({}, data_dir=tmp_path / "data"))
    catalog, auth, uploads = storage.catalog, storage.auth, storage.uploads
    assert isinstance(catalog, SqliteCatalog)
    assert isinstance(auth, SqliteAuthStore)
    assert isinstance(uploads, SqliteUploadLedger)
    assert catalog.db is auth.db is uploads.db
    storage.close()
    assert storage.catalog.get_tenant(SYSTEM_TENANT_ID) is not None  # a closed database reconnects when used
    storage.close()


OLDER_FILE = """
CREATE TABLE tenant_profiles (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
    max_resource_size INTEGER NOT NULL DEFAULT 0, max_resources_in_bytes INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0, created_time INTEGER NOT NULL);
CREATE TABLE tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, profile_id TEXT NOT NULL,
    usage_bytes INTEGER NOT NULL DEFAULT 0, created_time INTEGER NOT NULL);
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE COLLATE NOCASE, authority TEXT NOT NULL,
    tenant_id TEXT NOT NULL, customer_id TEXT NOT NULL, password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '', last_name TEXT NOT NULL DEFAULT '', created_time INTEGER NOT NULL);
CREATE TABLE login_failures (key TEXT PRIMARY KEY, count INTEGER NOT NULL, last REAL NOT NULL);
CREATE TABLE images (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, resource_key TEXT NOT NULL, title TEXT NOT NULL,
    file_name TEXT NOT NULL, sub_type TEXT NOT NULL, public INTEGER NOT NULL, public_key TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, preview_media_type TEXT NOT NULL, preview_width INTEGER NOT NULL,
    preview_height INTEGER NOT NULL, preview_size INTEGER NOT NULL, preview_etag TEXT NOT NULL,
    created_time INTEGER NOT NULL, updated_time INTEGER NOT NULL, version INTEGER NOT NULL,
    UNIQUE (tenant_id, resource_key));
INSERT INTO images VALUES ('i', 't', 'old.png', 'Old', 'old.png', 'IMAGE', 1, 'OLDKEY', 'image/png', 1, 1, 3, 'e',
    'image/png', 1, 1, 3, 'e', 1, 1, 1);
INSERT INTO tenant_profiles (id, name, created_time) VALUES ('p', 'Profile', 1);
INSERT INTO tenants (id, name, profile_id, created_time) VALUES ('t', 'Old', 'p', 1);
INSERT INTO users (id, email, authority, tenant_id, customer_id, password_hash, created_time)
    VALUES ('u', 'old@example.com', 'TENANT_ADMIN', 't', 'c', 'hash', 1);
INSERT INTO login_failures VALUES ('old@example.com', 2, 5.0);
-- The index of titles alone that the index of every searchable text replaced.
CREATE VIRTUAL TABLE image_titles USING fts5(title, content = 'images', content_rowid = 'rowid', tokenize = 'trigram');
CREATE TRIGGER image_titles_added AFTER INSERT ON images
BEGIN INSERT INTO image_titles (rowid, title) VALUES (new.rowid, new.title); END;
"""


def test_an_older_file_gains_the_new_columns_tables_and_registry_on_open(tmp_path: Path) -> None:
    path = tmp_path / "data" / "catalog.sqlite3"
    path.parent.mkdir()
    old = sqlite3.connect(path)
    old.executescript(OLDER_FILE)
    old.close()
    storage = open_local(Settings.from_env({}, data_dir=path.parent))
    user = storage.catalog.find_user("old@example.com")
    assert user is not None
    assert (user.token_generation, user.enabled) == (0, True)
    assert storage.auth.failures("old@example.com") == Failures(2, 5.0, None)
    assert storage.uploads.open_upload("t", "u1", 2**40, 1, 0)  # a table the older file did not have
    assert storage.catalog.get_tenant(SYSTEM_TENANT_ID) is not None
    old_image = storage.catalog.get_image("t", "old.png")
    assert old_image is not None
    assert old_image.has_alpha is None  # not known for an image stored before it was recorded
    assert (old_image.alt_text, old_image.description, old_image.tags) == ("", "", ())
    storage.catalog.insert_image(image("t", "a.png", public_key="k" * 32, tags=("older",)), 0)
    for needle in ("old", "OL"):  # through the new index, and scanned
        found = storage.catalog.list_images(ImageQuery("t"), PageQuery(10, 0, text_search=needle)).data
        assert sorted(i.resource_key for i in found) == ["a.png", "old.png"]
    assert storage.catalog.tag_counts("t", SubType.IMAGE) == {"older": 1}
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master")}
    assert "image_titles" not in tables
    assert "image_titles_added" not in tables
    storage.close()

    # An image row written before the public-key registry existed is registered to its tenant on the next open.
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM public_keys")
    conn.execute("PRAGMA user_version = 0")  # as a file from before the registry is
    conn.commit()
    conn.close()
    storage = open_local(Settings.from_env({}, data_dir=path.parent))
    assert storage.catalog.public_key_owner("k" * 32) == "t"
    storage.close()


def test_the_writer_leaves_nothing_when_the_stream_is_over_its_limit(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file"
    with pytest.raises(errors.LimitExceeded):
        write_atomically(target, io.BytesIO(b"x" * 11), 10)
    assert list(target.parent.iterdir()) == []
    assert write_atomically(target, io.BytesIO(b"x" * 10), 10) == 10
    assert not any(p.name.startswith(TEMPORARY_PREFIX) for p in target.parent.iterdir())


def test_the_change_log_keeps_the_newest_ten_thousand_and_a_reader_further_behind_reads_everything(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "catalog.sqlite3")
    accounts, images = SqliteAccounts(db), SqliteImages(db)
    profile = TenantProfile(str(uuid.uuid4()), "Profile", created_time=1)
    accounts.insert_profile(profile)
    accounts.insert_tenant(Tenant("t", "Acme", profile.id, 1))
    images.insert_image(image("t", "logo.png"), 0)
    start = images.change_cursor()
    assert start is not None
    with db.write() as conn:  # 10,000 changes, as a bulk import would make them
        conn.executemany("INSERT INTO image_change_log (image_id) VALUES (?)", [(f"id-{n}",) for n in range(10_000)])
    assert db.conn().execute("SELECT count(*) FROM image_change_log").fetchone()[0] == 10_000
    assert images.changes_since(start - 1) is None  # the change that made the row is no longer in the log
    held = images.changes_since(start)  # the log reaches back exactly this far
    assert held is not None
    assert len(held.removed) == 10_000
    assert held.changed == ()
    assert held.cursor == images.change_cursor() == start + 10_000
