"""The large uploads a tenant has open, on the aws backend (`UploadLedger`), as items of the catalog's table: a
tenant has `most` places for an open upload, each saying which upload holds it, finished or not, until when, and
each upload has a pointer to the place it holds. Taking a place is one conditional write (free, finished or
expired), so uploads opened at once can never hold more places than there are.

Both carry the table's TTL attribute and go by themselves once their ticket has expired.
"""

from __future__ import annotations

from gallery.storage.aws import keys
from gallery.storage.aws.keys import TTL_ATTRIBUTE
from gallery.storage.aws.table import TableStore


class DynamoUploadLedger(TableStore):
    def open_upload(self, tenant_id: str, upload: str, expires_at: int, most: int, now: int) -> bool:
        for slot in range(most):
            held = {**keys.upload_slot(tenant_id, slot)._asdict(), "upload": upload, "finished": False}
            taken = self.table.put_if(
                {**held, TTL_ATTRIBUTE: expires_at},
                f"attribute_not_exists(pk) OR finished = :yes OR {TTL_ATTRIBUTE} < :now",
                {":yes": True, ":now": now},
            )
            if taken:
                pointer = keys.upload(tenant_id, upload)._asdict()
                self.table.put({**pointer, "slot": slot, TTL_ATTRIBUTE: expires_at})
                return True
        return False

    def _slot(self, tenant_id: str, upload: str) -> keys.Key | None:
        pointer = self.table.get(keys.upload(tenant_id, upload))
        return None if pointer is None else keys.upload_slot(tenant_id, int(pointer["slot"]))

    def is_open(self, tenant_id: str, upload: str, now: int) -> bool:
        slot = self._slot(tenant_id, upload)
        held = self.table.get(slot) if slot else None
        return held is not None and held["upload"] == upload and not held["finished"] and held[TTL_ATTRIBUTE] >= now

    def claim_upload(self, tenant_id: str, upload: str, now: int) -> bool:
        slot = self._slot(tenant_id, upload)
        if slot is None:
            return False
        claimed = self.table.update_if(
            slot,
            "SET finished = :yes",
            f"upload = :upload AND finished = :no AND {TTL_ATTRIBUTE} >= :now",
            {":yes": True, ":no": False, ":upload": upload, ":now": now},
        )
        return claimed is not None
