"""The large uploads a tenant has open, on the local backend: a table in the SQLite file the catalog uses too."""

from __future__ import annotations

from gallery.storage.local.database import SqliteStore


class SqliteUploadLedger(SqliteStore):
    def open_upload(self, tenant_id: str, upload: str, expires_at: int, most: int, now: int) -> bool:
        with self.db.write() as conn:
            # A finished upload stays until its ticket expires, so that its form cannot be used again.
            conn.execute("DELETE FROM staged_uploads WHERE tenant_id = ? AND expires_at < ?", (tenant_id, now))
            (open_now,) = conn.execute(
                "SELECT count(*) FROM staged_uploads WHERE tenant_id = ? AND finished = 0", (tenant_id,)
            ).fetchone()
            if open_now >= most:
                return False
            conn.execute(
                "INSERT INTO staged_uploads (upload, tenant_id, expires_at) VALUES (?, ?, ?)",
                (upload, tenant_id, expires_at),
            )
        return True

    def is_open(self, tenant_id: str, upload: str, now: int) -> bool:
        found = self.db.one(
            "SELECT 1 FROM staged_uploads WHERE upload = ? AND tenant_id = ? AND finished = 0 AND expires_at >= ?",
            (upload, tenant_id, now),
            lambda row: True,
        )
        return bool(found)

    def claim_upload(self, tenant_id: str, upload: str, now: int) -> bool:
        with self.db.write() as conn:
            claimed = conn.execute(
                "UPDATE staged_uploads SET finished = 1"
                " WHERE upload = ? AND tenant_id = ? AND finished = 0 AND expires_at >= ?",
                (upload, tenant_id, now),
            ).rowcount
        return claimed == 1
