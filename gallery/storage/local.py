"""The embedded default: SQLite (WAL) for the catalog and a folder of content-addressed files for the bytes.

Writes take SQLite's write lock up front (`BEGIN IMMEDIATE`), so a usage check and the row it guards are one atomic
step even with many threads or processes. Each thread has its own connection. Blob files are written to a temporary
name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar

from gallery.domain import errors
from gallery.domain.model import (
    SORT_PROPERTIES,
    SYSTEM_TENANT_ID,
    Authority,
    Dashboard,
    Descriptor,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    SortOrder,
    SubType,
    Tenant,
    TenantProfile,
    User,
)
from gallery.storage.sqlite import SqliteDatabase, translated
from gallery.storage.staging_names import checked_staging_name, is_staging_name, nothing_staged

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS tenant_profiles (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    max_resource_size INTEGER NOT NULL DEFAULT 0,
    max_resources_in_bytes INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    profile_id TEXT NOT NULL REFERENCES tenant_profiles(id),
    usage_bytes INTEGER NOT NULL DEFAULT 0 CHECK (usage_bytes >= 0),
    created_time INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE COLLATE NOCASE,
    authority TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    created_time INTEGER NOT NULL,
    token_generation INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS users_by_tenant ON users (tenant_id, email);
CREATE TABLE IF NOT EXISTS images (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    resource_key TEXT NOT NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sub_type TEXT NOT NULL,
    public INTEGER NOT NULL,
    public_key TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    preview_media_type TEXT NOT NULL,
    preview_width INTEGER NOT NULL,
    preview_height INTEGER NOT NULL,
    preview_size INTEGER NOT NULL,
    preview_etag TEXT NOT NULL,
    created_time INTEGER NOT NULL,
    updated_time INTEGER NOT NULL,
    version INTEGER NOT NULL,
    UNIQUE (tenant_id, resource_key)
);
CREATE TABLE IF NOT EXISTS dashboards (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    title TEXT NOT NULL,
    image TEXT,
    configuration TEXT NOT NULL,
    created_time INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS dashboards_by_tenant ON dashboards (tenant_id, title);
-- Every public key ever used, and the tenant it belongs to for good: a deleted image's link is never anyone else's.
CREATE TABLE IF NOT EXISTS public_keys (
    public_key TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS images_by_created ON images (tenant_id, sub_type, created_time, id);
CREATE INDEX IF NOT EXISTS images_by_etag ON images (etag);
CREATE INDEX IF NOT EXISTS images_by_preview_etag ON images (preview_etag);
"""

TEMPORARY_PREFIX = ".tmp-"  # a file being written; an old one was left by a crash (`gallery gc` removes it)

# Columns added to `users` after its first release: older databases gain them on open.
_USER_COLUMNS_SINCE = {"token_generation": "INTEGER NOT NULL DEFAULT 0", "enabled": "INTEGER NOT NULL DEFAULT 1"}

# Title order is for people: case-folded, so "apple" and "Banana" sort as a person expects.
_SORT_COLUMNS = {
    "createdTime": "i.created_time",
    "title": "casefold(i.title)",
    "name": "casefold(i.title)",
    "resourceKey": "i.resource_key",
    "fileName": "casefold(i.file_name)",
    "resourceType": "'IMAGE'",
    "resourceSubType": "i.sub_type",
    "tenantId": "i.tenant_id",
    "size": "i.size",
}
assert set(_SORT_COLUMNS) == SORT_PROPERTIES

_ETAG = re.compile(r"^[0-9a-f]{64}$")


def _image_from_row(row: sqlite3.Row) -> ImageInfo:
    return ImageInfo(
        id=row["id"],
        tenant_id=row["tenant_id"],
        resource_key=row["resource_key"],
        title=row["title"],
        file_name=row["file_name"],
        sub_type=SubType(row["sub_type"]),
        public=bool(row["public"]),
        public_key=row["public_key"],
        original=Descriptor(row["media_type"], row["width"], row["height"], row["size"], row["etag"]),
        preview=Descriptor(
            row["preview_media_type"],
            row["preview_width"],
            row["preview_height"],
            row["preview_size"],
            row["preview_etag"],
        ),
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        version=row["version"],
    )


