"""Image rows on SQLite, with the tenant usage they add up to and the public keys they hold.

Each write is one `BEGIN IMMEDIATE` transaction that also moves the tenant's usage with the ceiling checked inside
it and registers the public key, so a usage check and the row it guards are one atomic step even with many threads
or processes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from gallery.domain import errors
from gallery.domain.model import (
    SORT_PROPERTIES,
    SYSTEM_TENANT_ID,
    ImageChanges,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    SortOrder,
    SubType,
)
from gallery.storage.local.database import SqliteStore
from gallery.storage.local.rows import IMAGE_COLUMNS, image_from_row, image_params

# Title order is for people: case-folded, so "apple" and "Banana" sort as a person expects.
_SORT_COLUMNS = {
    "createdTime": "i.created_time",
    "title": "i.title_fold",
    "name": "i.title_fold",
    "resourceKey": "i.resource_key",
    "fileName": "casefold(i.file_name)",
    "resourceType": "'IMAGE'",
    "resourceSubType": "i.sub_type",
    "tenantId": "i.tenant_id",
    "size": "i.size",
}
assert set(_SORT_COLUMNS) == SORT_PROPERTIES


_CHUNK = 1000  # rows per read of `every_image`
_INDEXED_ORDERS = {"createdTime": "created_time", "title": "title_fold", "name": "title_fold"}


_NOT_SHADOWED = " AND NOT EXISTS (SELECT 1 FROM images x WHERE x.tenant_id = ? AND x.resource_key = s.resource_key)"
# Another tag the image must carry, looked up by the row's key in image_tags.
_ALSO_TAGGED = (
    " AND EXISTS (SELECT 1 FROM image_tags u WHERE u.tenant_id = t.tenant_id AND u.sub_type = t.sub_type"
    " AND u.tag = ? AND u.created_time = t.created_time AND u.id = t.id)"
)


@dataclass(frozen=True)
class _Arm:
    """One owner's part of a list: a tenant's own images, or the system's with the tenant's keys shadowing them;
    with tags, read through image_tags by the rarest of them (the others looked up for each of its rows)."""

    owner: str
    sub_type: SubType
    shadowed_by: str | None = None
    tags: tuple[str, ...] = ()

    def rarest_first(self, conn: sqlite3.Connection) -> _Arm:
        if len(self.tags) < 2:
            return self
        counts = dict(
            conn.execute(
                "SELECT tag, count FROM image_tag_counts WHERE tenant_id = ? AND sub_type = ? AND tag IN"  # noqa: S608
                f" ({', '.join('?' * len(self.tags))})",
                (self.owner, self.sub_type.value, *self.tags),
            ).fetchall()
        )
        return replace(self, tags=tuple(sorted(self.tags, key=lambda tag: counts.get(tag, 0))))

    def source(self) -> tuple[str, tuple[Any, ...], str]:
        """FROM … WHERE … for this arm's rows (as `s`), its parameters, and the alias whose index orders it."""
        shadow = (_NOT_SHADOWED, (self.shadowed_by,)) if self.shadowed_by else ("", ())
        if not self.tags:
            sql = "images s WHERE s.tenant_id = ? AND s.sub_type = ?" + shadow[0]
            return sql, (self.owner, self.sub_type.value, *shadow[1]), "s"
        sql = (
            "image_tags t JOIN images s ON s.id = t.id WHERE t.tenant_id = ? AND t.sub_type = ? AND t.tag = ?"
            + _ALSO_TAGGED * (len(self.tags) - 1)
            + shadow[0]
        )
        return sql, (self.owner, self.sub_type.value, *self.tags, *shadow[1]), "t"

    def count(self, conn: sqlite3.Connection) -> int:
        """How many rows the arm has: kept in `image_counts` or `image_tag_counts` for one owner's images or one
        tag of them, counted otherwise (the system's few images, or the rarest tag's rows for several)."""
        if self.shadowed_by is None and len(self.tags) < 2:
            table, where = ("image_tag_counts", " AND tag = ?") if self.tags else ("image_counts", "")
            row = conn.execute(
                f"SELECT count FROM {table} WHERE tenant_id = ? AND sub_type = ?{where}",  # noqa: S608
                (self.owner, self.sub_type.value, *self.tags),
            ).fetchone()
            return 0 if row is None else int(row[0])
        sql, params, _ = self.source()
        return int(conn.execute(f"SELECT count(*) FROM {sql}", params).fetchone()[0])  # noqa: S608

    def ordered(self, conn: sqlite3.Connection, column: str, descending: bool, limit: int, offset: int) -> list[Any]:
        """The arm's rows in index order (`column`, then id, both one way), `limit` of them after `offset`."""
        sql, params, alias = self.source()
        direction = "DESC" if descending else "ASC"
        return conn.execute(
            f"SELECT s.* FROM {sql} ORDER BY {alias}.{column} {direction}, {alias}.id {direction}"  # noqa: S608
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        ).fetchall()


