"""Image rows on DynamoDB (`ImageCatalog`), with the tenant usage they add up to, their public-key pointers and the
reference counts of their bytes.

Insert, update and delete are each one transaction: the row (an update conditioned on the version it was based on),
the public-key pointer, the tenant's usage `ADD` with the ceiling in its condition, and the blobs' reference counts.
Listing never scans: a page in an indexed order reads an index as far as the page's end, anything else reads the
tenant's partition projected to what filtering and sorting need; either way only the page's rows are read whole.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from gallery.domain import errors
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Descriptor,
    ImageChanges,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    SortOrder,
    SubType,
)
from gallery.storage.aws import keys
from gallery.storage.aws.grams import Postings
from gallery.storage.aws.table import Item, TableStore, dump
from gallery.storage.aws.transactions import Transaction

log = logging.getLogger("gallery.storage")
_DELETE_ATTEMPTS = 5
_QUERY_LIMIT = 1000  # items a Query request returns at most while reading ahead to a page's end
_BATCH = 100  # keys per BatchGetItem
# A window of a listing this short is read as whole rows: a Query bills what it reads whatever it returns, and the
# indexes project every attribute, so the page's rows come with it for nothing; past it, keys (fewer bytes on the
# wire), then the page's rows by key.
_WHOLE_ROWS_UP_TO = 200
_ORDER = {False: keys.INDEXES[keys.BY_CREATED], True: keys.INDEXES[keys.BY_TITLE]}  # by title? → sort attribute
# Moves on the tenant's item whenever one of its images is added or removed, or changes sub type: what a count
# kept over its set of keys was counted at.
_KEYSET = "keyset"
# On a tenant's item: every image of the tenant has its search postings (`grams.py`). Set when the tenant is made,
# or once `index_grams` has posted the images it had from before.
POSTED = "posted"
_SORT_KEYS: dict[str, Callable[[Item], Any]] = {
    "createdTime": lambda row: row["created_time"],
    "title": lambda row: row["title_fold"],
    "name": lambda row: row["title_fold"],
    "resourceKey": lambda row: row["resource_key"],
    "fileName": lambda row: row["file_name"].casefold(),
    "resourceType": lambda row: 0,
    "resourceSubType": lambda row: row["sub_type"],
    "tenantId": lambda row: row["tenant_id"],
    "size": lambda row: row["original"]["size"],
}
# What filtering and sorting a listing need of a row (the rest is read for the page's rows alone).
_SLIM = (
    "pk, sk, id, resource_key, title_fold, search_fold, tags, file_name, sub_type, tenant_id, created_time,"
    " original.size"
)


def image_item(image: ImageInfo) -> Item:
    return {
        **keys.image_fields(image),
        "kind": "image",
        "id": image.id,
        "tenant_id": image.tenant_id,
        "resource_key": image.resource_key,
        "title": image.title,
        "title_fold": image.title.casefold(),
        "file_name": image.file_name,
        "sub_type": image.sub_type.value,
        "public": image.public,
        "public_key": image.public_key,
        "original": image.original.to_json(),
        "preview": image.preview.to_json(),
        "created_time": image.created_time,
        "updated_time": image.updated_time,
        "version": image.version,
        "has_alpha": image.has_alpha,  # None (unknown, an image from before it was recorded) is left out
        "alt_text": image.alt_text,
        "description": image.description,
        "tags": list(image.tags),
        "search_fold": image.search_text,
        "public_original": image.public_original.to_json() if image.public_original else None,
    }


def image_from(item: Item) -> ImageInfo:
    return ImageInfo(
        id=item["id"],
        tenant_id=item["tenant_id"],
        resource_key=item["resource_key"],
        title=item["title"],
        file_name=item["file_name"],
        sub_type=SubType(item["sub_type"]),
        public=bool(item["public"]),
        public_key=item["public_key"],
        original=Descriptor.from_json(item["original"]),
        preview=Descriptor.from_json(item["preview"]),
        created_time=item["created_time"],
        updated_time=item["updated_time"],
        version=item["version"],
        has_alpha=None if item.get("has_alpha") is None else bool(item["has_alpha"]),
        # Items from before these were kept have none.
        alt_text=item.get("alt_text", ""),
        description=item.get("description", ""),
        tags=tuple(item.get("tags", ())),
        public_original=Descriptor.from_json(item["public_original"]) if item.get("public_original") else None,
    )


def _image_key(row: Item) -> keys.Key:
    """The image a listing's row is, or names (a tag entry)."""
    return keys.Key(row["pk"], str(row.get("image_sk", row["sk"])))


