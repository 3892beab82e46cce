"""The catalog on one DynamoDB table, through the boto3 client layer. No Scan anywhere.

Item layout (pk, sk):
- `T#<tenant>`, `TENANT`        the tenant: name, profile, usage in bytes, image counts per sub type
- `T#<tenant>`, `I#<key>`       an image; GSI `by_created` (lpk, csk) and `by_title` (lpk, tsk) order a sub type
- `T#<tenant>`, `D#<id>`        a dashboard;  `T#<tenant>`, `U#<email>#<id>`  a user's membership
- `P#<public key>`, `P`         public key → (tenant, key); its existence makes public keys unique, and when its
                                image goes it stays, without a key, reserving the public key to its tenant for good
- `B#<etag>`, `B`               how many image rows refer to these bytes
- `R#<tenant>#<reference>`, `<tenant>#<dashboard>`   a dashboard holding `tb-image;<link>` of its tenant's image;
  `R#<reference>` for a system image's link (which any tenant may hold). Items from before the tenant was in the
  key (`R#<reference>` for tenant links too) are still read and removed.
- `U#<id>`, `U` a user; `E#<email>`, `E` e-mail → id; `USERS`, `<email>#<id>` the list of users
- `PR#<id>`, `PR` a profile; `PROFILES`, `<name>#<id>` the list; `PROFILE_DEFAULT`, `D` → the default's id
- `TN#<name>`, `TN` tenant name → id; `TENANTS`, `<name>#<id>` the list of tenants

An image row, its tenant's usage and counts, its public-key pointer and its blobs' reference counts change together in
one `TransactWriteItems`; a usage ceiling is a condition on the same transaction, and updates carry a version check.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from gallery.domain import errors
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    TB_IMAGE_PREFIX,
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
from gallery.storage.awserrors import translated

Item = dict[str, Any]
_TO = TypeSerializer()
_FROM = TypeDeserializer()
_TRANSACTION_LIMIT = 100
_DELETE_ATTEMPTS = 5
_SYSTEM_LINK = "tb-image;/api/images/system/"


def _dump(item: Item) -> dict[str, Any]:
    return {k: _TO.serialize(v) for k, v in item.items() if v is not None}


def _load(raw: dict[str, Any]) -> Item:
    return {k: _plain(_FROM.deserialize(v)) for k, v in raw.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _key(pk: str, sk: str) -> dict[str, Any]:
    return _dump({"pk": pk, "sk": sk})


def _tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


def _listing_partition(tenant_id: str, sub_type: SubType) -> str:
    return f"T#{tenant_id}#S#{sub_type.value}"


# --- conversions ------------------------------------------------------------------------------------------------------
def _image_item(image: ImageInfo) -> Item:
    return {
        "pk": _tenant_pk(image.tenant_id),
        "sk": f"I#{image.resource_key}",
        "lpk": _listing_partition(image.tenant_id, image.sub_type),
        "csk": f"{image.created_time:015d}\x00{image.id}",
        # NUL sorts below every character a title may hold (titles cannot contain it), so "a" precedes "a b".
        "tsk": f"{image.title.casefold()}\x00{image.id}",
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
    }


def _image(item: Item) -> ImageInfo:
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
    )


def _tenant(item: Item) -> Tenant:
    return Tenant(item["id"], item["name"], item["profile_id"], item["created_time"])


def _profile(item: Item) -> TenantProfile:
    return TenantProfile(
        item["id"],
        item["name"],
        item["max_resource_size"],
        item["max_resources_in_bytes"],
        bool(item.get("is_default", False)),
        item["created_time"],
    )


def _user(item: Item) -> User:
    return User(
        id=item["id"],
        email=item["email"],
        authority=Authority(item["authority"]),
        tenant_id=item["tenant_id"],
        password_hash=item["password_hash"],
        first_name=item.get("first_name", ""),
        last_name=item.get("last_name", ""),
        customer_id=item["customer_id"],
        created_time=item["created_time"],
        token_generation=int(item.get("token_generation", 0)),
        enabled=bool(item.get("enabled", True)),
    )


def _dashboard(item: Item) -> Dashboard:
    return Dashboard(
        item["id"],
        item["tenant_id"],
        item["title"],
        item.get("image"),
        json.loads(item["configuration"]),
        item["created_time"],
    )


def _reference_pks(tenant_id: str, reference: str) -> list[str]:
    """Where a dashboard's reference lives (first), and where it may live from before (the rest). A tenant link
    is tenant-relative: kept under the tenant, one tenant's many dashboards never load another's lookups."""
    if reference.startswith(_SYSTEM_LINK):
        return [f"R#{reference}"]
    return [f"R#{tenant_id}#{reference}", f"R#{reference}"]


def image_references(dashboard: Dashboard) -> set[str]:
    """Every `tb-image;…` string in the dashboard (its image and any string value in its configuration), folded."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str) and value.startswith(TB_IMAGE_PREFIX):
            found.add(value.casefold())
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(dashboard.image)
    walk(dashboard.configuration)
    return found


