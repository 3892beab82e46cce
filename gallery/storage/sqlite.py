"""One SQLite database file, as the local backend's stores use it: a connection per thread in autocommit mode (reads
never hold a lock), writes that take the write lock up front (`BEGIN IMMEDIATE`), and sqlite3's errors turned into
ours. The file, and its journal files, are for the gallery's own user only: they hold password hashes."""

from __future__ import annotations

import contextlib
import errno
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gallery.domain import errors
from gallery.domain.model import Page, PageQuery

T = TypeVar("T")
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


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
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise errors.InsufficientStorage() from exc
        raise


class SqliteDatabase:
    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        # The folder is what keeps others out (0700). The files are made private too, by chmod only: opening and
        # closing the database file ourselves would drop every lock SQLite holds on it in this process (POSIX
        # locks are per process and file), the classic way to corrupt a database.
        private_dir(path.parent)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        with translated():
            self.conn().executescript(schema)
        for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            with contextlib.suppress(FileNotFoundError, PermissionError):
                name.chmod(PRIVATE_FILE)

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

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self.conn()
        with translated():
            conn.execute("BEGIN IMMEDIATE")
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

    def add_missing_columns(self, table: str, columns: dict[str, str]) -> None:
        """Columns added since a database was made: an older file gains them (with their defaults) on open."""
        with self.write() as conn:
            have = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            for name, declaration in columns.items():
                if name not in have:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
