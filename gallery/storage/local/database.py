"""The local backend's one SQLite file, as all its stores use it: the tables of `schema.sql` (an older file gains
what it lacks on open), a connection per thread in autocommit mode (reads never hold a lock), writes that take the
write lock up front (`BEGIN IMMEDIATE`), and sqlite3's errors turned into ours. The file, and its journal files, are
for the gallery's own user only: they hold password hashes.

The catalog, the auth store and the upload ledger are `SqliteStore`s on one shared `SqliteDatabase`: one
connection a thread to the file rather than one a store. That is safe because no store calls another inside a
write: a thread never needs two transactions at once."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from gallery.domain import errors
from gallery.domain.model import Page, PageQuery

T = TypeVar("T")
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

SCHEMA = resources.files("gallery.storage.local").joinpath("schema.sql").read_text(encoding="utf-8")
# What is made from the tables (indexes on later columns, counts, the title search index): run after the columns
# an older file lacks are added, and filled from the rows the first time.
DERIVED = resources.files("gallery.storage.local").joinpath("derived.sql").read_text(encoding="utf-8")

# Columns added to a table after its first release: an older file gains them, with their defaults, on open.
COLUMNS_SINCE = {
    "users": {"token_generation": "INTEGER NOT NULL DEFAULT 0", "enabled": "INTEGER NOT NULL DEFAULT 1"},
    "login_failures": {"previous": "REAL"},
    "tenant_profiles": {"public_metadata": "INTEGER NOT NULL DEFAULT 0"},
    "images": {
        "has_alpha": "INTEGER",
        "title_fold": "TEXT",
        "alt_text": "TEXT NOT NULL DEFAULT ''",
        "description": "TEXT NOT NULL DEFAULT ''",
        "tags": "TEXT NOT NULL DEFAULT '[]'",
        "search_fold": "TEXT",
        "public_size": "INTEGER",
        "public_etag": "TEXT",
    },
}
BACKFILLED = 2  # the backfills of `_upgrade` a file has had (its user_version)


def _statements(script: str) -> list[str]:
    """A script's statements, for running them inside one transaction (`executescript` would commit first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not current:
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s]


def _casefold(value: str | None) -> str | None:
    return None if value is None else value.casefold()


def private_dir(path: Path) -> None:
    """Make `path` (and missing parents) a directory only its owner can enter."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    with contextlib.suppress(PermissionError):  # not ours to change: leave it as it is
        path.chmod(PRIVATE_DIR)


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """sqlite3's exceptions become ours, so nothing above the adapter depends on the database library."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise errors.AlreadyExists() from exc
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise errors.Unavailable() from exc
        if "disk is full" in str(exc) or "disk I/O" in str(exc):
            raise errors.InsufficientStorage() from exc
        raise


class SqliteDatabase:
    def __init__(self, path: Path) -> None:
        self.path = path
        # The folder is what keeps others out (0700). The files are made private too, by chmod only: opening and
        # closing the database file ourselves would drop every lock SQLite holds on it in this process (POSIX
        # locks are per process and file), the classic way to corrupt a database.
        private_dir(path.parent)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with translated():
            self.conn().executescript(SCHEMA)
        self._upgrade()
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                name.chmod(PRIVATE_FILE)

    def _upgrade(self) -> None:
        """What a file made by an older release lacks and `CREATE ... IF NOT EXISTS` cannot add."""
        with self.write() as conn:
            for table, columns in COLUMNS_SINCE.items():
                have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
                for name, declaration in columns.items():
                    if name not in have:
                        conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
            # Rows written by older releases, filled in once (each reads every image: not on every open). The file
            # says how far it was brought (SQLite's user_version, 0 in a new or an older file).
            backfilled = conn.execute("PRAGMA user_version").fetchone()[0]
            if backfilled < 1:
                # Files from before the public-key registry: the keys in use are registered as held.
                conn.execute("INSERT OR IGNORE INTO public_keys SELECT public_key, tenant_id FROM images")
                conn.execute("UPDATE images SET title_fold = casefold(title) WHERE title_fold IS NULL")
            if backfilled < 2:
                # Files from before alt text, descriptions and tags: what search reads is the title alone (joined
                # as ImageInfo.search_text joins it, with the empty fields after it).
                conn.execute(
                    "UPDATE images SET search_fold = casefold(title) || char(31) || char(31) WHERE search_fold IS NULL"
                )
            if backfilled < BACKFILLED:
                conn.execute(f"PRAGMA user_version = {BACKFILLED}")
            existed = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            for statement in _statements(DERIVED):
                conn.execute(statement)
            if "image_counts" not in existed:
                conn.execute(
                    "INSERT INTO image_counts (tenant_id, sub_type, count)"
                    " SELECT tenant_id, sub_type, count(*) FROM images GROUP BY tenant_id, sub_type"
                )
            if "image_search" not in existed:
                conn.execute("INSERT INTO image_search (image_search) VALUES ('rebuild')")
            if "image_tags" not in existed:
                conn.execute(
                    "INSERT INTO image_tags (tenant_id, sub_type, tag, created_time, title_fold, id)"
                    " SELECT i.tenant_id, i.sub_type, j.value, i.created_time, i.title_fold, i.id"
                    " FROM images i, json_each(i.tags) j"
                )

    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.create_function("casefold", 1, _casefold, deterministic=True)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction, taking the write lock at once (a check and the write it guards are one step)."""
        return self._transaction("BEGIN IMMEDIATE")

    def snapshot(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A read transaction: every query inside sees the database as of one moment (WAL: writers go on)."""
        return self._transaction("BEGIN")

    @contextlib.contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        with translated():
            conn.execute(begin)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Some failures (a full disk) roll the transaction back already; rolling back again would fail
                # and hide what went wrong.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def one(self, sql: str, params: Any, convert: Callable[[sqlite3.Row], T]) -> T | None:
        with translated():
            row = self.conn().execute(sql, params).fetchone()
        return None if row is None else convert(row)

    def page(
        self,
        table_sql: str,
        params: dict[str, Any],
        order: str,
        page: PageQuery,
        convert: Callable[[sqlite3.Row], T],
    ) -> Page[T]:
        with translated():
            conn = self.conn()
            total = conn.execute(f"SELECT count(*) FROM {table_sql}", params).fetchone()[0]  # noqa: S608
            rows = conn.execute(
                f"SELECT * FROM {table_sql} ORDER BY {order} LIMIT :limit OFFSET :offset",  # noqa: S608
                {**params, "limit": page.page_size, "offset": page.offset},
            ).fetchall()
        return Page([convert(r) for r in rows], total, page)

    def close(self) -> None:
        """Close every thread's connection; a thread that goes on using the database gets a new one."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class SqliteStore:
    """A store whose tables are in a `SqliteDatabase` it may share with other stores. Closing any of them closes
    the shared connections: `Storage.close` closes the stores together, and a store used after that reconnects."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    def close(self) -> None:
        self.db.close()
