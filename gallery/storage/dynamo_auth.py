"""Sessions and failed sign-ins on the aws backend, as items of the catalog's table (no Scan, no index):

- `S#<session>`, `S`   a session: its user, the one refresh token (`jti`) it accepts next
- `F#<key>`, `F`       failed sign-ins under a key (an account, a client address)

Both carry `expires_at`, the table's TTL attribute (`gallery provision` turns it on): DynamoDB deletes them once
their time is past, so nothing sweeps them.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from gallery.domain import errors
from gallery.storage.awserrors import translated
from gallery.storage.dynamo import Item, _dump, _key, _load
from gallery.storage.protocols import Failures

TTL_ATTRIBUTE = "expires_at"
_RACES = 5  # a count begun by another request between our two writes: read it again, at most this often


class DynamoAuthStore:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _conditional_update(self, pk: str, sk: str, expression: str, condition: str, values: Item) -> Item | None:
        """UpdateItem under a condition: the item as changed, or None when the condition did not hold."""
        try:
            with translated(reraise_conditions=True):
                response = self.client.update_item(
                    TableName=self.table,
                    Key=_key(pk, sk),
                    UpdateExpression=expression,
                    ConditionExpression=condition,
                    ExpressionAttributeValues=_dump(values),
                    ReturnValues="ALL_NEW",
                )
        except ClientError:
            return None
        return _load(response["Attributes"])

    def start_session(self, session_id: str, user_id: str, jti: str, expires_at: int) -> None:
        item = {"pk": f"S#{session_id}", "sk": "S", "user_id": user_id, "jti": jti, TTL_ATTRIBUTE: expires_at}
        with translated():
            self.client.put_item(TableName=self.table, Item=_dump(item))

    def rotate_session(self, session_id: str, spent_jti: str, new_jti: str, expires_at: int) -> bool:
        changed = self._conditional_update(
            f"S#{session_id}",
            "S",
            f"SET jti = :new, {TTL_ATTRIBUTE} = :expires",
            "jti = :spent",
            {":new": new_jti, ":expires": expires_at, ":spent": spent_jti},
        )
        return changed is not None

    def end_session(self, session_id: str) -> None:
        with translated():
            self.client.delete_item(TableName=self.table, Key=_key(f"S#{session_id}", "S"))

    def failures(self, key: str) -> Failures | None:
        with translated():
            raw = self.client.get_item(TableName=self.table, Key=_key(f"F#{key}", "F"), ConsistentRead=True)
        item = raw.get("Item")
        return None if item is None else _failures(_load(item))

    def add_failure(self, key: str, now: float, forget_after: float) -> Failures:
        pk, stamp, expires = f"F#{key}", Decimal(f"{now:.3f}"), math.ceil(now + forget_after)
        cutoff = Decimal(f"{now - forget_after:.3f}")
        for _ in range(_RACES):
            # An ongoing count: one more, atomically (DynamoDB reads the old item on every right-hand side).
            counted = self._conditional_update(
                pk,
                "F",
                f"SET previous = failed_at, failed_at = :now, {TTL_ATTRIBUTE} = :expires ADD failed :one",
                "failed_at >= :cutoff",
                {":one": 1, ":now": stamp, ":expires": expires, ":cutoff": cutoff},
            )
            if counted is not None:
                return _failures(counted)
            # None yet, or the last one is forgotten: start again, unless someone just did (then count on theirs).
            item = {"pk": pk, "sk": "F", "failed": 1, "failed_at": stamp, TTL_ATTRIBUTE: expires}
            try:
                with translated(reraise_conditions=True):
                    self.client.put_item(
                        TableName=self.table,
                        Item=_dump(item),
                        ConditionExpression="attribute_not_exists(pk) OR failed_at < :cutoff",
                        ExpressionAttributeValues=_dump({":cutoff": cutoff}),
                    )
            except ClientError:
                continue
            return Failures(1, float(stamp))
        raise errors.Unavailable()

    def forgive_failure(self, key: str) -> None:
        self._conditional_update(f"F#{key}", "F", "ADD failed :minus", "failed > :zero", {":minus": -1, ":zero": 0})

    def clear_failures(self, key: str) -> None:
        with translated():
            self.client.delete_item(TableName=self.table, Key=_key(f"F#{key}", "F"))

    def close(self) -> None:
        """The boto3 client is shared and kept warm: nothing to close."""


def _failures(item: Item) -> Failures:
    previous = item.get("previous")
    return Failures(int(item["failed"]), float(item["failed_at"]), None if previous is None else float(previous))
