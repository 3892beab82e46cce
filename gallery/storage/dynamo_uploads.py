"""The large uploads a tenant has open, on the aws backend: `UP#<tenant>`, `<upload>` items of the catalog's table,
gone by DynamoDB's TTL (`expires_at`) after their ticket expires. Counting reads one tenant's partition (a handful
of items: the count is bounded), never the table."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from gallery.storage.awserrors import translated
from gallery.storage.dynamo import _dump, _key
from gallery.storage.dynamo_auth import TTL_ATTRIBUTE


class DynamoUploadLedger:
    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def open_upload(self, tenant_id: str, upload: str, expires_at: int, most: int, now: int) -> bool:
        with translated():
            counted = self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                # TTL deletes late (up to days): what has expired is not counted, whether or not it is gone yet.
                FilterExpression=f"finished = :no AND {TTL_ATTRIBUTE} >= :now",
                ExpressionAttributeValues=_dump({":pk": f"UP#{tenant_id}", ":no": False, ":now": now}),
                Select="COUNT",
                ConsistentRead=True,
            )
        if counted["Count"] >= most:
            return False
        item = {"pk": f"UP#{tenant_id}", "sk": upload, "finished": False, TTL_ATTRIBUTE: expires_at}
        with translated():
            self.client.put_item(TableName=self.table, Item=_dump(item))
        return True

    def is_open(self, tenant_id: str, upload: str, now: int) -> bool:
        with translated():
            found = self.client.get_item(TableName=self.table, Key=_key(f"UP#{tenant_id}", upload), ConsistentRead=True)
        item = found.get("Item")
        return bool(item) and item["finished"]["BOOL"] is False and int(item[TTL_ATTRIBUTE]["N"]) >= now

    def claim_upload(self, tenant_id: str, upload: str, now: int) -> bool:
        try:
            with translated(reraise_conditions=True):
                self.client.update_item(
                    TableName=self.table,
                    Key=_key(f"UP#{tenant_id}", upload),
                    UpdateExpression="SET finished = :yes",
                    ConditionExpression=f"finished = :no AND {TTL_ATTRIBUTE} >= :now",
                    ExpressionAttributeValues=_dump({":yes": True, ":no": False, ":now": now}),
                )
        except ClientError:
            return False
        return True

    def close(self) -> None:
        """The boto3 client is shared and kept warm: nothing to close."""