def _resource_key(row: Item) -> str:
    return _image_key(row).sk.removeprefix(keys.IMAGES)


def _search_text(row: Item) -> str:
    return str(row.get("search_fold", row["title_fold"]))  # an item from before search_fold: its title


def _charge(tx: Transaction, tenant_id: str, delta: int, max_total: int, counts: dict[str, int]) -> None:
    """Move the tenant's usage (and image counts) by `delta`, refusing to pass a positive `max_total`."""
    names = {f"#n{i}": f"n_{sub}" for i, sub in enumerate(counts)}
    values: Item = {":delta": delta, **{f":c{i}": n for i, n in enumerate(counts.values())}}
    expression = "ADD #u :delta" + "".join(f", #n{i} :c{i}" for i in range(len(counts)))
    names["#u"] = "usage"
    if counts:  # its set of keys moved
        expression += ", #k :one"
        names["#k"] = _KEYSET
        values[":one"] = 1
    condition = "attribute_exists(pk)"
    failure: errors.GalleryError = errors.BadRequest("Resource is referencing to non-existent tenant!")
    if delta > 0 and max_total > 0:
        condition += " AND (attribute_not_exists(#u) OR #u <= :ceiling)"
        values[":ceiling"] = max_total - delta
        failure = errors.resources_total_too_big(max_total)
        if delta > max_total:
            raise failure
    tx.update(keys.tenant(tenant_id), expression, values, condition, failure, names)


def _refs(tx: Transaction, etags: frozenset[str], step: int) -> None:
    for etag in sorted(etags):
        tx.update(keys.blob(etag), "ADD refs :step", {":step": step})


def _retag(tx: Transaction, old: ImageInfo | None, new: ImageInfo | None) -> None:
    """Keep the image's tag entries and its tenant's tag counts with its row, in the row's transaction: the entries
    of dropped tags deleted, every entry written again when anything they carry changed (the title and sub type
    place them in the indexes; the tags let a filter by several read one tag's entries)."""
    counts: Counter[tuple[str, SubType, str]] = Counter()
    for image, step in ((old, -1), (new, 1)):
        if image is not None:
            for tag in image.tags:
                counts[image.tenant_id, image.sub_type, tag] += step
    if old is not None:
        for tag in sorted(set(old.tags) - set(new.tags if new else ())):
            tx.delete(keys.tag_entry(old.tenant_id, tag, old.resource_key))
    if new is not None and (old is None or (old.sub_type, old.title, old.tags) != (new.sub_type, new.title, new.tags)):
        for tag in new.tags:
            tx.put({**keys.tagged(new, tag), "tags": list(new.tags)})
    for (tenant_id, sub_type, tag), step in sorted(counts.items()):
        if step:
            tx.update(keys.tag_count(tenant_id, sub_type, tag), "ADD #c :step", {":step": step}, names={"#c": "count"})


def _claim_public_key(tx: Transaction, image: ImageInfo) -> None:
    """Free, or reserved to this tenant and held by none of its images."""
    tx.put(
        {
            **keys.public_key(image.public_key)._asdict(),
            "tenant_id": image.tenant_id,
            "resource_key": image.resource_key,
        },
        "attribute_not_exists(pk) OR (tenant_id = :tenant AND attribute_not_exists(resource_key))",
        errors.AlreadyExists("Public resource key already exists"),
        {":tenant": image.tenant_id},
    )


def _retire_public_key(tx: Transaction, public_key: str) -> None:
    """The image lets go of its public key; the key stays its tenant's."""
    tx.update(keys.public_key(public_key), "REMOVE resource_key")