# --- transactions -----------------------------------------------------------------------------------------------------
@dataclass
class Transaction:
    """Actions for one TransactWriteItems, each with the error to raise if its condition is what failed."""

    table: str
    actions: list[dict[str, Any]] = field(default_factory=list)
    failures: list[errors.GalleryError | None] = field(default_factory=list)

    def _add(self, kind: str, body: dict[str, Any], failure: errors.GalleryError | None) -> None:
        self.actions.append({kind: {"TableName": self.table, **body}})
        self.failures.append(failure)

    def put(
        self,
        item: Item,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        values: Item | None = None,
    ) -> None:
        body: dict[str, Any] = {"Item": _dump(item)}
        _conditions(body, condition, values)
        self._add("Put", body, failure)

    def update(
        self,
        pk: str,
        sk: str,
        expression: str,
        values: Item | None = None,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        body: dict[str, Any] = {"Key": _key(pk, sk), "UpdateExpression": expression}
        _conditions(body, condition, values, names)
        self._add("Update", body, failure)

    def delete(
        self,
        pk: str,
        sk: str,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        values: Item | None = None,
    ) -> None:
        body: dict[str, Any] = {"Key": _key(pk, sk)}
        _conditions(body, condition, values)
        self._add("Delete", body, failure)

    def claim(self, pk: str, sk: str, failure: errors.GalleryError, **fields: Any) -> None:
        """A unique pointer item (a name, an e-mail, a public key): written only while nobody holds `pk`."""
        self.put({"pk": pk, "sk": sk, **fields}, "attribute_not_exists(pk)", failure)

    def check(self, pk: str, sk: str, condition: str, failure: errors.GalleryError, values: Item | None = None) -> None:
        body: dict[str, Any] = {"Key": _key(pk, sk)}
        _conditions(body, condition, values)
        self._add("ConditionCheck", body, failure)


def _conditions(
    body: dict[str, Any], condition: str | None, values: Item | None, names: dict[str, str] | None = None
) -> None:
    if condition:
        body["ConditionExpression"] = condition
    if values:
        body["ExpressionAttributeValues"] = _dump(values)
    if names:
        body["ExpressionAttributeNames"] = names


class DynamoCatalog:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table
        self.ensure_system_tenant()

    # --- low level ----------------------------------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> Item | None:
        with translated():
            response = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=True)
        raw = response.get("Item")
        return None if raw is None else _load(raw)

    def _query(self, **kwargs: Any) -> Iterator[Item]:
        """Every item a query yields, page by page (each page is one request)."""
        request: dict[str, Any] = {"TableName": self.table, **kwargs}
        while True:
            with translated():
                response = self.client.query(**request)
            yield from (_load(raw) for raw in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def _partition(self, pk: str, prefix: str = "", **kwargs: Any) -> Iterator[Item]:
        condition = "pk = :pk AND begins_with(sk, :prefix)" if prefix else "pk = :pk"
        values = {":pk": pk, ":prefix": prefix} if prefix else {":pk": pk}
        return self._query(
            KeyConditionExpression=condition, ExpressionAttributeValues=_dump(values), ConsistentRead=True, **kwargs
        )

    def _commit(self, tx: Transaction) -> None:
        if not tx.actions:
            return
        if len(tx.actions) > _TRANSACTION_LIMIT:
            raise errors.BadRequest(f"Too many changes for one transaction ({len(tx.actions)})")
        try:
            with translated(reraise_conditions=True):
                self.client.transact_write_items(TransactItems=tx.actions)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            for reason, failure in zip(reasons, tx.failures, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise (failure or errors.Conflict()) from None
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException":
                if any(r.get("Code") == "TransactionConflict" for r in reasons):
                    raise errors.Conflict() from None
                raise errors.Unavailable() from exc
            raise

    def _batch_delete(self, keys: Sequence[tuple[str, str]]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": _key(pk, sk)}} for pk, sk in keys[start : start + 25]]
            pending: dict[str, Any] = {self.table: requests}
            while pending:
                with translated():
                    pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    def ensure_system_tenant(self) -> None:
        if self._get(_tenant_pk(SYSTEM_TENANT_ID), "TENANT") is not None:
            return
        tx = Transaction(self.table)
        tx.put(
            {
                "pk": _tenant_pk(SYSTEM_TENANT_ID),
                "sk": "TENANT",
                "kind": "tenant",
                "id": SYSTEM_TENANT_ID,
                "name": "System",
                "profile_id": SYSTEM_TENANT_ID,
                "created_time": 0,
                "usage": 0,
            },
            condition="attribute_not_exists(pk)",
        )
        with contextlib.suppress(errors.Conflict):  # created concurrently by another process
            self._commit(tx)

    def close(self) -> None:
        """boto3 clients hold no resources that need closing."""

    # --- images -------------------------------------------------------------------------------------------------------
    def get_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        item = self._get(_tenant_pk(tenant_id), f"I#{key}")
        return None if item is None else _image(item)

    def find_public_image(self, public_key: str) -> ImageInfo | None:
        pointer = self._get(f"P#{public_key}", "P")
        if pointer is None or "resource_key" not in pointer:  # none, or reserved to its tenant with no image now
            return None
        return self.get_image(pointer["tenant_id"], pointer["resource_key"])

    def public_key_owner(self, public_key: str) -> str | None:
        pointer = self._get(f"P#{public_key}", "P")
        return None if pointer is None else str(pointer["tenant_id"])

    def _charge(self, tx: Transaction, tenant_id: str, delta: int, max_total: int, counts: dict[str, int]) -> None:
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
        tx.update(_tenant_pk(tenant_id), "TENANT", expression, values, condition, failure, names)

    @staticmethod
    def _refs(tx: Transaction, etags: set[str] | frozenset[str], step: int) -> None:
        for etag in sorted(etags):
            tx.update(f"B#{etag}", "B", "ADD refs :step", {":step": step})

    @staticmethod
    def _claim_public_key(tx: Transaction, image: ImageInfo) -> None:
        """Free, or reserved to this tenant and held by none of its images."""
        tx.put(
            {
                "pk": f"P#{image.public_key}",
                "sk": "P",
                "tenant_id": image.tenant_id,
                "resource_key": image.resource_key,
            },
            "attribute_not_exists(pk) OR (tenant_id = :tenant AND attribute_not_exists(resource_key))",
            errors.AlreadyExists("Public resource key already exists"),
            {":tenant": image.tenant_id},
        )

    @staticmethod
    def _retire_public_key(tx: Transaction, public_key: str) -> None:
        """The image lets go of its public key; the key stays its tenant's."""
        tx.update(f"P#{public_key}", "P", "REMOVE resource_key")

    def insert_image(self, image: ImageInfo, max_total: int) -> None:
        tx = Transaction(self.table)
        tx.put(_image_item(image), "attribute_not_exists(pk)", errors.KeyTaken())
        self._claim_public_key(tx, image)
        self._charge(tx, image.tenant_id, image.size, max_total, {image.sub_type.value: 1})
        self._refs(tx, image.blob_refs, 1)
        self._commit(tx)

    def update_image(self, image: ImageInfo, expected_version: int, max_total: int) -> None:
        old = self.get_image(image.tenant_id, image.resource_key)
        if old is None:
            raise errors.NotFound()
        if old.version != expected_version:
            raise errors.Conflict()
        tx = Transaction(self.table)
        tx.put(_image_item(image), "version = :v", errors.Conflict(), {":v": expected_version})
        if image.public_key != old.public_key:
            self._retire_public_key(tx, old.public_key)
            self._claim_public_key(tx, image)
        counts = {}
        if image.sub_type != old.sub_type:
            counts = {old.sub_type.value: -1, image.sub_type.value: 1}
        if image.size != old.size or counts:
            self._charge(tx, image.tenant_id, image.size - old.size, max_total, counts)
        self._refs(tx, image.blob_refs - old.blob_refs, 1)
        self._refs(tx, old.blob_refs - image.blob_refs, -1)
        self._commit(tx)

    def delete_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        for _ in range(_DELETE_ATTEMPTS):
            old = self.get_image(tenant_id, key)
            if old is None:
                return None
            tx = Transaction(self.table)
            tx.delete(_tenant_pk(tenant_id), f"I#{key}", "version = :v", errors.Conflict(), {":v": old.version})
            self._retire_public_key(tx, old.public_key)
            self._charge(tx, tenant_id, -old.size, 0, {old.sub_type.value: -1})
            self._refs(tx, old.blob_refs, -1)
            try:
                self._commit(tx)
            except errors.Conflict:
                continue  # changed between our read and our write: read again
            return old
        raise errors.Conflict()  # changed every time we read it: let the caller try again later

    def blob_in_use(self, etag: str) -> bool:
        item = self._get(f"B#{etag}", "B")
        return item is not None and item.get("refs", 0) > 0

    def usage(self, tenant_id: str) -> int:
        item = self._get(_tenant_pk(tenant_id), "TENANT")
        return 0 if item is None else int(item.get("usage", 0))

    def list_images(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        include_system = scope.include_system and scope.tenant_id != SYSTEM_TENANT_ID
        if not include_system and not page.text_search and page.sort_property in {None, "createdTime", "title", "name"}:
            return self._indexed_page(scope, page)
        return self._filtered_page(scope, page, include_system)

    def _indexed_page(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        """One tenant, no filter: the count comes from the tenant item and the page from an index, reading only
        as far as the page's end. The first page is one query for whole rows; a later page skips ahead reading
        keys alone and then fetches its own rows, so the rows before it never cross the wire."""
        index = "by_title" if page.sort_property in {"title", "name"} else "by_created"
        tenant = self._get(_tenant_pk(scope.tenant_id), "TENANT") or {}
        total = int(tenant.get(f"n_{scope.sub_type.value}", 0))
        wanted = page.offset + page.page_size
        projection = {"ProjectionExpression": "pk, sk"} if page.offset else {}
        rows: list[Item] = []
        for item in self._query(
            IndexName=index,
            KeyConditionExpression="lpk = :lpk",
            ExpressionAttributeValues=_dump({":lpk": _listing_partition(scope.tenant_id, scope.sub_type)}),
            ScanIndexForward=page.sort_order is not SortOrder.DESC,
            Limit=min(wanted, 1000),
            **projection,
        ):
            rows.append(item)
            if len(rows) >= wanted:
                break
        chosen = rows[page.offset : wanted]
        images = self._whole(chosen) if page.offset else [_image(item) for item in chosen]
        return Page(images, total, page)

    def _filtered_page(self, scope: ImageQuery, page: PageQuery, include_system: bool) -> Page[ImageInfo]:
        """Search, system images or an unindexed order: read the tenant's partition (and the system's) projected
        to what filtering and sorting need, then fetch whole rows for the page alone. The cost grows with the
        tenant, never with the table, and only the page's rows cross the wire in full."""
        rows = self._slim_rows(scope.tenant_id, scope.sub_type)
        if include_system:
            own = {row["resource_key"] for row in self._slim_rows(scope.tenant_id, None)}
            rows += [r for r in self._slim_rows(SYSTEM_TENANT_ID, scope.sub_type) if r["resource_key"] not in own]
        if page.text_search:
            needle = page.text_search.casefold()
            rows = [row for row in rows if needle in row["title_fold"]]
        order = _SORT_KEYS[page.sort_property or "createdTime"]
        rows.sort(key=lambda row: row["id"])
        rows.sort(key=order, reverse=page.sort_order is SortOrder.DESC)
        return Page(self._whole(rows[page.offset : page.offset + page.page_size]), len(rows), page)

    def _slim_rows(self, tenant_id: str, sub_type: SubType | None) -> list[Item]:
        rows = self._partition(
            _tenant_pk(tenant_id),
            "I#",
            ProjectionExpression="pk, sk, id, resource_key, title_fold, file_name, sub_type, tenant_id, "
            "created_time, original.size",
        )
        return [row for row in rows if sub_type is None or row["sub_type"] == sub_type.value]

    def _whole(self, rows: Sequence[Item]) -> list[ImageInfo]:
        """The full images for these rows, in their order, by BatchGetItem (100 keys per request)."""
        found: dict[tuple[str, str], ImageInfo] = {}
        keys = [{"pk": row["pk"], "sk": row["sk"]} for row in rows]
        for start in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                self.table: {"Keys": [_dump(k) for k in keys[start : start + 100]], "ConsistentRead": True}
            }
            for attempt in itertools.count():
                with translated():
                    response = self.client.batch_get_item(RequestItems=pending)
                for raw in response.get("Responses", {}).get(self.table, []):
                    item = _load(raw)
                    found[(item["pk"], item["sk"])] = _image(item)
                pending = response.get("UnprocessedKeys") or {}
                if not pending:
                    break
                if attempt >= 5:
                    raise errors.Unavailable()
                time.sleep(0.05 * 2**attempt)  # throttled: back off as the SDKs do
        # A row deleted between the two reads simply drops out of the page.
        return [found[key] for key in ((row["pk"], row["sk"]) for row in rows) if key in found]

    # --- dashboards ---------------------------------------------------------------------------------------------------
    def save_dashboard(self, dashboard: Dashboard) -> None:
        pk = _tenant_pk(dashboard.tenant_id)
        existing = self._get(pk, f"D#{dashboard.id}")
        if existing is None and self._get_owned_elsewhere(dashboard.id):
            raise errors.NotFound()
        old_refs = image_references(_dashboard(existing)) if existing else set()
        new_refs = image_references(dashboard)
        tx = Transaction(self.table)
        tx.put(
            {
                "pk": pk,
                "sk": f"D#{dashboard.id}",
                "kind": "dashboard",
                "id": dashboard.id,
                "tenant_id": dashboard.tenant_id,
                "title": dashboard.title,
                "title_fold": dashboard.title.casefold(),
                "image": dashboard.image,
                "configuration": json.dumps(dashboard.configuration),
                "created_time": dashboard.created_time,
            }
        )
        member = f"{dashboard.tenant_id}#{dashboard.id}"
        for reference in sorted(old_refs - new_refs):
            for pk in _reference_pks(dashboard.tenant_id, reference):
                tx.delete(pk, member)
        for reference in sorted(new_refs - old_refs):
            pk = _reference_pks(dashboard.tenant_id, reference)[0]
            tx.put({"pk": pk, "sk": member, "tenant_id": dashboard.tenant_id, "id": dashboard.id})
        tx.put({"pk": f"DASH#{dashboard.id}", "sk": "D", "tenant_id": dashboard.tenant_id})
        self._commit(tx)

    def _get_owned_elsewhere(self, dashboard_id: str) -> bool:
        return self._get(f"DASH#{dashboard_id}", "D") is not None

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> Dashboard | None:
        item = self._get(_tenant_pk(tenant_id), f"D#{dashboard_id}")
        return None if item is None else _dashboard(item)

    def list_dashboards(self, tenant_id: str, page: PageQuery) -> Page[Dashboard]:
        needle = page.text_search.casefold()
        found = [_dashboard(i) for i in self._partition(_tenant_pk(tenant_id), "D#") if needle in i["title_fold"]]
        found.sort(key=lambda d: (d.title.casefold(), d.id))
        return Page(found[page.offset : page.offset + page.page_size], len(found), page)

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        existing = self.get_dashboard(tenant_id, dashboard_id)
        if existing is None:
            return False
        tx = Transaction(self.table)
        tx.delete(_tenant_pk(tenant_id), f"D#{dashboard_id}")
        tx.delete(f"DASH#{dashboard_id}", "D")
        for reference in sorted(image_references(existing)):
            for pk in _reference_pks(tenant_id, reference):
                tx.delete(pk, f"{tenant_id}#{dashboard_id}")
        self._commit(tx)
        return True

    def dashboards_referring(self, reference: str, tenant_id: str | None, limit: int) -> list[Dashboard]:
        found: list[Dashboard] = []
        folded = reference.casefold()
        partitions = [f"R#{folded}"] if tenant_id is None else _reference_pks(tenant_id, folded)
        for item in itertools.chain.from_iterable(self._partition(pk) for pk in dict.fromkeys(partitions)):
            if tenant_id is not None and item["tenant_id"] != tenant_id:
                continue
            dashboard = self.get_dashboard(item["tenant_id"], item["id"])
            if dashboard is not None:
                found.append(dashboard)
            if len(found) >= limit:
                break
        return found

    # --- tenant profiles ----------------------------------------------------------------------------------------------
    def _profile_item(self, profile: TenantProfile) -> Item:
        return {
            "pk": f"PR#{profile.id}",
            "sk": "PR",
            "kind": "profile",
            "id": profile.id,
            "name": profile.name,
            "max_resource_size": profile.max_resource_size,
            "max_resources_in_bytes": profile.max_resources_in_bytes,
            "is_default": profile.is_default,
            "created_time": profile.created_time,
        }

    def _set_default(self, tx: Transaction, profile: TenantProfile) -> None:
        current = self._get("PROFILE_DEFAULT", "D")
        if current is not None and current["id"] != profile.id:
            tx.update(f"PR#{current['id']}", "PR", "SET is_default = :f", {":f": False})
        tx.put({"pk": "PROFILE_DEFAULT", "sk": "D", "id": profile.id})

    def insert_profile(self, profile: TenantProfile) -> None:
        tx = Transaction(self.table)
        tx.put(self._profile_item(profile), "attribute_not_exists(pk)", errors.AlreadyExists())
        tx.put({"pk": "PROFILES", "sk": f"{profile.name.casefold()}#{profile.id}", "id": profile.id})
        tx.claim(
            f"PN#{profile.name}",
            "PN",
            errors.AlreadyExists(f"Tenant profile '{profile.name}' already exists"),
            id=profile.id,
        )
        if profile.is_default:
            self._set_default(tx, profile)
        self._commit(tx)

    def update_profile(self, profile: TenantProfile) -> None:
        old = self.get_profile(profile.id)
        if old is None:
            raise errors.NotFound()
        tx = Transaction(self.table)
        tx.put(self._profile_item(profile), "attribute_exists(pk)", errors.NotFound())
        if old.name != profile.name:
            tx.delete("PROFILES", f"{old.name.casefold()}#{old.id}")
            tx.put({"pk": "PROFILES", "sk": f"{profile.name.casefold()}#{profile.id}", "id": profile.id})
            tx.delete(f"PN#{old.name}", "PN")
            tx.claim(
                f"PN#{profile.name}",
                "PN",
                errors.AlreadyExists(f"Tenant profile '{profile.name}' already exists"),
                id=profile.id,
            )
        if profile.is_default:
            self._set_default(tx, profile)
        elif old.is_default:
            tx.delete("PROFILE_DEFAULT", "D")
        self._commit(tx)

    def get_profile(self, profile_id: str) -> TenantProfile | None:
        item = self._get(f"PR#{profile_id}", "PR")
        return None if item is None else _profile(item)

    def default_profile(self) -> TenantProfile | None:
        pointer = self._get("PROFILE_DEFAULT", "D")
        return None if pointer is None else self.get_profile(pointer["id"])

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]:
        return self._listed("PROFILES", page, self.get_profile)

    def _listed(self, partition: str, page: PageQuery, fetch: Callable[[str], Any]) -> Page[Any]:
        """A sorted list partition (`<name>#<id>`): filter by name, page, then fetch the page's items."""
        needle = page.text_search.casefold()
        entries = [e for e in self._partition(partition) if needle in e["sk"].rsplit("#", 1)[0]]
        chosen = entries[page.offset : page.offset + page.page_size]
        items = [fetch(e["id"]) for e in chosen]
        return Page([i for i in items if i is not None], len(entries), page)

    def delete_profile(self, profile_id: str) -> bool:
        profile = self.get_profile(profile_id)
        if profile is None:
            return False
        tx = Transaction(self.table)
        tx.delete(
            f"PR#{profile_id}",
            "PR",
            "attribute_not_exists(tenants) OR tenants = :zero",
            errors.Conflict("The tenant profile is in use by a tenant"),
            {":zero": 0},
        )
        tx.delete("PROFILES", f"{profile.name.casefold()}#{profile_id}")
        tx.delete(f"PN#{profile.name}", "PN")
        if profile.is_default:
            tx.delete("PROFILE_DEFAULT", "D")
        self._commit(tx)
        return True

    # --- tenants ------------------------------------------------------------------------------------------------------
    def insert_tenant(self, tenant: Tenant) -> None:
        tx = Transaction(self.table)
        tx.put(
            {
                "pk": _tenant_pk(tenant.id),
                "sk": "TENANT",
                "kind": "tenant",
                "id": tenant.id,
                "name": tenant.name,
                "profile_id": tenant.profile_id,
                "created_time": tenant.created_time,
                "usage": 0,
            },
            "attribute_not_exists(pk)",
            errors.AlreadyExists(),
        )
        tx.claim(
            f"TN#{tenant.name}", "TN", errors.AlreadyExists(f"Tenant '{tenant.name}' already exists"), id=tenant.id
        )
        tx.put({"pk": "TENANTS", "sk": f"{tenant.name.casefold()}#{tenant.id}", "id": tenant.id})
        tx.update(
            f"PR#{tenant.profile_id}",
            "PR",
            "ADD tenants :one",
            {":one": 1},
            "attribute_exists(pk)",
            errors.NotFound("Tenant profile not found"),
        )
        self._commit(tx)

    def update_tenant(self, tenant: Tenant) -> None:
        old = self.get_tenant(tenant.id)
        if old is None:
            raise errors.NotFound()
        tx = Transaction(self.table)
        tx.update(
            _tenant_pk(tenant.id),
            "TENANT",
            "SET #n = :n, profile_id = :p",
            {":n": tenant.name, ":p": tenant.profile_id},
            "attribute_exists(pk)",
            errors.NotFound(),
            {"#n": "name"},
        )
        if old.name != tenant.name:
            tx.delete(f"TN#{old.name}", "TN")
            tx.claim(
                f"TN#{tenant.name}", "TN", errors.AlreadyExists(f"Tenant '{tenant.name}' already exists"), id=tenant.id
            )
            tx.delete("TENANTS", f"{old.name.casefold()}#{old.id}")
            tx.put({"pk": "TENANTS", "sk": f"{tenant.name.casefold()}#{tenant.id}", "id": tenant.id})
        if old.profile_id != tenant.profile_id:
            tx.update(f"PR#{old.profile_id}", "PR", "ADD tenants :m", {":m": -1})
            tx.update(
                f"PR#{tenant.profile_id}",
                "PR",
                "ADD tenants :one",
                {":one": 1},
                "attribute_exists(pk)",
                errors.NotFound("Tenant profile not found"),
            )
        self._commit(tx)

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self._get(_tenant_pk(tenant_id), "TENANT")
        return None if item is None else _tenant(item)

    def find_tenant(self, name: str) -> Tenant | None:
        pointer = self._get(f"TN#{name}", "TN")
        return None if pointer is None else self.get_tenant(pointer["id"])

    def list_tenants(self, page: PageQuery) -> Page[Tenant]:
        return self._listed("TENANTS", page, self.get_tenant)

    def delete_tenant(self, tenant_id: str) -> list[ImageInfo]:
        tenant = self.get_tenant(tenant_id)
        if tenant is None:
            raise errors.NotFound()
        items = list(self._partition(_tenant_pk(tenant_id)))
        images = [_image(i) for i in items if i["sk"].startswith("I#")]
        for image in images:
            self.delete_image(tenant_id, image.resource_key)
        for item in items:
            if item["sk"].startswith("D#"):
                self.delete_dashboard(tenant_id, item["id"])
            elif item["sk"].startswith("U#"):
                self.delete_user(item["id"])
        tx = Transaction(self.table)
        tx.delete(_tenant_pk(tenant_id), "TENANT")
        tx.delete(f"TN#{tenant.name}", "TN")
        tx.delete("TENANTS", f"{tenant.name.casefold()}#{tenant_id}")
        tx.update(f"PR#{tenant.profile_id}", "PR", "ADD tenants :m", {":m": -1})
        self._commit(tx)
        return images

    # --- users --------------------------------------------------------------------------------------------------------
    def insert_user(self, user: User) -> None:
        email = user.email.casefold()
        tx = Transaction(self.table)
        tx.put(
            {
                "pk": f"U#{user.id}",
                "sk": "U",
                "kind": "user",
                "id": user.id,
                "email": user.email,
                "authority": user.authority.value,
                "tenant_id": user.tenant_id,
                "customer_id": user.customer_id,
                "password_hash": user.password_hash,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "created_time": user.created_time,
            },
            "attribute_not_exists(pk)",
            errors.AlreadyExists(),
        )
        tx.claim(
            f"E#{email}",
            "E",
            errors.AlreadyExists(f"User with email '{user.email}' already present in database!"),
            id=user.id,
        )
        tx.put({"pk": "USERS", "sk": f"{email}#{user.id}", "id": user.id})
        tx.put({"pk": _tenant_pk(user.tenant_id), "sk": f"U#{email}#{user.id}", "id": user.id})
        self._commit(tx)

    def change_user(
        self, user_id: str, *, password_hash: str | None = None, enabled: bool | None = None
    ) -> User | None:
        sets: list[str] = []
        values: Item = {":one": 1}
        if password_hash is not None:
            sets.append("password_hash = :hash")
            values[":hash"] = password_hash
        if enabled is not None:
            sets.append("enabled = :enabled")
            values[":enabled"] = enabled
        expression = "ADD token_generation :one" + (f" SET {', '.join(sets)}" if sets else "")
        try:
            with translated(reraise_conditions=True):
                response = self.client.update_item(
                    TableName=self.table,
                    Key=_key(f"U#{user_id}", "U"),
                    UpdateExpression=expression,
                    ConditionExpression="attribute_exists(pk)",
                    ExpressionAttributeValues=_dump(values),
                    ReturnValues="ALL_NEW",
                )
        except ClientError:  # the condition: no such user
            return None
        return _user(_load(response["Attributes"]))

    def get_user(self, user_id: str) -> User | None:
        item = self._get(f"U#{user_id}", "U")
        return None if item is None else _user(item)

    def find_user(self, email: str) -> User | None:
        pointer = self._get(f"E#{email.casefold()}", "E")
        return None if pointer is None else self.get_user(pointer["id"])

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]:
        if tenant_id is None:
            return self._listed("USERS", page, self.get_user)
        needle = page.text_search.casefold()
        entries = [e for e in self._partition(_tenant_pk(tenant_id), "U#") if needle in e["sk"].split("#")[1]]
        chosen = entries[page.offset : page.offset + page.page_size]
        users = [self.get_user(e["id"]) for e in chosen]
        return Page([u for u in users if u is not None], len(entries), page)

    def delete_user(self, user_id: str) -> bool:
        user = self.get_user(user_id)
        if user is None:
            return False
        email = user.email.casefold()
        tx = Transaction(self.table)
        tx.delete(f"U#{user_id}", "U")
        tx.delete(f"E#{email}", "E")
        tx.delete("USERS", f"{email}#{user_id}")
        tx.delete(_tenant_pk(user.tenant_id), f"U#{email}#{user_id}")
        self._commit(tx)
        return True

    def has_users(self) -> bool:
        return next(iter(self._partition("USERS", Limit=1)), None) is not None


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
