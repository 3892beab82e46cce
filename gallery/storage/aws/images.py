"""Image rows on DynamoDB (`ImageCatalog`), with the tenant usage they add up to, their public-key pointers and the
reference counts of their bytes.

Insert, update and delete are each one transaction: the row (an update conditioned on the version it was based on),
the public-key pointer, the tenant's usage `ADD` with the ceiling in its condition, and the blobs' reference counts.
Listing never scans: a page in an indexed order reads an index as far as the page's end, anything else reads the
tenant's partition projected to what filtering and sorting need; either way only the page's rows are read whole.
"""

from __future__ import annotations

import itertools
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
from gallery.storage.aws.table import Item, TableStore, dump
from gallery.storage.aws.transactions import Transaction

_DELETE_ATTEMPTS = 5
_QUERY_LIMIT = 1000  # items a Query request returns at most while reading ahead to a page's end
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


def _keys_of(rows: Sequence[Item]) -> list[keys.Key]:
    return [keys.Key(row["pk"], row["sk"]) for row in rows]


def _search_text(row: Item) -> str:
    return str(row.get("search_fold", row["title_fold"]))  # an item from before search_fold: its title


def _charge(tx: Transaction, tenant_id: str, delta: int, max_total: int, counts: dict[str, int]) -> None:
    """Move the tenant's usage (and image counts) by `delta`, refusing to pass a positive `max_total`."""
    names = {f"#n{i}": f"n_{sub}" for i, sub in enumerate(counts)}
    values: Item = {":delta": delta, **{f":c{i}": n for i, n in enumerate(counts.values())}}
    expression = "ADD #u :delta" + "".join(f", #n{i} :c{i}" for i in range(len(counts)))
    names["#u"] = "usage"
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
        tx.commit()

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
        if not include_system and not page.text_search and page.sort_property in {None, "createdTime", "title", "name"}:
            return self._tagged_page(scope, page) if scope.tags else self._indexed_page(scope, page)
        return self._filtered_page(scope, page, include_system)

    def tag_counts(self, tenant_id: str, sub_type: SubType) -> dict[str, int]:
        prefix = keys.tag_count(tenant_id, sub_type, "").sk
        counted = self.table.partition(keys.tenant_partition(tenant_id), prefix)
        return {keys.counted_tag(item["sk"]): int(item["count"]) for item in counted if item.get("count", 0) > 0}

    def _index(self, lpk: str, page: PageQuery, limit: int | None, **request: Any) -> Iterator[Item]:
        """A listing in the page's order, from its start, about `limit` items a request (all of them: None)."""
        index = keys.BY_TITLE if page.sort_property in {"title", "name"} else keys.BY_CREATED
        return self.table.query(
            IndexName=index,
            KeyConditionExpression=f"{keys.LISTING} = :lpk",
            ExpressionAttributeValues=dump({":lpk": lpk}),
            ScanIndexForward=page.sort_order is not SortOrder.DESC,
            **({"Limit": min(limit, _QUERY_LIMIT)} if limit else {}),
            **request,
        )

    def _indexed_page(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        """One tenant, no filter: the count comes from the tenant item and the page from an index, reading only
        as far as the page's end. The first page is one query for whole rows; a later page skips ahead reading
        keys alone and then fetches its own rows, so the rows before it never cross the wire."""
        tenant = self.table.get(keys.tenant(scope.tenant_id)) or {}
        total = int(tenant.get(f"n_{scope.sub_type.value}", 0))
        wanted = page.offset + page.page_size
        projection = {"ProjectionExpression": "pk, sk"} if page.offset else {}
        listing = keys.listing(scope.tenant_id, scope.sub_type)
        chosen = list(itertools.islice(self._index(listing, page, wanted, **projection), page.offset, wanted))
        images = self._whole(_keys_of(chosen)) if page.offset else [image_from(item) for item in chosen]
        return Page(images, total, page)

    def _tagged_page(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        """One tenant, tags: the rarest tag's entries in the page's order (each names its image and carries its
        tags), then the page's rows. One tag reads as far as the page's end, its count kept; several read the
        rarest one's entries through, as many as carry it, to count those that carry the rest."""
        # Every tag's count in one request (a filter names up to 20), not a read each.
        count_keys = [keys.tag_count(scope.tenant_id, scope.sub_type, tag) for tag in scope.tags]
        by_key = {
            keys.Key(item["pk"], item["sk"]): int(item.get("count", 0)) for item in self.table.batch_get(count_keys)
        }
        counted = {tag: by_key.get(key, 0) for tag, key in zip(scope.tags, count_keys, strict=True)}
        rarest = min(scope.tags, key=lambda tag: counted[tag])
        listing = keys.tag_listing(scope.tenant_id, scope.sub_type, rarest)
        wanted = page.offset + page.page_size
        limit = wanted if len(scope.tags) == 1 else None
        entries = self._index(listing, page, limit, ProjectionExpression="pk, image_sk, tags")
        if len(scope.tags) == 1:
            total = counted[rarest]
            chosen = list(itertools.islice(entries, page.offset, wanted))
        else:
            matching = [entry for entry in entries if set(scope.tags) <= set(entry["tags"])]
            total, chosen = len(matching), matching[page.offset : wanted]
        return Page(self._whole([keys.Key(entry["pk"], entry["image_sk"]) for entry in chosen]), total, page)

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
        """Search, system images or an unindexed order: read the tenant's partition (and the system's) projected
        to what filtering and sorting need, then fetch whole rows for the page alone. The cost grows with the
        tenant, never with the table, and only the page's rows cross the wire in full."""
        rows = self._slim_rows(scope.tenant_id, scope.sub_type)
        if include_system:
            own = {row["resource_key"] for row in self._slim_rows(scope.tenant_id, None)}
            rows += [r for r in self._slim_rows(SYSTEM_TENANT_ID, scope.sub_type) if r["resource_key"] not in own]
        if scope.tags:
            rows = [row for row in rows if set(scope.tags) <= set(row.get("tags", ()))]
        if page.text_search:
            needle = page.text_search.casefold()
            rows = [row for row in rows if needle in _search_text(row)]
        order = _SORT_KEYS[page.sort_property or "createdTime"]
        # Ties go the list's way, as the indexes order them (their sort keys end with the id).
        rows.sort(key=lambda row: (order(row), row["id"]), reverse=page.sort_order is SortOrder.DESC)
        return Page(self._whole(_keys_of(rows[page.offset : page.offset + page.page_size])), len(rows), page)

    def _slim_rows(self, tenant_id: str, sub_type: SubType | None) -> list[Item]:
        rows = self.table.partition(keys.tenant_partition(tenant_id), keys.IMAGES, ProjectionExpression=_SLIM)
        return [row for row in rows if sub_type is None or row["sub_type"] == sub_type.value]

    def _whole(self, found: Sequence[keys.Key]) -> list[ImageInfo]:
        """The full images at these keys, in their order; one deleted between the two reads drops out."""
        return [image_from(item) for item in self.table.batch_get(found)]
