"""Dashboards on DynamoDB (`DashboardCatalog`), and which of them refer to an image.

Each `tb-image;<link>` string a dashboard holds is also an item under that reference, written and removed in the
same transaction as the dashboard, so finding the dashboards that protect an image is a read of one or two small
partitions rather than of every dashboard.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from gallery.domain import errors
from gallery.domain.model import TB_IMAGE_PREFIX, Dashboard, Page, PageQuery
from gallery.storage.aws import keys
from gallery.storage.aws.table import Item, TableStore
from gallery.storage.aws.transactions import Transaction


def _dashboard_from(item: Item) -> Dashboard:
    return Dashboard(
        item["id"],
        item["tenant_id"],
        item["title"],
        item.get("image"),
        json.loads(item["configuration"]),
        item["created_time"],
    )


def _image_references(dashboard: Dashboard) -> set[str]:
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


class DynamoDashboards(TableStore):
    def save_dashboard(self, dashboard: Dashboard) -> None:
        key = keys.dashboard(dashboard.tenant_id, dashboard.id)
        existing = self.table.get(key)
        if existing is None and self.table.get(keys.dashboard_owner(dashboard.id)) is not None:
            raise errors.NotFound()  # the id is another tenant's
        old_refs = _image_references(_dashboard_from(existing)) if existing else set()
        new_refs = _image_references(dashboard)
        tx = Transaction(self.table)
        tx.put(
            {
                **key._asdict(),
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
        for reference in sorted(old_refs - new_refs):
            for partition in keys.reference_partitions(dashboard.tenant_id, reference):
                tx.delete(keys.referrer(partition, dashboard.tenant_id, dashboard.id))
        for reference in sorted(new_refs - old_refs):
            partition = keys.reference_partitions(dashboard.tenant_id, reference)[0]
            referrer = keys.referrer(partition, dashboard.tenant_id, dashboard.id)
            tx.put({**referrer._asdict(), "tenant_id": dashboard.tenant_id, "id": dashboard.id})
        tx.put({**keys.dashboard_owner(dashboard.id)._asdict(), "tenant_id": dashboard.tenant_id})
        tx.commit()

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> Dashboard | None:
        item = self.table.get(keys.dashboard(tenant_id, dashboard_id))
        return None if item is None else _dashboard_from(item)

    def list_dashboards(self, tenant_id: str, page: PageQuery) -> Page[Dashboard]:
        needle = page.text_search.casefold()
        partition = self.table.partition(keys.tenant_partition(tenant_id), keys.DASHBOARDS)
        found = [_dashboard_from(i) for i in partition if needle in i["title_fold"]]
        found.sort(key=lambda d: (d.title.casefold(), d.id))
        return Page(found[page.offset : page.offset + page.page_size], len(found), page)

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool:
        existing = self.get_dashboard(tenant_id, dashboard_id)
        if existing is None:
            return False
        tx = Transaction(self.table)
        tx.delete(keys.dashboard(tenant_id, dashboard_id))
        tx.delete(keys.dashboard_owner(dashboard_id))
        for reference in sorted(_image_references(existing)):
            for partition in keys.reference_partitions(tenant_id, reference):
                tx.delete(keys.referrer(partition, tenant_id, dashboard_id))
        tx.commit()
        return True

    def dashboards_referring(self, reference: str, tenant_id: str | None, limit: int) -> list[Dashboard]:
        found: list[Dashboard] = []
        partitions = keys.reference_partitions(tenant_id, reference.casefold())
        for item in itertools.chain.from_iterable(self.table.partition(pk) for pk in partitions):
            if tenant_id is not None and item["tenant_id"] != tenant_id:
                continue
            dashboard = self.get_dashboard(item["tenant_id"], item["id"])
            if dashboard is not None:
                found.append(dashboard)
            if len(found) >= limit:
                break
        return found
