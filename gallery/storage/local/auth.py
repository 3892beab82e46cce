"""Sessions and failed sign-ins on the local backend: two tables in the SQLite file the catalog uses too."""

from __future__ import annotations

import sqlite3
import time

from gallery.storage.local.database import SqliteStore
from gallery.storage.protocols import Failures


def _failures(row: sqlite3.Row) -> Failures:
    return Failures(row["count"], row["last"], row["previous"])


class SqliteAuthStore(SqliteStore):
    def start_session(self, session_id: str, user_id: str, jti: str, expires_at: int) -> None:
        with self.db.write() as conn:
            # Sessions past their refresh token's life go as new ones start: the table stays as big as it is live.
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (int(time.time()),))
            conn.execute(
                "INSERT INTO sessions (id, user_id, jti, expires_at) VALUES (?, ?, ?, ?)",
                (session_id, user_id, jti, expires_at),
            )

    def rotate_session(self, session_id: str, spent_jti: str, new_jti: str, expires_at: int) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE sessions SET jti = ?, expires_at = ? WHERE id = ? AND jti = ?",
                (new_jti, expires_at, session_id, spent_jti),
            ).rowcount
        return changed == 1

    def end_session(self, session_id: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))

    def failures(self, key: str) -> Failures | None:
        return self.db.one("SELECT count, last, previous FROM login_failures WHERE key = ?", (key,), _failures)

    def add_failure(self, key: str, now: float, forget_after: float) -> Failures:
        cutoff = now - forget_after
        with self.db.write() as conn:
            # Counts nobody adds to any more go (the unknown e-mails of a spray, say): the table stays small.
            conn.execute("DELETE FROM login_failures WHERE last < ? AND key != ?", (cutoff, key))
            # An UPDATE reads the old row on every right-hand side: `previous` gets the `last` being replaced.
            row = conn.execute(
                "INSERT INTO login_failures (key, count, last) VALUES (:key, 1, :now) ON CONFLICT (key) DO UPDATE"
                " SET count = CASE WHEN last < :cutoff THEN 1 ELSE count + 1 END,"
                " previous = CASE WHEN last < :cutoff THEN NULL ELSE last END, last = :now"
                " RETURNING count, last, previous",
                {"key": key, "now": now, "cutoff": cutoff},
            ).fetchone()
        return _failures(row)

    def forgive_failure(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute("UPDATE login_failures SET count = max(count - 1, 0) WHERE key = ?", (key,))

    def clear_failures(self, key: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))