def _image_params(image: ImageInfo) -> dict[str, Any]:
    return {
        "id": image.id,
        "tenant_id": image.tenant_id,
        "resource_key": image.resource_key,
        "title": image.title,
        "file_name": image.file_name,
        "sub_type": image.sub_type.value,
        "public": int(image.public),
        "public_key": image.public_key,
        "media_type": image.original.media_type,
        "width": image.original.width,
        "height": image.original.height,
        "size": image.original.size,
        "etag": image.original.etag,
        "preview_media_type": image.preview.media_type,
        "preview_width": image.preview.width,
        "preview_height": image.preview.height,
        "preview_size": image.preview.size,
        "preview_etag": image.preview.etag,
        "created_time": image.created_time,
        "updated_time": image.updated_time,
        "version": image.version,
    }


_IMAGE_COLUMNS = [
    "id",
    "tenant_id",
    "resource_key",
    "title",
    "file_name",
    "sub_type",
    "public",
    "public_key",
    "media_type",
    "width",
    "height",
    "size",
    "etag",
    "preview_media_type",
    "preview_width",
    "preview_height",
    "preview_size",
    "preview_etag",
    "created_time",
    "updated_time",
    "version",
]


def _dashboard_from_row(row: sqlite3.Row) -> Dashboard:
    return Dashboard(
        id=row["id"],
        tenant_id=row["tenant_id"],
        title=row["title"],
        image=row["image"],
        configuration=json.loads(row["configuration"]),
        created_time=row["created_time"],
    )


def _profile_from_row(row: sqlite3.Row) -> TenantProfile:
    return TenantProfile(
        id=row["id"],
        name=row["name"],
        max_resource_size=row["max_resource_size"],
        max_resources_in_bytes=row["max_resources_in_bytes"],
        is_default=bool(row["is_default"]),
        created_time=row["created_time"],
    )


def _tenant_from_row(row: sqlite3.Row) -> Tenant:
    return Tenant(id=row["id"], name=row["name"], profile_id=row["profile_id"], created_time=row["created_time"])


