"""What AWS would bill for the requests a boto3 client makes, counted against an emulator that bills nothing (moto):
DynamoDB capacity units computed from the sizes of the items each request reads and writes, S3 requests and bytes,
CloudFront invalidation paths.

The DynamoDB rules, from the Developer Guide ("DynamoDB item sizes and formats"; "DynamoDB read and write
operations"; "Global secondary indexes: provisioned throughput considerations"):
- An item's size is the sum of its attribute names' and values' UTF-8 lengths; a number takes 1 byte per two
  significant digits plus 1; a Boolean or null 1 byte; a list or map 3 bytes plus 1 byte per element plus its
  elements (a map's keys counted as names).
- GetItem: the item's size rounded up to 4 KB, one read unit per 4 KB strongly consistent, half eventually; an item
  that is not there still costs the minimum. BatchGetItem: each item so, rounded up separately.
- Query: the sizes of every item it reads, added up and then rounded up to 4 KB, per request (each page of a
  paginated query is a request). A projection or a filter does not lower it: what is read is billed. On a global
  secondary index the index entries are read (here: every index projects ALL, so an entry is the item) and reads
  are always eventually consistent.
- PutItem, UpdateItem, DeleteItem: one write unit per 1 KB of the larger of the item before and after; a write
  refused by its condition costs the same. Each global secondary index the item is in costs a write of its entry
  (an entry whose index key changed: a delete and a put). TransactWriteItems: twice that for every action,
  ConditionCheck included. BatchWriteItem: each put or delete as alone.

The meter reads every item it bills through a second client of its own (never the one it meters), so what it
reads is not billed, and nothing the metered code does changes. It needs every Query to return each item's primary
key (`pk`, `sk`): a projection that leaves them out fails loudly rather than billing by guess.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

READ_BLOCK = 4096
WRITE_BLOCK = 1024
KEY_NAMES = ("pk", "sk")


# --- item sizes -------------------------------------------------------------------------------------------------------
def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item in DynamoDB's typed JSON (`{"name": {"S": "…"}}`), as DynamoDB counts them."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, raw),) = value.items()
    if kind == "S":
        return len(raw.encode())
    if kind == "N":
        return _number_size(raw)
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in raw)
    if kind == "M":
        return 3 + sum(1 + len(name.encode()) + _value_size(element) for name, element in raw.items())
    if kind == "SS":
        return sum(len(s.encode()) for s in raw)
    if kind == "NS":
        return sum(_number_size(n) for n in raw)
    if kind == "BS":
        return sum(len(b) for b in raw)
    raise ValueError(f"not a DynamoDB value type: {kind}")


def _number_size(text: str) -> int:
    significant = len(Decimal(text).normalize().as_tuple().digits)  # leading and trailing zeros trimmed
    return math.ceil(significant / 2) + 1


def read_units(size: int, consistent: bool) -> float:
    """Units for `size` bytes read in one go (never less than one block)."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return float(blocks) if consistent else blocks / 2


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_BLOCK))


# --- the meter --------------------------------------------------------------------------------------------------------
@dataclass
class Bill:
    """What a stretch of requests cost."""

    read_units: float = 0.0
    write_units: float = 0.0
    requests: Counter[str] = field(default_factory=Counter)  # by "service:Operation"
    items_read: int = 0
    item_bytes_read: int = 0  # the sizes of the DynamoDB items billed
    s3_bytes_read: int = 0
    s3_bytes_written: int = 0
    invalidation_paths: int = 0

    def s3_requests(self) -> int:
        return sum(n for name, n in self.requests.items() if name.startswith("s3:"))