class SqliteImages(SqliteStore):
    def get_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        return self.db.one(
            "SELECT * FROM images WHERE tenant_id = ? AND resource_key = ?", (tenant_id, key), image_from_row
        )

    def find_public_image(self, public_key: str) -> ImageInfo | None:
        return self.db.one("SELECT * FROM images WHERE public_key = ?", (public_key,), image_from_row)

    def insert_image(self, image: ImageInfo, max_total: int) -> None:
        with self.db.write() as conn:
            taken = conn.execute(
                "SELECT 1 FROM images WHERE tenant_id = ? AND resource_key = ?",
                (image.tenant_id, image.resource_key),
            ).fetchone()
            if taken:
                raise errors.KeyTaken()
            _charge(conn, image.tenant_id, image.size, max_total)
            _hold_public_key(conn, image)
            columns = ", ".join(IMAGE_COLUMNS)
            values = ", ".join(f":{c}" for c in IMAGE_COLUMNS)
            conn.execute(f"INSERT INTO images ({columns}) VALUES ({values})", image_params(image))  # noqa: S608

    def update_image(self, image: ImageInfo, expected_version: int, max_total: int) -> None:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT version, size FROM images WHERE tenant_id = ? AND resource_key = ?",
                (image.tenant_id, image.resource_key),
            ).fetchone()
            if row is None:
                raise errors.NotFound()
            if row["version"] != expected_version:
                raise errors.Conflict()
            _charge(conn, image.tenant_id, image.size - row["size"], max_total)
            _hold_public_key(conn, image)
            assignments = ", ".join(f"{c} = :{c}" for c in IMAGE_COLUMNS if c not in {"id", "tenant_id"})
            conn.execute(
                f"UPDATE images SET {assignments} WHERE tenant_id = :tenant_id AND resource_key = :resource_key",  # noqa: S608
                image_params(image),
            )

    def learn_has_alpha(self, image: ImageInfo, has_alpha: bool) -> bool:
        with self.db.write() as conn:
            changed = conn.execute(
                "UPDATE images SET has_alpha = ? WHERE tenant_id = ? AND resource_key = ? AND id = ? AND version = ?"
                " AND has_alpha IS NULL",
                (int(has_alpha), image.tenant_id, image.resource_key, image.id, image.version),
            ).rowcount
        return bool(changed)

    def delete_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        with self.db.write() as conn:
            row = conn.execute(
                "DELETE FROM images WHERE tenant_id = ? AND resource_key = ? RETURNING *", (tenant_id, key)
            ).fetchone()
            if row is None:
                return None
            # The size leaves the tenant's usage in the same write, as `_charge` adds it.
            conn.execute("UPDATE tenants SET usage_bytes = usage_bytes - ? WHERE id = ?", (row["size"], tenant_id))
            return image_from_row(row)

    def public_key_owner(self, public_key: str) -> str | None:
        return self.db.one("SELECT tenant_id FROM public_keys WHERE public_key = ?", (public_key,), lambda r: r[0])

    def list_images(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        column = _INDEXED_ORDERS.get(page.sort_property or "createdTime")
        if column is not None and not page.text_search:
            return self._indexed_page(scope, page, column)
        return self._any_page(scope, page)

    def _indexed_page(self, scope: ImageQuery, page: PageQuery, column: str) -> Page[ImageInfo]:
        """Creation or title order, no search: the total from `image_counts` or `image_tag_counts` (and the few
        system images), the rows through an index from whichever end of the list is nearer, so the last page
        costs what the first does. With system images, each owner's rows are read in order and merged here."""
        conn = self.db.conn()
        arms = [_Arm(scope.tenant_id, scope.sub_type, None, scope.tags).rarest_first(conn)]
        if scope.include_system and scope.tenant_id != SYSTEM_TENANT_ID:
            # A tenant image shadows the system one with its key.
            arms.append(_Arm(SYSTEM_TENANT_ID, scope.sub_type, scope.tenant_id, scope.tags).rarest_first(conn))
        total = sum(arm.count(conn) for arm in arms)
        if page.offset >= total:
            return Page([], total, page)
        from_end = page.offset + page.page_size / 2 > total / 2
        take = min(page.page_size, total - page.offset)
        skip = total - page.offset - take if from_end else page.offset
        descending = (page.sort_order is SortOrder.DESC) != from_end
        if len(arms) == 1:
            rows = arms[0].ordered(conn, column, descending, take, skip)
        else:
            rows = [r for arm in arms for r in arm.ordered(conn, column, descending, skip + take, 0)]
            rows.sort(key=lambda r: (r[column], r["id"]), reverse=descending)
            rows = rows[skip : skip + take]
        if from_end:
            rows.reverse()
        return Page([image_from_row(r) for r in rows], total, page)

    def _any_page(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
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
        for n, tag in enumerate(scope.tags):
            where.append(
                "EXISTS (SELECT 1 FROM image_tags t WHERE t.tenant_id = i.tenant_id AND t.sub_type = i.sub_type"  # noqa: S608
                f" AND t.tag = :tag{n} AND t.created_time = i.created_time AND t.id = i.id)"
            )
            params[f"tag{n}"] = tag
        if page.text_search:
            needle = page.text_search.casefold()
            where.append("instr(i.search_fold, :needle) > 0")
            params["needle"] = needle
            if len(needle) >= 3 and needle.isascii():
                # The trigram index finds the candidates (their number, not the tenant's size, is the cost);
                # shorter or non-ASCII needles, whose folding SQLite might do otherwise than Python, are scanned.
                # A unary + keeps SQLite from walking the tenant's index instead of looking the candidates up.
                where = [w.replace("i.tenant_id", "+i.tenant_id").replace("i.sub_type", "+i.sub_type") for w in where]
                where.insert(0, "i.rowid IN (SELECT rowid FROM image_search WHERE image_search MATCH :match)")
                params["match"] = '"' + needle.replace('"', '""') + '"'

        column = _SORT_COLUMNS[page.sort_property] if page.sort_property else "i.created_time"
        direction = "DESC" if page.sort_order is SortOrder.DESC else "ASC"
        table = f"images i WHERE {' AND '.join(where)}"
        # Ties go the list's way (id after the column, in the same direction), as DynamoDB's index orders them.
        return self.db.page(table, params, f"{column} {direction}, i.id {direction}", page, image_from_row)

    def tag_counts(self, tenant_id: str, sub_type: SubType) -> dict[str, int]:
        rows = (
            self.db.conn()
            .execute(
                "SELECT tag, count FROM image_tag_counts WHERE tenant_id = ? AND sub_type = ? ORDER BY tag",
                (tenant_id, sub_type.value),
            )
            .fetchall()
        )
        return {row["tag"]: int(row["count"]) for row in rows}

    def every_image(self, tenant_id: str, sub_type: SubType) -> Iterator[ImageInfo]:
        # In chunks by key (created time, id), each from where the last ended: no cursor held open between them.
        after: tuple[int, str] = (-1, "")
        while True:
            rows = (
                self.db.conn()
                .execute(
                    "SELECT * FROM images WHERE tenant_id = ? AND sub_type = ? AND (created_time, id) > (?, ?)"
                    " ORDER BY created_time, id LIMIT ?",
                    (tenant_id, sub_type.value, *after, _CHUNK),
                )
                .fetchall()
            )
            images = [image_from_row(row) for row in rows]
            yield from images
            if len(images) < _CHUNK:
                return
            after = (images[-1].created_time, images[-1].id)

    def blob_in_use(self, etag: str) -> bool:
        row = (
            self.db.conn()
            .execute(
                "SELECT EXISTS (SELECT 1 FROM images WHERE etag = :e)"
                " OR EXISTS (SELECT 1 FROM images WHERE preview_etag = :e)"
                " OR EXISTS (SELECT 1 FROM images WHERE public_etag = :e)",
                {"e": etag},
            )
            .fetchone()
        )
        return bool(row[0])

    def usage(self, tenant_id: str) -> int:
        row = self.db.conn().execute("SELECT usage_bytes FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
        return 0 if row is None else int(row[0])

    def change_count(self) -> int | None:
        return int(self.db.conn().execute("SELECT count FROM image_changes WHERE id = 1").fetchone()[0])

    def change_cursor(self) -> int | None:
        return int(self.db.conn().execute("SELECT coalesce(max(seq), 0) FROM image_change_log").fetchone()[0])

    def changes_since(self, cursor: int) -> ImageChanges | None:
        # One read transaction: the log's end, its start and the rows, all as of one moment.
        with self.db.snapshot() as conn:
            oldest, newest = conn.execute("SELECT min(seq), coalesce(max(seq), 0) FROM image_change_log").fetchone()
            if cursor > newest or (oldest is not None and oldest > cursor + 1):
                return None  # a cursor from another catalog, or the log was cut since
            rows = conn.execute(
                "SELECT l.image_id AS changed_id, i.* FROM"
                " (SELECT DISTINCT image_id FROM image_change_log WHERE seq > ?) l"
                " LEFT JOIN images i ON i.id = l.image_id",
                (cursor,),
            ).fetchall()
        changed = tuple(image_from_row(row) for row in rows if row["id"] is not None)
        removed = frozenset(row["changed_id"] for row in rows if row["id"] is None)
        return ImageChanges(int(newest), changed, removed)


def _hold_public_key(conn: sqlite3.Connection, image: ImageInfo) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO public_keys (public_key, tenant_id) VALUES (?, ?)",
        (image.public_key, image.tenant_id),
    )
    owner = conn.execute("SELECT tenant_id FROM public_keys WHERE public_key = ?", (image.public_key,)).fetchone()
    if owner["tenant_id"] != image.tenant_id:
        raise errors.AlreadyExists("Public resource key already exists")


def _charge(conn: sqlite3.Connection, tenant_id: str, delta: int, max_total: int) -> None:
    # Usage is kept on the tenant's row (the accounts' table) and moved in the caller's transaction: a check against
    # the ceiling and the image row it lets in must be one step, or two uploads at once could both pass it.
    row = conn.execute("SELECT usage_bytes FROM tenants WHERE id = ?", (tenant_id,)).fetchone()
    if row is None:
        raise errors.BadRequest("Resource is referencing to non-existent tenant!")
    if delta > 0 and max_total > 0 and row["usage_bytes"] + delta > max_total:
        raise errors.resources_total_too_big(max_total)
    conn.execute("UPDATE tenants SET usage_bytes = usage_bytes + ? WHERE id = ?", (delta, tenant_id))
