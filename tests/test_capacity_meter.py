"""The meter that bills requests made to moto as DynamoDB and S3 would (`benchmarks.capacity`), checked against the
rules and worked examples of AWS's documentation, on real requests to moto in-process."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from benchmarks.capacity import Meter, item_size, read_units, write_units
from tests.storage_fixtures import aws_env

TABLE = "metered"


def test_item_sizes_follow_the_documented_rules() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 2 + 3
    assert item_size({"name": {"S": "é"}}) == 4 + 2  # UTF-8 bytes
    # numbers: 1 byte per two significant digits, plus 1; leading and trailing zeros trimmed
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1
    assert item_size({"n": {"N": "1200000"}}) == 1 + 1 + 1
    assert item_size({"n": {"N": "0.0012"}}) == 1 + 1 + 1
    assert item_size({"b": {"B": b"\x00" * 10}}) == 1 + 10  # raw bytes, not base64
    assert item_size({"t": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    # a list or map: 3 bytes, 1 per element, and the elements (a map's keys as names)
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"e": {"L": []}}) == 1 + 3


def test_units_round_up_by_block() -> None:
    assert read_units(3500, consistent=True) == 1  # "reading a 3,500-byte item consumes the same as a 4 KB item"
    assert read_units(10 * 1024, consistent=True) == 3  # 10 KB rounds up to 12 KB
    assert read_units(8 * 1024, consistent=False) == 1  # 8 KB eventually consistent: one unit
    assert read_units(0, consistent=False) == 0.5  # an item that is not there still costs the minimum
    assert write_units(500) == 1
    assert write_units(1500) == 2


@pytest.fixture
def dynamodb() -> Iterator[tuple[Any, Meter]]:
    with aws_env(), mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk", "lpk", "order")
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "listing",
                    "KeySchema": [
                        {"AttributeName": "lpk", "KeyType": "HASH"},
                        {"AttributeName": "order", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client, Meter(client, boto3.client("dynamodb", region_name="us-east-1"), TABLE)


def item(sk: str, size: int, listed: bool = False) -> dict[str, Any]:
    """An item of exactly `size` bytes (with `lpk`/`order`, on the index)."""
    fields: dict[str, Any] = {"pk": {"S": "p"}, "sk": {"S": sk}}
    if listed:
        fields |= {"lpk": {"S": "l"}, "order": {"S": sk}}
    fields["filler"] = {"S": "x" * (size - item_size(fields) - len("filler"))}
    assert item_size(fields) == size
    return fields


def bill(meter: Meter, call: Any) -> Any:
    meter.reset()
    with meter.on():
        call()
    return meter.reset()


def test_reads_are_billed_as_the_developer_guide_says(dynamodb: tuple[Any, Meter]) -> None:
    client, meter = dynamodb
    small, large = item("a", 1536, listed=True), item("b", 6656, listed=True)  # 1.5 KB and 6.5 KB
    for fields in (small, large):
        client.put_item(TableName=TABLE, Item=fields)
    key = {"pk": {"S": "p"}, "sk": {"S": "b"}}
    assert bill(meter, lambda: client.get_item(TableName=TABLE, Key=key, ConsistentRead=True)).read_units == 2
    assert bill(meter, lambda: client.get_item(TableName=TABLE, Key=key)).read_units == 1
    missing = {"pk": {"S": "p"}, "sk": {"S": "none"}}
    assert bill(meter, lambda: client.get_item(TableName=TABLE, Key=missing)).read_units == 0.5
    # BatchGetItem: "1.5 KB and 6.5 KB … DynamoDB calculates the size as 12 KB (4 KB + 8 KB)", not 8 KB
    both = [{"pk": {"S": "p"}, "sk": {"S": sk}} for sk in ("a", "b")]
    batch = {TABLE: {"Keys": both, "ConsistentRead": True}}
    assert bill(meter, lambda: client.batch_get_item(RequestItems=batch)).read_units == 3
    # Query: the items' sizes added, then rounded up (8 KB: two units strongly consistent); a projection does not
    # lower it; an index is read eventually consistently (8 KB: one unit)
    query = {"TableName": TABLE, "KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p"}}}
    assert bill(meter, lambda: client.query(**query, ConsistentRead=True)).read_units == 2
    projected = bill(meter, lambda: client.query(**query, ConsistentRead=True, ProjectionExpression="pk, sk"))
    assert projected.read_units == 2
    indexed = {"KeyConditionExpression": "lpk = :l", "ExpressionAttributeValues": {":l": {"S": "l"}}}
    assert bill(meter, lambda: client.query(TableName=TABLE, IndexName="listing", **indexed)).read_units == 1
    with pytest.raises(AssertionError, match="pk or sk"), meter.on():
        client.query(**query, ProjectionExpression="filler")
    with pytest.raises(AssertionError, match="Scan"), meter.on():
        client.scan(TableName=TABLE)


def test_writes_are_billed_for_the_table_and_every_index_entry(dynamodb: tuple[Any, Meter]) -> None:
    client, meter = dynamodb
    plain, listed = item("a", 1500), item("b", 1500, listed=True)
    assert bill(meter, lambda: client.put_item(TableName=TABLE, Item=plain)).write_units == 2
    assert bill(meter, lambda: client.put_item(TableName=TABLE, Item=listed)).write_units == 2 + 2  # and its entry
    key = {"pk": {"S": "p"}, "sk": {"S": "b"}}
    # the larger of before and after; an index key that moves is a delete and a put of the entry
    moved = bill(
        meter,
        lambda: client.update_item(
            TableName=TABLE,
            Key=key,
            UpdateExpression="SET #o = :o",
            ExpressionAttributeNames={"#o": "order"},
            ExpressionAttributeValues={":o": {"S": "c"}},
        ),
    )
    assert moved.write_units == 2 + 2 + 2
    assert bill(meter, lambda: client.delete_item(TableName=TABLE, Key=key)).write_units == 2 + 2
    # a transaction: twice every action's units
    put = {"Put": {"TableName": TABLE, "Item": item("t", 900)}}
    check = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "p"}, "sk": {"S": "a"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    assert bill(meter, lambda: client.transact_write_items(TransactItems=[put, check])).write_units == 2 * 1 + 2 * 2
