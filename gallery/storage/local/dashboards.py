"""Dashboards on SQLite, and which of them refer to an image (so an image in use is not deleted by mistake)."""

from __future__ import annotations

import json
from typing import Any

from gallery.domain import errors
from gallery.domain.model import Dashboard, Page, PageQuery
from gallery.storage.local.database import SqliteStore
from gallery.storage.local.rows import dashboard_from_row


class SqliteDashboards(SqliteStore):
    def save_dashboard(self, dashboard: Dashboard) -> None:
        with self.db.write() as conn:
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
        return self.db.one(
            "SELECT * FROM dashboards WHERE tenant_id = ? AND id = ?", (tenant_id, dashboard_id), dashboard_from_row
        )

    def list_dashboards(self, tenant_id: str, page: PageQuery) -> Page[Dashboard]:
        params: dict[str, Any] = {"tenant_id": tenant_id, "needle": page.text_search.casefold()}
        table = "dashboards WHERE tenant_id = :tenant_id AND instr(casefold(title), :needle) > 0"
        return self.db.page(table, params, "casefold(title), id", page, dashboard_from_row)

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        with self.db.write() as conn:
            cursor = conn.execute("DELETE FROM dashboards WHERE tenant_id = ? AND id = ?", (tenant_id, dashboard_id))
            return cursor.rowcount > 0

    def dashboards_referring(self, reference: str, tenant_id: str | None, limit: int) -> list[Dashboard]:
        # The configuration is stored as JSON text, so a string value appears quoted, with JSON escaping.
        quoted = json.dumps(reference).casefold()
        rows = (
            self.db.conn()
            .execute(
                "SELECT * FROM dashboards WHERE (:tenant_id IS NULL OR tenant_id = :tenant_id)"
                " AND (casefold(image) = :plain OR instr(casefold(configuration), :quoted) > 0)"
                " ORDER BY created_time, id LIMIT :limit",
                {"tenant_id": tenant_id, "plain": reference.casefold(), "quoted": quoted, "limit": limit},
            )
            .fetchall()
        )
        return [dashboard_from_row(r) for r in rows]
