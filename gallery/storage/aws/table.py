"""The one DynamoDB table every aws store shares, through boto3's client layer: items as the stores hold them
(`dump` for a request, `load` for an answer), the reads they all make (an item, a query page by page, a partition, a
batch of keys) and single-item writes, conditional or not. Writes of several items are `Transaction`s
(`transactions.py`). No Scan anywhere: every read names a partition.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from gallery.domain import errors
from gallery.storage.aws.errors import translated
from gallery.storage.aws.keys import Key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, Any]
_TO = TypeSerializer()
_FROM = TypeDeserializer()
_BATCH_GET = 100  # keys per BatchGetItem, DynamoDB's limit
_BATCH_WRITE = 25  # requests per BatchWriteItem, DynamoDB's limit
_BATCH_RETRIES = 5


def dump(item: Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    """An item (or expression values) in DynamoDB's typed form; None values are left out, not stored as NULL."""
    return {k: _TO.serialize(v) for k, v in item.items() if v is not None}


def dump_key(key: Key) -> dict[str, AttributeValueTypeDef]:
    return dump(key._asdict())


def load(raw: Mapping[str, AttributeValueTypeDef]) -> Item:
    return {k: _plain(_FROM.deserialize(v)) for k, v in raw.items()}


def _plain(value: Any) -> Any:
    # DynamoDB answers every number as a Decimal: a whole one reads as an int, any other as a float (a sign-in
    # failure's stamp, to the millisecond: read as whole seconds, it once shortened the wait it decides by up to one).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _batched(send: Callable[[Any], Any], pending: Any, leftover: str) -> Iterator[Any]:
    """Each answer of a batch request, sent again with what DynamoDB left unprocessed (`leftover`: throttled), backing
    off as the SDKs do; Unavailable when it still leaves some after `_BATCH_RETRIES` tries."""
    for attempt in itertools.count():
        with translated():
            answer = send(pending)
        yield answer
        pending = answer.get(leftover) or {}
        if not pending:
            return
        if attempt >= _BATCH_RETRIES:
            raise errors.Unavailable()
        time.sleep(0.05 * 2**attempt)


class Table:
    def __init__(self, client: DynamoDBClient, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, key: Key, consistent: bool = True) -> Item | None:
        """`consistent=False` where a read a moment old will do: half the read units (a list, a count)."""
        with translated():
            response = self.client.get_item(TableName=self.name, Key=dump_key(key), ConsistentRead=consistent)
        raw = response.get("Item")
        return None if raw is None else load(raw)

    def query(self, **request: Any) -> Iterator[Item]:
        """Every item a query yields, page by page (each page is one request)."""
        request["TableName"] = self.name
        while True:
            with translated():
                response = self.client.query(**request)
            yield from (load(raw) for raw in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def partition(self, pk: str, prefix: str = "", consistent: bool = True, **request: Any) -> Iterator[Item]:
        """The items under `pk` (those whose sort key starts with `prefix`), in sort-key order."""
        condition = "pk = :pk AND begins_with(sk, :prefix)" if prefix else "pk = :pk"
        values = {":pk": pk, ":prefix": prefix} if prefix else {":pk": pk}
        return self.query(
            KeyConditionExpression=condition,
            ExpressionAttributeValues=dump(values),
            ConsistentRead=consistent,
            **request,
        )

    def batch_get(self, keys: Sequence[Key], consistent: bool = True) -> list[Item]:
        """The items at these keys, in their order, by BatchGetItem; an absent item is left out. Each costs at
        least one read unit (half, not `consistent`), there or not."""
        found: dict[Key, Item] = {}
        for start in range(0, len(keys), _BATCH_GET):
            chunk = [dump_key(key) for key in keys[start : start + _BATCH_GET]]
            pending = {self.name: {"Keys": chunk, "ConsistentRead": consistent}}
            for response in _batched(lambda p: self.client.batch_get_item(RequestItems=p), pending, "UnprocessedKeys"):
                for raw in response.get("Responses", {}).get(self.name, []):
                    item = load(raw)
                    found[Key(item["pk"], item["sk"])] = item
        return [found[key] for key in keys if key in found]

    def batch_write(self, requests: Sequence[Any]) -> None:
        """`PutRequest`s and `DeleteRequest`s (in DynamoDB's form), 25 to a BatchWriteItem: unconditional, and not
        one transaction, for items that may be written apart (search postings)."""
        for start in range(0, len(requests), _BATCH_WRITE):
            pending = {self.name: list(requests[start : start + _BATCH_WRITE])}
            for _ in _batched(lambda p: self.client.batch_write_item(RequestItems=p), pending, "UnprocessedItems"):
                pass

    def put(self, item: Item) -> None:
        with translated():
            self.client.put_item(TableName=self.name, Item=dump(item))

    def delete(self, key: Key) -> None:
        with translated():
            self.client.delete_item(TableName=self.name, Key=dump_key(key))

    def update(self, key: Key, expression: str, values: Item) -> None:
        # DynamoDB refuses an empty ExpressionAttributeValues (moto takes it): an expression without values sends none.
        given: dict[str, Any] = {"ExpressionAttributeValues": dump(values)} if values else {}
        with translated():
            self.client.update_item(TableName=self.name, Key=dump_key(key), UpdateExpression=expression, **given)

    def put_if(self, item: Item, condition: str, values: Item) -> bool:
        """PutItem under a condition; False when the condition did not hold (and nothing was written)."""
        try:
            with translated():
                self.client.put_item(
                    TableName=self.name,
                    Item=dump(item),
                    ConditionExpression=condition,
                    ExpressionAttributeValues=dump(values),
                )
        except errors.Conflict:
            return False
        return True

    def update_if(self, key: Key, expression: str, condition: str, values: Item) -> Item | None:
        """UpdateItem under a condition: the item as changed, or None when the condition did not hold."""
        try:
            with translated():
                response = self.client.update_item(
                    TableName=self.name,
                    Key=dump_key(key),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=dump(values),
                    ReturnValues="ALL_NEW",
                )
        except errors.Conflict:
            return None
        return load(response["Attributes"])


class TableStore:
    """A store kept as items of the shared table: the catalog's parts, the auth store, the upload ledger."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def close(self) -> None:
        """The boto3 client is shared and kept warm: nothing to close."""