class DynamoImages(TableStore):
    @property
    def postings(self) -> Postings:
        return Postings(self.table)

    def get_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        item = self.table.get(keys.image(tenant_id, key))
        return None if item is None else image_from(item)

    def find_public_image(self, public_key: str) -> ImageInfo | None:
        pointer = self.table.get(keys.public_key(public_key))
        if pointer is None or "resource_key" not in pointer:  # none, or reserved to its tenant with no image now
            return None
        return self.get_image(pointer["tenant_id"], pointer["resource_key"])

    def public_key_owner(self, public_key: str) -> str | None:
        pointer = self.table.get(keys.public_key(public_key))
        return None if pointer is None else str(pointer["tenant_id"])

    def insert_image(self, image: ImageInfo, max_total: int) -> None:
        tx = Transaction(self.table)
        tx.put(image_item(image), "attribute_not_exists(pk)", errors.KeyTaken())
        _claim_public_key(tx, image)
        _charge(tx, image.tenant_id, image.size, max_total, {image.sub_type.value: 1})
        _refs(tx, image.blob_refs, 1)
        _retag(tx, None, image)
        self.postings.before(None, image)
        tx.commit()

    def update_image(self, image: ImageInfo, expected_version: int, max_total: int) -> None:
        old = self.get_image(image.tenant_id, image.resource_key)
        if old is None:
            raise errors.NotFound()
        if old.version != expected_version:
            raise errors.Conflict()
        tx = Transaction(self.table)
        tx.put(image_item(image), "version = :v", errors.Conflict(), {":v": expected_version})
        if image.public_key != old.public_key:
            _retire_public_key(tx, old.public_key)
            _claim_public_key(tx, image)
        counts = {}
        if image.sub_type != old.sub_type:
            counts = {old.sub_type.value: -1, image.sub_type.value: 1}
        if image.size != old.size or counts:
            _charge(tx, image.tenant_id, image.size - old.size, max_total, counts)
        _refs(tx, image.blob_refs - old.blob_refs, 1)
        _refs(tx, old.blob_refs - image.blob_refs, -1)
        _retag(tx, old, image)
        self.postings.before(old, image)
        tx.commit()
        self._tidy_postings(old, image)

    def _tidy_postings(self, old: ImageInfo, new: ImageInfo | None) -> None:
        """After the commit, never a reason to report the write failed: a posting left over names an image that
        search checks against its text (and the image's next write, or its delete, takes it)."""
        try:
            self.postings.after(old, new)
        except errors.GalleryError as exc:
            log.warning("Search postings of %s left over: %s", old.resource_key, exc.message)

    def learn_has_alpha(self, image: ImageInfo, has_alpha: bool) -> bool:
        changed = self.table.update_if(
            keys.image(image.tenant_id, image.resource_key),
            "SET has_alpha = :a",
            "id = :id AND version = :v AND attribute_not_exists(has_alpha)",
            {":a": has_alpha, ":id": image.id, ":v": image.version},
        )
        return changed is not None

    def delete_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        for _ in range(_DELETE_ATTEMPTS):
            old = self.get_image(tenant_id, key)
            if old is None:
                return None
            tx = Transaction(self.table)
            tx.delete(keys.image(tenant_id, key), "version = :v", errors.Conflict(), {":v": old.version})
            _retire_public_key(tx, old.public_key)
            _charge(tx, tenant_id, -old.size, 0, {old.sub_type.value: -1})
            _refs(tx, old.blob_refs, -1)
            _retag(tx, old, None)
            try:
                tx.commit()
            except errors.Conflict:
                continue  # changed between our read and our write: read again
            self._tidy_postings(old, None)
            return old
        raise errors.Conflict()  # changed every time we read it: let the caller try again later

    def blob_in_use(self, etag: str) -> bool:
        item = self.table.get(keys.blob(etag))
        return item is not None and item.get("refs", 0) > 0

    def usage(self, tenant_id: str) -> int:
        item = self.table.get(keys.tenant(tenant_id))
        return 0 if item is None else int(item.get("usage", 0))

    def change_count(self) -> int | None:
        return None

    def change_cursor(self) -> int | None:
        return None

    def changes_since(self, cursor: int) -> ImageChanges | None:
        return None

    def list_images(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        include_system = scope.include_system and scope.tenant_id != SYSTEM_TENANT_ID
        indexed = not page.text_search and page.sort_property in {None, "createdTime", "title", "name"}
        if indexed and len(scope.tags) <= 1:
            return self._listing_page(scope, page, include_system)
        if indexed and not include_system:
            return self._tagged_page(scope, page)
        return self._filtered_page(scope, page, include_system)

    def tag_counts(self, tenant_id: str, sub_type: SubType) -> dict[str, int]:
        prefix = keys.tag_count(tenant_id, sub_type, "").sk
        counted = self.table.partition(keys.tenant_partition(tenant_id), prefix, consistent=False)
        return {keys.counted_tag(item["sk"]): int(item["count"]) for item in counted if item.get("count", 0) > 0}

    def _index(self, lpk: str, by_title: bool, descending: bool, limit: int | None, **request: Any) -> Iterator[Item]:
        """A listing in an order, from its start, about `limit` items a request (all of them: None). Index reads
        are eventually consistent, and billed for what they read whatever they return."""
        return self.table.query(
            IndexName=keys.BY_TITLE if by_title else keys.BY_CREATED,
            KeyConditionExpression=f"{keys.LISTING} = :lpk",
            ExpressionAttributeValues=dump({":lpk": lpk}),
            ScanIndexForward=not descending,
            **({"Limit": min(limit, _QUERY_LIMIT)} if limit else {}),
            **request,
        )

    def _listing_page(self, scope: ImageQuery, page: PageQuery, include_system: bool) -> Page[ImageInfo]:
        """An indexed order, no tag or one, the tenant's images alone or with the system's: the count from counters,
        the page from the index (or both indexes, merged in order) read from whichever end is nearer, as far as
        the page. A first or last page reads its rows whole and nothing else, whatever the size of the gallery;
        a page deep inside skips ahead reading keys, then fetches its own rows."""
        tag = scope.tags[0] if scope.tags else None
        owners = [scope.tenant_id, SYSTEM_TENANT_ID] if include_system else [scope.tenant_id]
        counters = [keys.tenant(owner) for owner in owners]
        if tag is not None:
            counters += [keys.tag_count(owner, scope.sub_type, tag) for owner in owners]
        found = {keys.Key(i["pk"], i["sk"]): i for i in self.table.batch_get(counters, consistent=False)}
        if tag is None:
            counts = [int(found.get(key, {}).get(f"n_{scope.sub_type.value}", 0)) for key in counters]
        else:
            counts = [int(found.get(key, {}).get("count", 0)) for key in counters[len(owners) :]]
        hidden = 0
        if include_system:
            tenant, system = (found.get(key, {}) for key in counters[:2])
            hidden = self._hidden_count(scope.tenant_id, scope.sub_type, tag, tenant, system)
        total = max(0, sum(counts) - hidden)
        start, end = page.offset, min(page.offset + page.page_size, total)
        if start >= end:
            return Page([], total, page)
        from_end = start > total - end
        skip, take = (total - end, end - start) if from_end else (start, end - start)
        descending = (page.sort_order is SortOrder.DESC) != from_end
        by_title = page.sort_property in {"title", "name"}
        whole = tag is None and skip + take <= _WHOLE_ROWS_UP_TO
        projection = {} if whole else {"ProjectionExpression": f"pk, sk, image_sk, {_ORDER[by_title]}"}
        streams = []
        for owner in owners:
            lpk = keys.listing(owner, scope.sub_type) if tag is None else keys.tag_listing(owner, scope.sub_type, tag)
            rows = self._index(lpk, by_title, descending, skip + take, **projection)
            streams.append(self._unhidden(scope.tenant_id, rows) if owner == SYSTEM_TENANT_ID and hidden else rows)
        merged = heapq.merge(*streams, key=lambda row: str(row[_ORDER[by_title]]), reverse=descending)
        chosen = list(itertools.islice(merged, skip, skip + take))
        if from_end:
            chosen.reverse()
        images = [image_from(row) for row in chosen] if whole else self._whole([_image_key(row) for row in chosen])
        return Page(images, total, page)

    def _hidden_count(self, tenant_id: str, sub_type: SubType, tag: str | None, tenant: Item, system: Item) -> int:
        """How many of the system's images in a listing the tenant hides behind images of its own under their keys.
        Counted over the system's images (never the tenant's) and kept on the tenant's item, with the two key-set
        stamps it was counted at (`_charge` moves them): recounted only after either side added or removed an
        image. With a tag, counted over the system's images carrying it, unless none is hidden at all."""
        stamps = [int(tenant.get(_KEYSET, 0)), int(system.get(_KEYSET, 0))]
        cache = f"hidden_{sub_type.value}"
        kept = tenant.get(cache)
        if isinstance(kept, list) and len(kept) == 3 and [int(n) for n in kept[:2]] == stamps:
            hidden = int(kept[2])
        else:
            hidden = self._count_hidden(tenant_id, keys.listing(SYSTEM_TENANT_ID, sub_type))
            with contextlib.suppress(errors.GalleryError):  # a cache: never a reason to fail the list
                self.table.update_if(
                    keys.tenant(tenant_id), f"SET {cache} = :v", "attribute_exists(pk)", {":v": [*stamps, hidden]}
                )
        if tag is None or hidden == 0:
            return hidden
        return self._count_hidden(tenant_id, keys.tag_listing(SYSTEM_TENANT_ID, sub_type, tag))

    def _count_hidden(self, tenant_id: str, system_listing: str) -> int:
        listed = list(self._index(system_listing, False, False, None, ProjectionExpression="pk, sk, image_sk"))
        return len(listed) - sum(1 for _ in self._unhidden(tenant_id, iter(listed)))

    def _unhidden(self, tenant_id: str, system_rows: Iterator[Item]) -> Iterator[Item]:
        """The system's rows the tenant does not hide, in their order: read a hundred at a time, each hundred's
        keys looked up in the tenant's partition in one request."""
        while chunk := list(itertools.islice(system_rows, _BATCH)):
            mine = [keys.image(tenant_id, _resource_key(row)) for row in chunk]
            held = {item["sk"] for item in self.table.batch_get(mine, consistent=False)}
            yield from (row for row, key in zip(chunk, mine, strict=True) if key.sk not in held)

    def _tagged_page(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        """One tenant, several tags: the rarest tag's entries in the page's order (each names its image and carries
        its tags), read through, as many as carry it, to count those that carry the rest; then the page's rows."""
        # Every tag's count in one request (a filter names up to 20), not a read each.
        count_keys = [keys.tag_count(scope.tenant_id, scope.sub_type, tag) for tag in scope.tags]
        by_key = {
            keys.Key(item["pk"], item["sk"]): int(item.get("count", 0))
            for item in self.table.batch_get(count_keys, consistent=False)
        }
        counted = {tag: by_key.get(key, 0) for tag, key in zip(scope.tags, count_keys, strict=True)}
        rarest = min(scope.tags, key=lambda tag: counted[tag])
        listing = keys.tag_listing(scope.tenant_id, scope.sub_type, rarest)
        by_title = page.sort_property in {"title", "name"}
        entries = self._index(
            listing, by_title, page.sort_order is SortOrder.DESC, None, ProjectionExpression="pk, sk, image_sk, tags"
        )
        matching = [entry for entry in entries if set(scope.tags) <= set(entry["tags"])]
        chosen = matching[page.offset : page.offset + page.page_size]
        return Page(self._whole([_image_key(entry) for entry in chosen]), len(matching), page)

    def every_image(self, tenant_id: str, sub_type: SubType) -> Iterator[ImageInfo]:
        """The creation-time index read straight through: whole rows (the index projects them all), about a
        thousand per request, and nothing else."""
        for item in self.table.query(
            IndexName=keys.BY_CREATED,
            KeyConditionExpression=f"{keys.LISTING} = :lpk",
            ExpressionAttributeValues=dump({":lpk": keys.listing(tenant_id, sub_type)}),
        ):
            yield image_from(item)

    def _filtered_page(self, scope: ImageQuery, page: PageQuery, include_system: bool) -> Page[ImageInfo]:
        """Search, several tags with system images, or an unindexed order. A search of three characters or more
        reads the images posted under the rarest of its trigrams (`grams.py`), whole; anything else reads the
        tenant's partition (and the system's) projected to what filtering and sorting need, then whole rows for the
        page alone: a cost that grows with the tenant, never with the table."""
        needle = page.text_search.casefold()
        searched = self._searched(scope, needle, include_system) if needle else None
        rows = searched if searched is not None else self._slim_listing(scope, include_system)
        if scope.tags:
            rows = [row for row in rows if set(scope.tags) <= set(row.get("tags", ()))]
        if needle:
            rows = [row for row in rows if needle in _search_text(row)]
        order = _SORT_KEYS[page.sort_property or "createdTime"]
        # Ties go the list's way, as the indexes order them (their sort keys end with the id).
        rows.sort(key=lambda row: (order(row), row["id"]), reverse=page.sort_order is SortOrder.DESC)
        chosen = rows[page.offset : page.offset + page.page_size]
        images = (
            [image_from(row) for row in chosen]
            if searched is not None
            else self._whole([_image_key(row) for row in chosen])
        )
        return Page(images, len(rows), page)

    def _slim_listing(self, scope: ImageQuery, include_system: bool) -> list[Item]:
        rows = self._slim_rows(scope.tenant_id, scope.sub_type)
        if include_system:
            own = {row["resource_key"] for row in self._slim_rows(scope.tenant_id, None)}
            rows += [r for r in self._slim_rows(SYSTEM_TENANT_ID, scope.sub_type) if r["resource_key"] not in own]
        return rows

    def _searched(self, scope: ImageQuery, needle: str, include_system: bool) -> list[Item] | None:
        """The whole rows of the images whose text may hold `needle` (each checked by the caller), from the
        postings of the tenant's (and the system's, less those the tenant hides); None when the postings cannot
        say: a needle shorter than a gram, or a tenant whose images from before postings were kept are not posted
        yet (`index_grams`)."""
        owners = [scope.tenant_id, SYSTEM_TENANT_ID] if include_system else [scope.tenant_id]
        tenants = self.table.batch_get([keys.tenant(owner) for owner in owners], consistent=False)
        if len(tenants) < len(owners) or not all(item.get(POSTED) for item in tenants):
            return None
        found: list[Item] = []
        for owner in owners:
            posted = self.postings.candidates(owner, scope.sub_type, needle)
            if posted is None:
                return None
            rows = self.table.batch_get([keys.image(owner, key) for key in posted], consistent=False)
            rows = [row for row in rows if row["sub_type"] == scope.sub_type.value]
            found += self._unhidden(scope.tenant_id, iter(rows)) if owner == SYSTEM_TENANT_ID else rows
        return found

    def index_grams(self, tenant_id: str) -> int:
        """Post every image of a tenant from before postings were kept, then mark the tenant posted (idempotent:
        run again, it writes what is missing and nothing else). Returns how many images it posted."""
        tenant = self.table.get(keys.tenant(tenant_id))
        if tenant is None or tenant.get(POSTED):
            return 0
        images = [image_from(item) for item in self.table.partition(keys.tenant_partition(tenant_id), keys.IMAGES)]
        for image in images:
            self.postings.before(None, image)
        self.table.update_if(keys.tenant(tenant_id), f"SET {POSTED} = :t", "attribute_exists(pk)", {":t": True})
        return len(images)

    def _slim_rows(self, tenant_id: str, sub_type: SubType | None) -> list[Item]:
        rows = self.table.partition(
            keys.tenant_partition(tenant_id), keys.IMAGES, consistent=False, ProjectionExpression=_SLIM
        )
        return [row for row in rows if sub_type is None or row["sub_type"] == sub_type.value]

    def _whole(self, found: Sequence[keys.Key]) -> list[ImageInfo]:
        """The full images at these keys, in their order; one deleted between the two reads drops out."""
        return [image_from(item) for item in self.table.batch_get(found, consistent=False)]
