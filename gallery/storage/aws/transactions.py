"""Writes of several items at once: a `Transaction` collects the actions of one TransactWriteItems, each with the
error to raise if its condition is the one that failed, and `commit` sends them and maps DynamoDB's cancellation
reasons back to those errors. This is how an image row, its tenant's usage and its pointers change together.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from gallery.domain import errors
from gallery.storage.aws.errors import error_code, translated
from gallery.storage.aws.keys import Key
from gallery.storage.aws.table import Item, Table, dump, dump_key

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mypy_boto3_dynamodb.type_defs import DeleteTypeDef, PutTypeDef, TransactWriteItemTypeDef, UpdateTypeDef

_TRANSACTION_LIMIT = 100  # actions in one TransactWriteItems, DynamoDB's limit


def _conditions(
    action: PutTypeDef | UpdateTypeDef | DeleteTypeDef,
    condition: str | None,
    values: Item | None,
    names: dict[str, str] | None = None,
) -> None:
    if condition:
        action["ConditionExpression"] = condition
    if values:
        action["ExpressionAttributeValues"] = dump(values)
    if names:
        action["ExpressionAttributeNames"] = names


@dataclass
class Transaction:
    table: Table
    actions: list[TransactWriteItemTypeDef] = field(default_factory=list)
    failures: list[errors.GalleryError | None] = field(default_factory=list)

    def _add(self, action: TransactWriteItemTypeDef, failure: errors.GalleryError | None) -> None:
        self.actions.append(action)
        self.failures.append(failure)

    def put(
        self,
        item: Item,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        values: Item | None = None,
    ) -> None:
        put: PutTypeDef = {"TableName": self.table.name, "Item": dump(item)}
        _conditions(put, condition, values)
        self._add({"Put": put}, failure)

    def update(
        self,
        key: Key,
        expression: str,
        values: Item | None = None,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        names: dict[str, str] | None = None,
    ) -> None:
        update: UpdateTypeDef = {"TableName": self.table.name, "Key": dump_key(key), "UpdateExpression": expression}
        _conditions(update, condition, values, names)
        self._add({"Update": update}, failure)

    def delete(
        self,
        key: Key,
        condition: str | None = None,
        failure: errors.GalleryError | None = None,
        values: Item | None = None,
    ) -> None:
        delete: DeleteTypeDef = {"TableName": self.table.name, "Key": dump_key(key)}
        _conditions(delete, condition, values)
        self._add({"Delete": delete}, failure)

    def claim(self, key: Key, failure: errors.GalleryError, **fields: str) -> None:
        """A unique pointer item (a name, an e-mail): written only while nobody holds its key."""
        self.put({**key._asdict(), **fields}, "attribute_not_exists(pk)", failure)

    def commit(self) -> None:
        if not self.actions:
            return
        if len(self.actions) > _TRANSACTION_LIMIT:
            raise errors.BadRequest(f"Too many changes for one transaction ({len(self.actions)})")
        with translated():
            try:
                self.table.client.transact_write_items(TransactItems=self.actions)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise  # translated as any other failure
                reasons = [reason.get("Code") for reason in exc.response.get("CancellationReasons", [])]
                failure = self._failure(reasons)
                if failure is None:
                    raise errors.Unavailable() from exc
                raise failure from None

    def _failure(self, reasons: Sequence[str | None]) -> errors.GalleryError | None:
        """The error of the first action whose condition failed; a conflict with another transaction is a
        `Conflict` too (the caller may try again); None when neither is why it was cancelled."""
        for reason, failure in zip(reasons, self.failures, strict=False):
            if reason == "ConditionalCheckFailed":
                return failure or errors.Conflict()
        if "TransactionConflict" in reasons:
            return errors.Conflict()
        return None