class Meter:
    """Bills a DynamoDB client's requests (and, given them, an S3 client's and CloudFront's) while it is on."""

    def __init__(self, dynamodb: Any, reader: Any, table: str) -> None:
        self.dynamodb = dynamodb
        self.reader = reader  # a client of its own on the same endpoint: what it reads is not billed
        self.table = table
        self.bill = Bill()
        self._lock = threading.Lock()
        self._indexes = self._index_keys()

    def _index_keys(self) -> dict[str, tuple[str, ...]]:
        described = self.reader.describe_table(TableName=self.table)["Table"]
        found = {}
        for index in described.get("GlobalSecondaryIndexes", []):
            if index["Projection"]["ProjectionType"] != "ALL":
                raise ValueError(f"index {index['IndexName']} does not project ALL: its entries are not its items")
            found[index["IndexName"]] = tuple(part["AttributeName"] for part in index["KeySchema"])
        return found

    def reset(self) -> Bill:
        """The bill so far, and a new one from now."""
        with self._lock:
            bill, self.bill = self.bill, Bill()
        return bill

    # -- reading what is billed, unbilled
    def _items(self, found_keys: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | None]:
        """The items at these keys (None where absent), read consistently by the meter's own client."""
        by_key: dict[tuple[str, str], dict[str, Any]] = {}
        keys = [{name: key[name] for name in KEY_NAMES} for key in found_keys]
        unique = list({_key_of(k): k for k in keys}.values())
        for start in range(0, len(unique), 100):
            pending: Any = {self.table: {"Keys": unique[start : start + 100], "ConsistentRead": True}}
            while pending:
                answer = self.reader.batch_get_item(RequestItems=pending)
                for item in answer["Responses"].get(self.table, []):
                    by_key[_key_of(item)] = item
                pending = answer.get("UnprocessedKeys") or None
        return [by_key.get(_key_of(key)) for key in keys]

    def _item(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        return self._items([key])[0]

    # -- botocore's events
    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        """Before a request leaves: what a write will overwrite (its size is half of what it bills)."""
        name = model.name
        if name in ("PutItem", "DeleteItem", "UpdateItem"):
            context["meter_before"] = [self._item(_write_key(name, params))]
        elif name == "TransactWriteItems":
            actions = [_action(entry) for entry in params["TransactItems"]]
            context["meter_before"] = self._items([key for _, key, _ in actions])
        elif name == "BatchWriteItem":
            requests = params["RequestItems"].get(self.table, [])
            context["meter_before"] = self._items([_batch_key(request) for request in requests])
        context["meter_params"] = params

    def after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        name, params = model.name, context.get("meter_params", {})
        units_read = units_written = 0.0
        items = size = 0
        if name == "GetItem":
            found = self._item(params["Key"])
            size = item_size(found) if found else 0
            items = 1 if found else 0
            units_read = read_units(size, bool(params.get("ConsistentRead")))
        elif name == "BatchGetItem":
            asked = params["RequestItems"].get(self.table, {})
            unprocessed = (parsed.get("UnprocessedKeys") or {}).get(self.table, {}).get("Keys", [])
            done = [key for key in asked.get("Keys", []) if _key_of(key) not in {_key_of(k) for k in unprocessed}]
            for found in self._items(done):
                item = item_size(found) if found else 0
                units_read += read_units(item, bool(asked.get("ConsistentRead")))
                size += item
                items += 1 if found else 0
        elif name == "Query":
            returned = parsed.get("Items", [])
            if any(not all(k in item for k in KEY_NAMES) for item in returned):
                raise AssertionError("a Query's projection leaves out pk or sk: the meter cannot tell what it read")
            full = self._items(returned)
            size = sum(item_size(item) for item in full if item)
            items = len(returned)
            consistent = bool(params.get("ConsistentRead")) and "IndexName" not in params
            units_read = read_units(size, consistent)
        elif name in ("PutItem", "DeleteItem", "UpdateItem"):
            (old,) = context.get("meter_before", [None])
            units_written = self._written(old, self._item(_write_key(name, params)))
        elif name == "TransactWriteItems":
            actions = [_action(entry) for entry in params["TransactItems"]]
            new = self._items([key for _, key, _ in actions])
            for before, now in zip(context.get("meter_before", []), new, strict=True):
                units_written += 2 * self._written(before, now)
        elif name == "BatchWriteItem":
            requests = params["RequestItems"].get(self.table, [])
            new = self._items([_batch_key(request) for request in requests])
            for before, now in zip(context.get("meter_before", []), new, strict=True):
                units_written += self._written(before, now)
        elif name == "Scan":
            raise AssertionError("a Scan reads the whole table")
        with self._lock:
            bill = self.bill
            bill.requests[f"dynamodb:{name}"] += 1
            bill.read_units += units_read
            bill.write_units += units_written
            bill.items_read += items
            bill.item_bytes_read += size

    def _written(self, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> float:
        """One item's write: the table's, and each index entry it adds, changes or removes."""
        sizes = [item_size(item) for item in (old, new) if item]
        units = float(write_units(max(sizes, default=0)))
        for key_names in self._indexes.values():
            was = _index_key(old, key_names)
            now = _index_key(new, key_names)
            if was is not None and now is not None and was == now:
                units += write_units(max(sizes))
            else:
                units += sum(
                    write_units(item_size(item)) for item, key in ((old, was), (new, now)) if item and key is not None
                )
        return units

    # -- S3 and CloudFront: requests and bytes
    def s3_before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if model.name == "PutObject":
            context["meter_put"] = _body_size(params.get("Body", b""))
        elif model.name == "CreateInvalidation":
            context["meter_paths"] = int(params["InvalidationBatch"]["Paths"]["Quantity"])

    def s3_after(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_name
        with self._lock:
            self.bill.requests[f"{service}:{model.name}"] += 1
            self.bill.s3_bytes_written += context.get("meter_put", 0)
            self.bill.invalidation_paths += context.get("meter_paths", 0)
            if model.name == "GetObject":
                self.bill.s3_bytes_read += int(parsed.get("ContentLength", 0))

    @contextlib.contextmanager
    def on(self, *others: Any) -> Iterator[Meter]:
        """Meter the DynamoDB client, and `others` (S3, CloudFront clients) for requests and bytes."""
        hooks: list[tuple[Any, str, Callable[..., None]]] = [
            (self.dynamodb, "before-parameter-build.dynamodb", self.before),
            (self.dynamodb, "after-call.dynamodb", self.after),
        ]
        for client in others:
            service = client.meta.service_model.service_name
            hooks += [
                (client, f"before-parameter-build.{service}", self.s3_before),
                (client, f"after-call.{service}", self.s3_after),
            ]
        for client, event, handler in hooks:
            client.meta.events.register(event, handler)
        try:
            yield self
        finally:
            for client, event, handler in hooks:
                client.meta.events.unregister(event, handler)


def _key_of(item: Mapping[str, Any]) -> tuple[str, str]:
    return (item["pk"]["S"], item["sk"]["S"])


def _write_key(name: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: params["Item"][k] for k in KEY_NAMES} if name == "PutItem" else dict(params["Key"])


def _action(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any], Mapping[str, Any]]:
    ((kind, body),) = entry.items()
    key = {k: body["Item"][k] for k in KEY_NAMES} if kind == "Put" else dict(body["Key"])
    return kind, key, body


def _batch_key(request: Mapping[str, Any]) -> dict[str, Any]:
    if "PutRequest" in request:
        return {k: request["PutRequest"]["Item"][k] for k in KEY_NAMES}
    return dict(request["DeleteRequest"]["Key"])


def _index_key(item: Mapping[str, Any] | None, names: tuple[str, ...]) -> tuple[str, ...] | None:
    if not item or not all(name in item for name in names):
        return None
    return tuple(str(item[name]) for name in names)


def _body_size(body: Any) -> int:
    if isinstance(body, bytes | bytearray):
        return len(body)
    if hasattr(body, "fileno"):
        with contextlib.suppress(OSError, ValueError):
            return os.fstat(body.fileno()).st_size
    if hasattr(body, "seek") and hasattr(body, "tell"):
        here = int(body.tell())
        size = int(body.seek(0, os.SEEK_END))
        body.seek(here)
        return size - here
    return 0
