"""Tenant profiles, tenants and users on SQLite. The system tenant (and its profile) exists from the first open:
system images are charged to it like any tenant's."""

from __future__ import annotations

from typing import Any

from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID, ImageInfo, Page, PageQuery, Tenant, TenantProfile, User
from gallery.storage.local.database import SqliteDatabase, SqliteStore
from gallery.storage.local.rows import image_from_row, profile_from_row, tenant_from_row, user_from_row


class SqliteAccounts(SqliteStore):
    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db)
        with self.db.write() as conn:
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

    # --- tenant profiles ----------------------------------------------------------------------------------------
    def insert_profile(self, profile: TenantProfile) -> None:
        with self.db.write() as conn:
            if profile.is_default:
                conn.execute("UPDATE tenant_profiles SET is_default = 0")
            conn.execute(
                "INSERT INTO tenant_profiles (id, name, max_resource_size, max_resources_in_bytes, is_default,"
                " created_time, public_metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    profile.id,
                    profile.name,
                    profile.max_resource_size,
                    profile.max_resources_in_bytes,
                    int(profile.is_default),
                    profile.created_time,
                    int(profile.public_metadata),
                ),
            )

    def update_profile(self, profile: TenantProfile) -> None:
        with self.db.write() as conn:
            if profile.is_default:
                conn.execute("UPDATE tenant_profiles SET is_default = 0")
            cursor = conn.execute(
                "UPDATE tenant_profiles SET name = ?, max_resource_size = ?, max_resources_in_bytes = ?,"
                " is_default = ?, public_metadata = ? WHERE id = ?",
                (
                    profile.name,
                    profile.max_resource_size,
                    profile.max_resources_in_bytes,
                    int(profile.is_default),
                    int(profile.public_metadata),
                    profile.id,
                ),
            )
            if cursor.rowcount == 0:
                raise errors.NotFound()

    def get_profile(self, profile_id: str) -> TenantProfile | None:
        return self.db.one("SELECT * FROM tenant_profiles WHERE id = ?", (profile_id,), profile_from_row)

    def default_profile(self) -> TenantProfile | None:
        return self.db.one("SELECT * FROM tenant_profiles WHERE is_default = 1", (), profile_from_row)

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]:
        params: dict[str, Any] = {"system": SYSTEM_TENANT_ID, "needle": page.text_search.casefold()}
        table = "tenant_profiles WHERE id != :system AND instr(casefold(name), :needle) > 0"
        return self.db.page(table, params, "casefold(name), id", page, profile_from_row)

    def delete_profile(self, profile_id: str) -> bool:
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM tenants WHERE profile_id = ?", (profile_id,)).fetchone():
                raise errors.Conflict("The tenant profile is in use by a tenant")
            return conn.execute("DELETE FROM tenant_profiles WHERE id = ?", (profile_id,)).rowcount > 0

    # --- tenants ------------------------------------------------------------------------------------------------
    def insert_tenant(self, tenant: Tenant) -> None:
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO tenants (id, name, profile_id, created_time) VALUES (?, ?, ?, ?)",
                (tenant.id, tenant.name, tenant.profile_id, tenant.created_time),
            )

    def update_tenant(self, tenant: Tenant) -> None:
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE tenants SET name = ?, profile_id = ? WHERE id = ?",
                (tenant.name, tenant.profile_id, tenant.id),
            )
            if cursor.rowcount == 0:
                raise errors.NotFound()

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        return self.db.one("SELECT * FROM tenants WHERE id = ?", (tenant_id,), tenant_from_row)

    def find_tenant(self, name: str) -> Tenant | None:
        return self.db.one("SELECT * FROM tenants WHERE name = ?", (name,), tenant_from_row)

    def list_tenants(self, page: PageQuery) -> Page[Tenant]:
        params: dict[str, Any] = {"system": SYSTEM_TENANT_ID, "needle": page.text_search.casefold()}
        table = "tenants WHERE id != :system AND instr(casefold(name), :needle) > 0"
        return self.db.page(table, params, "casefold(name), id", page, tenant_from_row)

    def delete_tenant(self, tenant_id: str) -> list[ImageInfo]:
        # The images' and dashboards' tables too, in this one transaction: a tenant is never gone with rows of it
        # left behind, nor half emptied and still there (the protocol promises the local backend one write).
        with self.db.write() as conn:
            rows = conn.execute("DELETE FROM images WHERE tenant_id = ? RETURNING *", (tenant_id,)).fetchall()
            conn.execute("DELETE FROM users WHERE tenant_id = ?", (tenant_id,))
            conn.execute("DELETE FROM dashboards WHERE tenant_id = ?", (tenant_id,))
            if conn.execute("DELETE FROM tenants WHERE id = ?", (tenant_id,)).rowcount == 0:
                raise errors.NotFound()
            return [image_from_row(r) for r in rows]

    # --- users --------------------------------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        with self.db.write() as conn:
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
        with self.db.write() as conn:
            row = conn.execute(
                "UPDATE users SET token_generation = token_generation + 1,"
                " password_hash = coalesce(:hash, password_hash), enabled = coalesce(:enabled, enabled)"
                " WHERE id = :id RETURNING *",
                {"id": user_id, "hash": password_hash, "enabled": None if enabled is None else int(enabled)},
            ).fetchone()
        return None if row is None else user_from_row(row)

    def get_user(self, user_id: str) -> User | None:
        return self.db.one("SELECT * FROM users WHERE id = ?", (user_id,), user_from_row)

    def find_user(self, email: str) -> User | None:
        return self.db.one("SELECT * FROM users WHERE email = ?", (email,), user_from_row)

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "needle": page.text_search.casefold()}
        table = "users WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id) AND instr(casefold(email), :needle) > 0"
        return self.db.page(table, params, "email, id", page, user_from_row)

    def delete_user(self, user_id: str) -> bool:
        with self.db.write() as conn:
            return conn.execute("DELETE FROM users WHERE id = ?", (user_id,)).rowcount > 0

    def has_users(self) -> bool:
        return self.db.conn().execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None
