"""Sessions and failed sign-ins on the aws backend (`AuthStore`), as items of the catalog's table (no Scan, no
index): a session holds its user and the one refresh token (`jti`) it accepts next; failed sign-ins are counted
under a key (an account, a client address).

Both carry the table's TTL attribute (`gallery provision` turns it on): DynamoDB deletes them once their time is
past, so nothing sweeps them.
"""

from __future__ import annotations

import math
from decimal import Decimal

from gallery.domain import errors
from gallery.storage.aws import keys
from gallery.storage.aws.keys import TTL_ATTRIBUTE
from gallery.storage.aws.table import Item, TableStore
from gallery.storage.protocols import Failures

_RACES = 5  # a count begun by another request between our two writes: read it again, at most this often


def _failures(item: Item) -> Failures:
    previous = item.get("previous")
    return Failures(int(item["failed"]), float(item["failed_at"]), None if previous is None else float(previous))


def _millis(seconds: float) -> Decimal:
    """To the millisecond, rounded down: never later than the moment it stands for (a stamp rounded up would make
    the very next attempt wait, however free it should be)."""
    return Decimal(math.floor(seconds * 1000)) / 1000


class DynamoAuthStore(TableStore):
    def start_session(self, session_id: str, user_id: str, jti: str, expires_at: int) -> None:
        key = keys.session(session_id)
        self.table.put({**key._asdict(), "user_id": user_id, "jti": jti, TTL_ATTRIBUTE: expires_at})

    def rotate_session(self, session_id: str, spent_jti: str, new_jti: str, expires_at: int) -> bool:
        changed = self.table.update_if(
            keys.session(session_id),
            f"SET jti = :new, {TTL_ATTRIBUTE} = :expires",
            "jti = :spent",
            {":new": new_jti, ":expires": expires_at, ":spent": spent_jti},
        )
        return changed is not None

    def end_session(self, session_id: str) -> None:
        self.table.delete(keys.session(session_id))

    def failures(self, key: str) -> Failures | None:
        item = self.table.get(keys.failures(key))
        return None if item is None else _failures(item)

    def add_failure(self, key: str, now: float, forget_after: float) -> Failures:
        where, stamp, expires = keys.failures(key), _millis(now), math.ceil(now + forget_after)
        cutoff = _millis(now - forget_after)
        for _ in range(_RACES):
            # An ongoing count: one more, atomically (DynamoDB reads the old item on every right-hand side).
            counted = self.table.update_if(
                where,
                f"SET previous = failed_at, failed_at = :now, {TTL_ATTRIBUTE} = :expires ADD failed :one",
                "failed_at >= :cutoff",
                {":one": 1, ":now": stamp, ":expires": expires, ":cutoff": cutoff},
            )
            if counted is not None:
                return _failures(counted)
            # None yet, or the last one is forgotten: start again, unless someone just did (then count on theirs).
            item = {**where._asdict(), "failed": 1, "failed_at": stamp, TTL_ATTRIBUTE: expires}
            if self.table.put_if(item, "attribute_not_exists(pk) OR failed_at < :cutoff", {":cutoff": cutoff}):
                return Failures(1, float(stamp))
        raise errors.Unavailable()

    def forgive_failure(self, key: str) -> None:
        self.table.update_if(keys.failures(key), "ADD failed :minus", "failed > :zero", {":minus": -1, ":zero": 0})

    def clear_failures(self, key: str) -> None:
        self.table.delete(keys.failures(key))