def _user_from_row(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        authority=Authority(row["authority"]),
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        password_hash=row["password_hash"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        created_time=row["created_time"],
        token_generation=row["token_generation"],
        enabled=bool(row["enabled"]),
    )


class SqliteCatalog(SqliteDatabase):
    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)
        self.add_missing_columns("users", _USER_COLUMNS_SINCE)
        with self.write() as conn:  # databases from before the registry: the keys in use are registered as held
            conn.execute("INSERT OR IGNORE INTO public_keys SELECT public_key, tenant_id FROM images")
        self._ensure_system_tenant()

    def _ensure_system_tenant(self) -> None:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM tenants WHERE id = ?", (SYSTEM_TENANT_ID,)).fetchone():
                return
            conn.execute(
                "INSERT OR IGNORE INTO tenant_profiles (id, name, created_time) VALUES (?, ?, 0)",
                (SYSTEM_TENANT_ID, "System"),
            )
            conn.execute(
                "INSERT INTO tenants (id, name, profile_id, created_time) VALUES (?, ?, ?, 0)",
                (SYSTEM_TENANT_ID, "System", SYSTEM_TENANT_ID),
            )

    # --- images -------------------------------------------------------------------------------------------------
    def get_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        return self.one(
            "SELECT * FROM images WHERE tenant_id = ? AND resource_key = ?", (tenant_id, key), _image_from_row
        )

    def find_public_image(self, public_key: str) -> ImageInfo | None:
        return self.one("SELECT * FROM images WHERE public_key = ?", (public_key,), _image_from_row)

    def insert_image(self, image: ImageInfo, max_total: int) -> None:
        with self.write() as conn:
            taken = conn.execute(
                "SELECT 1 FROM images WHERE tenant_id = ? AND resource_key = ?",
                (image.tenant_id, image.resource_key),
            ).fetchone()
            if taken:
                raise errors.KeyTaken()
            self._charge(conn, image.tenant_id, image.size, max_total)
            self._hold_public_key(conn, image)
            columns = ", ".join(_IMAGE_COLUMNS)
            values = ", ".join(f":{c}" for c in _IMAGE_COLUMNS)
            conn.execute(f"INSERT INTO images ({columns}) VALUES ({values})", _image_params(image))  # noqa: S608

    def update_image(self, image: ImageInfo, expected_version: int, max_total: int) -> None:
        with self.write() as conn:
            row = conn.execute(
                "SELECT version, size FROM images WHERE tenant_id = ? AND resource_key = ?",
                (image.tenant_id, image.resource_key),
            ).fetchone()
            if row is None:
                raise errors.NotFound()
            if row["version"] != expected_version:
                raise errors.Conflict()
            self._charge(conn, image.tenant_id, image.size - row["size"], max_total)
            self._hold_public_key(conn, image)
            assignments = ", ".join(f"{c} = :{c}" for c in _IMAGE_COLUMNS if c not in {"id", "tenant_id"})
            conn.execute(
                f"UPDATE images SET {assignments} WHERE tenant_id = :tenant_id AND resource_key = :resource_key",  # noqa: S608
                _image_params(image),
            )

    def delete_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        with self.write() as conn:
            row = conn.execute(
                "DELETE FROM images WHERE tenant_id = ? AND resource_key = ? RETURNING *", (tenant_id, key)
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE tenants SET usage_bytes = usage_bytes - ? WHERE id = ?", (row["size"], tenant_id))
            return _image_from_row(row)

    @staticmethod
    def _hold_public_key(conn: sqlite3.Connection, image: ImageInfo) -> None:
        conn.execute(
            "INSERT OR IGNORE INTO public_keys (public_key, tenant_id) VALUES (?, ?)",
            (image.public_key, image.tenant_id),
        )
        owner = conn.execute("SELECT tenant_id FROM public_keys WHERE public_key = ?", (image.public_key,)).fetchone()
        if owner["tenant_id"] != image.tenant_id:
            raise errors.AlreadyExists("Public resource key already exists")

    def public_key_owner(self, public_key: str) -> str | None:
        return self.one("SELECT tenant_id FROM public_keys WHERE public_key = ?", (public_key,), lambda r: r[0])

    @staticmethod
    def _charge(conn: sqlite3.Connection, tenant_id: str, delta: int, max_total: int) -> None:
        row = conn.execute("SELECT usage_bytes FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        if row is None:
            raise errors.BadRequest("Resource is referencing to non-existent tenant!")
        if delta > 0 and max_total > 0 and row["usage_bytes"] + delta > max_total:
            raise errors.resources_total_too_big(max_total)
        conn.execute("UPDATE tenants SET usage_bytes = usage_bytes + ? WHERE id = ?", (delta, tenant_id))

    def list_images(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        where = ["i.sub_type = :sub_type"]
        params: dict[str, Any] = {"tenant_id": scope.tenant_id, "sub_type": scope.sub_type.value}
        if scope.include_system and scope.tenant_id != SYSTEM_TENANT_ID:
            # A tenant image shadows the system image with the same key.
            where.append(
                "(i.tenant_id = :tenant_id OR (i.tenant_id = :system AND NOT EXISTS ("
                "SELECT 1 FROM images s WHERE s.tenant_id = :tenant_id AND s.resource_key = i.resource_key)))"
            )
            params["system"] = SYSTEM_TENANT_ID
        else:
            where.append("i.tenant_id = :tenant_id")
        if page.text_search:
            where.append("instr(casefold(i.title), :needle) > 0")
            params["needle"] = page.text_search.casefold()
        column = _SORT_COLUMNS[page.sort_property] if page.sort_property else "i.created_time"
        direction = "DESC" if page.sort_order is SortOrder.DESC else "ASC"
        table = f"images i WHERE {' AND '.join(where)}"
        return self.page(table, params, f"{column} {direction}, i.id ASC", page, _image_from_row)

    def blob_in_use(self, etag: str) -> bool:
        row = (
            self.conn()
            .execute(
                "SELECT EXISTS (SELECT 1 FROM images WHERE etag = :e) OR EXISTS "
                "(SELECT 1 FROM images WHERE preview_etag = :e)",
                {"e": etag},
            )
            .fetchone()
        )
        return bool(row[0])

    def usage(self, tenant_id: str) -> int:
        row = self.conn().execute("SELECT usage_bytes FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        return 0 if row is None else int(row[0])

    # --- dashboards ---------------------------------------------------------------------------------------------
    def save_dashboard(self, dashboard: Dashboard) -> None:
        with self.write() as conn:
            owner = conn.execute("SELECT tenant_id FROM dashboards WHERE id = ?", (dashboard.id,)).fetchone()
            if owner is not None and owner["tenant_id"] != dashboard.tenant_id:
                raise errors.NotFound()
            conn.execute(
                "INSERT INTO dashboards (id, tenant_id, title, image, configuration, created_time)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
                " image = excluded.image, configuration = excluded.configuration",
                (
                    dashboard.id,
                    dashboard.tenant_id,
                    dashboard.title,
                    dashboard.image,
                    json.dumps(dashboard.configuration),
                    dashboard.created_time,
                ),
            )

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> Dashboard | None:
        return self.one(
            "SELECT * FROM dashboards WHERE tenant_id = ? AND id = ?", (tenant_id, dashboard_id), _dashboard_from_row
        )

    def list_dashboards(self, tenant_id: str, page: PageQuery) -> Page[Dashboard]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "needle": page.text_search.casefold()}
        table = "dashboards WHERE tenant_id = :tenant_id AND instr(casefold(title), :needle) > 0"
        return self.page(table, params, "casefold(title), id", page, _dashboard_from_row)

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        with self.write() as conn:
            cursor = conn.execute("DELETE FROM dashboards WHERE tenant_id = ? AND id = ?", (tenant_id, dashboard_id))
            return cursor.rowcount > 0

    def dashboards_referring(self, reference: str, tenant_id: str | None, limit: int) -> list[Dashboard]:
        # The configuration is stored as JSON text, so a string value appears quoted, with JSON escaping.
        quoted = json.dumps(reference).casefold()
        rows = (
            self.conn()
            .execute(
                "SELECT * FROM dashboards WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id)"
                " AND (casefold(image) = :plain OR instr(casefold(configuration), :quoted) > 0)"
                " ORDER BY created_time, id LIMIT :limit",
                {"tenant_id": tenant_id, "plain": reference.casefold(), "quoted": quoted, "limit": limit},
            )
            .fetchall()
        )
        return [_dashboard_from_row(r) for r in rows]

    # --- tenant profiles ----------------------------------------------------------------------------------------
    def insert_profile(self, profile: TenantProfile) -> None:
        with self.write() as conn:
            if profile.is_default:
                conn.execute("UPDATE tenant_profiles SET is_default = 0")
            conn.execute(
                "INSERT INTO tenant_profiles (id, name, max_resource_size, max_resources_in_bytes, is_default,"
                " created_time) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    profile.id,
                    profile.name,
                    profile.max_resource_size,
                    profile.max_resources_in_bytes,
                    int(profile.is_default),
                    profile.created_time,
                ),
            )

    def update_profile(self, profile: TenantProfile) -> None:
        with self.write() as conn:
            if profile.is_default:
                conn.execute("UPDATE tenant_profiles SET is_default = 0")
            cursor = conn.execute(
                "UPDATE tenant_profiles SET name = ?, max_resource_size = ?, max_resources_in_bytes = ?,"
                " is_default = ? WHERE id = ?",
                (
                    profile.name,
                    profile.max_resource_size,
                    profile.max_resources_in_bytes,
                    int(profile.is_default),
                    profile.id,
                ),
            )
            if cursor.rowcount == 0:
                raise errors.NotFound()

    def get_profile(self, profile_id: str) -> TenantProfile | None:
        return self.one("SELECT * FROM tenant_profiles WHERE id = ?", (profile_id,), _profile_from_row)

    def default_profile(self) -> TenantProfile | None:
        return self.one("SELECT * FROM tenant_profiles WHERE is_default = 1", (), _profile_from_row)

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]:
        params: dict[str, Any] = {"system": SYSTEM_TENANT_ID, "needle": page.text_search.casefold()}
        table = "tenant_profiles WHERE id != :system AND instr(casefold(name), :needle) > 0"
        return self.page(table, params, "casefold(name), id", page, _profile_from_row)

    def delete_profile(self, profile_id: str) -> bool:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM tenants WHERE profile_id = ?", (profile_id,)).fetchone():
                raise errors.Conflict("The tenant profile is in use by a tenant")
            return conn.execute("DELETE FROM tenant_profiles WHERE id = ?", (profile_id,)).rowcount > 0

    # --- tenants ------------------------------------------------------------------------------------------------
    def insert_tenant(self, tenant: Tenant) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO tenants (id, name, profile_id, created_time) VALUES (?, ?, ?, ?)",
                (tenant.id, tenant.name, tenant.profile_id, tenant.created_time),
            )

    def update_tenant(self, tenant: Tenant) -> None:
        with self.write() as conn:
            cursor = conn.execute(
                "UPDATE tenants SET name = ?, profile_id = ? WHERE id = ?",
                (tenant.name, tenant.profile_id, tenant.id),
            )
            if cursor.rowcount == 0:
                raise errors.NotFound()

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self.one("SELECT * FROM tenants WHERE id = ?", (tenant_id,), _tenant_from_row)

    def find_tenant(self, name: str) -> Tenant | None:
        return self.one("SELECT * FROM tenants WHERE name = ?", (name,), _tenant_from_row)

    def list_tenants(self, page: PageQuery) -> Page[Tenant]:
        params: dict[str, Any] = {"system": SYSTEM_TENANT_ID, "needle": page.text_search.casefold()}
        table = "tenants WHERE id != :system AND instr(casefold(name), :needle) > 0"
        return self.page(table, params, "casefold(name), id", page, _tenant_from_row)

    def delete_tenant(self, tenant_id: str) -> list[ImageInfo]:
        with self.write() as conn:
            rows = conn.execute("DELETE FROM images WHERE tenant_id = ? RETURNING *", (tenant_id,)).fetchall()
            conn.execute("DELETE FROM users WHERE tenant_id = ?", (tenant_id,))
            conn.execute("DELETE FROM dashboards WHERE tenant_id = ?", (tenant_id,))
            if conn.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,)).rowcount == 0:
                raise errors.NotFound()
            return [_image_from_row(r) for r in rows]

    # --- users --------------------------------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM users WHERE email = ?", (user.email,)).fetchone():
                raise errors.AlreadyExists(f"User with email '{user.email}' already present in database!")
            conn.execute(
                "INSERT INTO users (id, email, authority, tenant_id, customer_id, password_hash, first_name,"
                " last_name, created_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.email,
                    user.authority.value,
                    user.tenant_id,
                    user.customer_id,
                    user.password_hash,
                    user.first_name,
                    user.last_name,
                    user.created_time,
                ),
            )

    def change_user(
        self, user_id: str, *, password_hash: str | None = None, enabled: bool | None = None
    ) -> User | None:
        with self.write() as conn:
            row = conn.execute(
                "UPDATE users SET token_generation = token_generation + 1,"
                " password_hash = coalesce(:hash, password_hash), enabled = coalesce(:enabled, enabled)"
                " WHERE id = :id RETURNING *",
                {"id": user_id, "hash": password_hash, "enabled": None if enabled is None else int(enabled)},
            ).fetchone()
        return None if row is None else _user_from_row(row)

    def get_user(self, user_id: str) -> User | None:
        return self.one("SELECT * FROM users WHERE id = ?", (user_id,), _user_from_row)

    def find_user(self, email: str) -> User | None:
        return self.one("SELECT * FROM users WHERE email = ?", (email,), _user_from_row)

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "needle": page.text_search.casefold()}
        table = "users WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id) AND instr(casefold(email), :needle) > 0"
        return self.page(table, params, "email, id", page, _user_from_row)

    def delete_user(self, user_id: str) -> bool:
        with self.write() as conn:
            return conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount > 0

    def has_users(self) -> bool:
        return self.conn().execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


