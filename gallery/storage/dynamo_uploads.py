"""The large uploads a tenant has open, on the aws backend, as items of the catalog's table:

- `UPS#<tenant>`, `slot-<n>`   one of the tenant's `most` places for an open upload: which upload holds it, finished
                               or not, until when. Taking a place is one conditional write (free, finished or
                               expired), so uploads opened at once can never hold more places than there are.
- `UP#<tenant>`, `<upload>`    which place an upload holds.

Both carry `expires_at`, the table's TTL attribute, and go by themselves once their ticket has expired.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from gallery.storage.awserrors import translated
from gallery.storage.dynamo import Item, _dump, _key, _load
from gallery.storage.dynamo_auth import TTL_ATTRIBUTE


class DynamoUploadLedger:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _get(self, pk: str, sk: str) -> Item | None:
        with translated():
            found = self.client.get_item(TableName=self.table, Key=_key(pk, sk), ConsistentRead=True)
        raw = found.get("Item")
        return None if raw is None else _load(raw)

    def _conditional(self, call: str, **request: Any) -> bool:
        try:
            with translated(reraise_conditions=True):
                getattr(self.client, call)(TableName=self.table, **request)
        except ClientError:  # the condition did not hold
            return False
        return True

    def open_upload(self, tenant_id: str, upload: str, expires_at: int, most: int, now: int) -> bool:
        for slot in range(most):
            taken = self._conditional(
                "put_item",
                Item=_dump(
                    {
                        "pk": f"UPS#{tenant_id}",
                        "sk": f"slot-{slot}",
                        "upload": upload,
                        "finished": False,
                        TTL_ATTRIBUTE: expires_at,
                    }
                ),
                ConditionExpression=f"attribute_not_exists(pk) OR finished = :yes OR {TTL_ATTRIBUTE} < :now",
                ExpressionAttributeValues=_dump({":yes": True, ":now": now}),
            )
            if taken:
                pointer = {"pk": f"UP#{tenant_id}", "sk": upload, "slot": slot, TTL_ATTRIBUTE: expires_at}
                with translated():
                    self.client.put_item(TableName=self.table, Item=_dump(pointer))
                return True
        return False

    def _slot(self, tenant_id: str, upload: str) -> str | None:
        pointer = self._get(f"UP#{tenant_id}", upload)
        return None if pointer is None else f"slot-{int(pointer['slot'])}"

    def is_open(self, tenant_id: str, upload: str, now: int) -> bool:
        slot = self._slot(tenant_id, upload)
        held = self._get(f"UPS#{tenant_id}", slot) if slot else None
        return held is not None and held["upload"] == upload and not held["finished"] and held[TTL_ATTRIBUTE] >= now

    def claim_upload(self, tenant_id: str, upload: str, now: int) -> bool:
        slot = self._slot(tenant_id, upload)
        if slot is None:
            return False
        return self._conditional(
            "update_item",
            Key=_key(f"UPS#{tenant_id}", slot),
            UpdateExpression="SET finished = :yes",
            ConditionExpression=f"upload = :upload AND finished = :no AND {TTL_ATTRIBUTE} >= :now",
            ExpressionAttributeValues=_dump({":yes": True, ":no": False, ":upload": upload, ":now": now}),
        )

    def close(self) -> None:
        """The boto3 client is shared and kept warm: nothing to close."""
