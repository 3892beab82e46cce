"""What the AWS backend costs when one tenant holds 100,000 images, against the same calls when it holds 1,000, in
what AWS bills rather than in time: DynamoDB read units (computed from the items read, `capacity.py`), S3 requests
and bytes, CloudFront invalidation paths. Capacity is exact and the machine's noise does not touch it, so each call
is metered once.

The galleries are made on moto in-process, in tables of their own, straight through the storage layer's own item
makers (`image_item`, the tag entries and counts its transactions write) into moto's model: rows only, no bytes.
Their images are `list_scale`'s (one of ten common tags each, a handful named "Flux capacitor"), beside 50 system
images. `python -m benchmarks.aws_scale` runs it alone.
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

from benchmarks.capacity import Bill, Meter
from benchmarks.harness import Comparison
from benchmarks.list_scale import LARGE, PAGE, SMALL, _row
from gallery.config import Settings
from gallery.domain.model import SYSTEM_TENANT_ID, ImageQuery, PageQuery, SortOrder, Tenant, TenantProfile
from gallery.storage.aws import keys
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.images import image_item
from gallery.storage.aws.table import dump
from gallery.storage.backends import open_storage
from gallery.storage.protocols import Storage

SYSTEM_IMAGES = 50
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class Gallery:
    storage: Storage
    tenant: str
    settings: Settings
    meter: Meter

    @property
    def catalog(self) -> DynamoCatalog:
        assert isinstance(self.storage.catalog, DynamoCatalog)
        return self.storage.catalog

    def bill(self, call: Callable[[], object]) -> Bill:
        self.meter.reset()
        with self.meter.on():
            call()
        return self.meter.reset()


@contextlib.contextmanager
def moto() -> Iterator[None]:
    from moto import mock_aws

    with mock.patch.dict("os.environ", AWS_ENV), mock_aws():
        yield


def make_gallery(count: int, name: str) -> Gallery:
    """A table holding one tenant's `count` images and the system's 50 (inside `moto()`)."""
    import boto3
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    from gallery.storage.aws.provision import provision

    settings = Settings.from_env({}, backend="aws", table=f"scale-{name}", bucket=f"scale-{name}-bucket")
    provision(settings)
    storage = open_storage(settings)
    profile = TenantProfile(str(uuid.uuid4()), f"Scale {name}", created_time=1)
    storage.catalog.insert_profile(profile)
    tenant = Tenant(str(uuid.uuid4()), f"Scale {name}", profile.id, 1)
    storage.catalog.insert_tenant(tenant)
    rows = [_row(tenant.id, n) for n in range(count)] + [
        _row(SYSTEM_TENANT_ID, 900_000 + n) for n in range(SYSTEM_IMAGES)
    ]
    items: list[dict[str, Any]] = []
    counts: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        items.append(image_item(row))
        for tag in row.tags:
            items.append({**keys.tagged(row, tag), "tags": list(row.tags)})
            counts[row.tenant_id, row.sub_type.value, tag] += 1
    for (owner, sub_type, tag), n in counts.items():
        key = keys.Key(keys.tenant_partition(owner), f"{keys.TAG_COUNTS}{sub_type}#{tag}")
        items.append({**key._asdict(), "count": n})
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][AWS_ENV["AWS_DEFAULT_REGION"]].get_table(settings.table)
    # moto re-adds an item's whole size at each attribute it sets (to refuse items past 400 KB): quadratic, and
    # most of the time a put takes. These items are small; set them plainly.
    with mock.patch.object(LimitedSizeDict, "__setitem__", dict.__setitem__):
        for item in items:
            table.put_item(dump(item))
    client = storage.catalog.table.client  # type: ignore[attr-defined]
    for owner, number in ((tenant.id, count), (SYSTEM_TENANT_ID, SYSTEM_IMAGES)):
        client.update_item(
            TableName=settings.table,
            Key=dump(keys.tenant(owner)._asdict()),
            UpdateExpression="ADD n_IMAGE :n",
            ExpressionAttributeValues=dump({":n": number}),
        )
    meter = Meter(client, boto3.client("dynamodb", region_name=AWS_ENV["AWS_DEFAULT_REGION"]), settings.table)
    return Gallery(storage, tenant.id, settings, meter)


def read_calls(gallery: Gallery, count: int) -> dict[str, Callable[[], object]]:
    """The list and search calls `list_scale` times on the embedded default."""
    tenant, list_images = gallery.tenant, gallery.catalog.list_images
    last = count // PAGE - 1
    own, mixed = ImageQuery(tenant), ImageQuery(tenant, include_system=True)
    pumps = ImageQuery(tenant, tags=("pump",))
    newest = {"sort_property": "createdTime", "sort_order": SortOrder.DESC}
    by_title = {"sort_property": "title", "sort_order": SortOrder.ASC}
    return {
        "first page, newest first": lambda: list_images(own, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
        "first page, by title": lambda: list_images(own, PageQuery(PAGE, 0, **by_title)),  # type: ignore[arg-type]
        "first page, with system images": lambda: list_images(mixed, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
        "last page, newest first": lambda: list_images(own, PageQuery(PAGE, last, **newest)),  # type: ignore[arg-type]
        "last page, by title": lambda: list_images(own, PageQuery(PAGE, last, **by_title)),  # type: ignore[arg-type]
        "last page, with system images": lambda: list_images(mixed, PageQuery(PAGE, last, **newest)),  # type: ignore[arg-type]
        "title search": lambda: list_images(own, PageQuery(PAGE, 0, text_search="capacit")),
        "common tag, first page": lambda: list_images(pumps, PageQuery(PAGE, 0, **newest)),  # type: ignore[arg-type]
        "common tag, last page": lambda: list_images(pumps, PageQuery(PAGE, last // 10, **newest)),  # type: ignore[arg-type]
    }


def run(small: int = SMALL, large: int = LARGE) -> list[Comparison]:
    results = []
    with moto():
        galleries = {count: make_gallery(count, str(count)) for count in (small, large)}
        bills = {
            count: {name: g.bill(call) for name, call in read_calls(g, count).items()} for count, g in galleries.items()
        }
        for name, big in bills[large].items():
            little = bills[small][name]
            limit = 3.0 if "search" in name else 2.0
            label = f"DynamoDB {name}: {large:,} vs {small:,} images (read units)"
            results.append(Comparison(label, big.read_units, little.read_units, limit, unit=" RCU"))
        for gallery in galleries.values():
            gallery.storage.close()
    return results


if __name__ == "__main__":
    import sys

    sizes = [int(arg) for arg in sys.argv[1:3]] or [SMALL, LARGE]
    for result in run(*sizes):
        print(result.line())