class FileBlobStore:
    """Bytes at `<root>/aa/bb/<sha256>`: a fixed fan-out keeps directories small."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, etag: str) -> Path:
        # Addresses are computed by us, but a path is built from nothing unvalidated.
        if not _ETAG.match(etag):
            raise errors.NotFound()
        return self.root / etag[:2] / etag[2:4] / etag

    def put(self, etag: str, data: bytes) -> None:
        path = self._path(etag)
        if path.exists():
            return
        _write_atomically(path, io.BytesIO(data), len(data))

    def open(self, etag: str) -> BinaryIO:
        try:
            return self._path(etag).open("rb")
        except FileNotFoundError as exc:
            raise errors.NotFound() from exc

    def exists(self, etag: str) -> bool:
        return self._path(etag).is_file()

    def delete(self, etag: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(etag).unlink()

    def etags(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if _ETAG.match(path.name):
                yield path.name

    def remove_leftovers(self, before: float) -> int:
        return _remove_leftovers(self.root.glob(f"??/??/{TEMPORARY_PREFIX}*"), before)

    def download_url(self, etag: str, headers: Mapping[str, str], expires_in: int) -> str | None:
        return None  # no payload limit to dodge: the app streams the file itself


def _remove_leftovers(paths: Iterator[Path], before: float) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < before:  # a newer one may be a write in progress
                path.unlink()
                removed += 1
    return removed


def _write_atomically(path: Path, stream: IO[bytes], limit: int) -> int:
    """Copy `stream` to `path` through a temporary file and a rename, so a reader never sees half a file.
    Raises `LimitExceeded` (writing nothing) if the stream holds more than `limit` bytes, and `InsufficientStorage`
    (writing nothing either) when the disk is full."""
    with translated():  # ENOSPC, wherever the disk fills up, is a 507 and leaves no temporary file behind
        return _write_file(path, stream, limit)


def _write_file(path: Path, stream: IO[bytes], limit: int) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            written = 0
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise errors.resource_too_big(limit)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return written


class FileStaging:
    """Large uploads on the local backend: the client POSTs the same form it would send to S3, to the gallery's
    own endpoint, which checks the signed ticket and writes `<root>/<tenant>/<upload>` here."""

    receives_posts = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / checked_staging_name(name)

    def post_form(self, name: str, max_size: int, expires_in: int, ticket: str) -> tuple[str, dict[str, str]]:
        return "", {"ticket": ticket}

    def store(self, name: str, stream: IO[bytes], max_size: int) -> int:
        return _write_atomically(self._path(name), stream, max_size)

    def read(self, name: str, limit: int) -> bytes:
        path = self._path(name)
        try:
            with path.open("rb") as staged:
                data = staged.read(limit + 1)
        except FileNotFoundError:
            raise nothing_staged() from None
        if len(data) > limit:
            raise errors.resource_too_big(limit)
        return data

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def remove_leftovers(self, before: float) -> int:
        return _remove_leftovers(self.root.glob(f"*/{TEMPORARY_PREFIX}*"), before)

    def staged_before(self, cutoff: float, tenant_id: str | None = None) -> Iterator[str]:
        if tenant_id is not None and not is_staging_name(f"{tenant_id}/{'0' * 32}"):
            return  # a tenant id is a UUID: anything else names no folder of ours
        for path in self.root.glob(f"{tenant_id or '*'}/*"):
            name = f"{path.parent.name}/{path.name}"
            with contextlib.suppress(FileNotFoundError):
                if is_staging_name(name) and path.stat().st_mtime < cutoff:
                    yield name
