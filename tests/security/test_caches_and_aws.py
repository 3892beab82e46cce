"""What keeps working when several processes share a catalog, and the aws adapter's own hardening: the ETag cache
forgets on time however busy, the least-privilege policy lets S3 say 404, a delete that keeps losing its race gives
up, and one tenant's dashboards never sit in another tenant's lookups.

(In-process moto: this module runs in the local session only, never beside the aws session's moto server.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gallery.domain import errors
from gallery.domain.model import Dashboard
from gallery.services.etags import CachedTag, EtagCache
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.transactions import Transaction
from gallery.storage.protocols import Storage
from tests.storage_fixtures import backend, image
from tests.test_storage_contract import make_tenant

ROOT = Path(__file__).resolve().parents[2]


def test_the_etag_cache_forgets_on_time_however_often_it_is_asked() -> None:
    """A process asked every second must still learn of another process's update within the TTL."""
    now = [0.0]
    cache = EtagCache(ttl_seconds=60, max_bytes=1 << 20, clock=lambda: now[0])
    cache.put(("image", "t", "logo.png", False), CachedTag("old-etag", False))
    for _ in range(59):
        now[0] += 1
        assert cache.get(("image", "t", "logo.png", False)) == CachedTag("old-etag", False)
    now[0] += 2  # 61 s after it was stored, however often it was read
    assert cache.get(("image", "t", "logo.png", False)) is None


def test_the_api_role_lets_s3_answer_404_for_missing_objects() -> None:
    from tests.stack import template

    (policy,) = template()["Resources"]["ApiRole"]["Properties"]["Policies"]
    statements = policy["PolicyDocument"]["Statement"]
    listing = [s for s in statements if s["Action"] == "s3:ListBucket"]
    assert listing
    assert listing[0]["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:s3:::${DataBucket}"}
    everything = [a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])]
    assert not [a for a in everything if a.endswith("*")]
    assert "dynamodb:Scan" not in everything


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Storage]:
    with backend("aws", tmp_path) as storage:
        yield storage


def test_a_delete_that_keeps_losing_its_race_gives_up(aws: Storage, monkeypatch: pytest.MonkeyPatch) -> None:
    catalog = aws.catalog
    assert isinstance(catalog, DynamoCatalog)
    tenant = make_tenant(aws, "Busy")
    catalog.insert_image(image(tenant, "contested.png"), 0)
    attempts = []

    def always_changed(tx: object) -> None:
        attempts.append(tx)
        raise errors.Conflict()

    monkeypatch.setattr(Transaction, "commit", always_changed)
    with pytest.raises(errors.Conflict):
        catalog.delete_image(tenant, "contested.png")
    assert len(attempts) == 5
    monkeypatch.undo()
    assert catalog.get_image(tenant, "contested.png") is not None  # nothing was half done


def test_dashboard_references_are_kept_per_tenant(aws: Storage) -> None:
    catalog = aws.catalog
    assert isinstance(catalog, DynamoCatalog)
    a, b = make_tenant(aws, "A"), make_tenant(aws, "B")
    link = "tb-image;/api/images/tenant/logo.png"
    for tenant, n in [(a, 1), (b, 2), (b, 3)]:
        catalog.save_dashboard(Dashboard(f"d{n}", tenant, f"D{n}", link, {}, n))
    catalog.save_dashboard(Dashboard("d4", b, "D4", "tb-image;/api/images/system/icon.png", {}, 4))
    partitions = {
        pk: [item["id"] for item in catalog.table.partition(pk)]
        for pk in (f"R#{a}#{link}", f"R#{b}#{link}", f"R#{link}", "R#tb-image;/api/images/system/icon.png")
    }
    assert partitions == {
        f"R#{a}#{link}": ["d1"],
        f"R#{b}#{link}": ["d2", "d3"],
        f"R#{link}": [],  # no tenant's lookups read another tenant's dashboards
        "R#tb-image;/api/images/system/icon.png": ["d4"],  # a system image's, any tenant's: one place
    }
    assert [d.id for d in catalog.dashboards_referring(link, a, 10)] == ["d1"]
    assert [d.id for d in catalog.dashboards_referring("tb-image;/api/images/system/icon.png", None, 10)] == ["d4"]
    # a reference stored before the tenant was in the key is still found, and removed with its dashboard
    catalog.table.client.put_item(
        TableName=catalog.table.name,
        Item={"pk": {"S": f"R#{link}"}, "sk": {"S": f"{a}#d9"}, "tenant_id": {"S": a}, "id": {"S": "d9"}},
    )
    catalog.table.client.put_item(
        TableName=catalog.table.name,
        Item={
            "pk": {"S": f"T#{a}"},
            "sk": {"S": "D#d9"},
            "kind": {"S": "dashboard"},
            "id": {"S": "d9"},
            "tenant_id": {"S": a},
            "title": {"S": "Old"},
            "title_fold": {"S": "old"},
            "image": {"S": link},
            "configuration": {"S": "{}"},
            "created_time": {"N": "9"},
        },
    )
    assert sorted(d.id for d in catalog.dashboards_referring(link, a, 10)) == ["d1", "d9"]
    assert catalog.delete_dashboard(a, "d9")
    assert [item["id"] for item in catalog.table.partition(f"R#{link}")] == []
