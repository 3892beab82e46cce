"""Search postings on DynamoDB (`gallery.storage.aws.grams`), where they could go wrong: a writer stopped half-way,
two writers out of order, a table from before postings were kept (moto in-process)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gallery.config import Settings
from gallery.domain.model import ImageQuery, PageQuery, SubType
from gallery.storage.aws import keys
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.grams import grams
from gallery.storage.aws.images import POSTED, DynamoImages, image_item
from gallery.storage.aws.provision import provision
from gallery.storage.aws.table import dump
from gallery.storage.protocols import Storage
from tests.storage_fixtures import backend, image, watched
from tests.test_storage_contract import make_tenant


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with backend("aws", tmp_path) as opened:
        yield opened


def catalog_of(storage: Storage) -> DynamoCatalog:
    assert isinstance(storage.catalog, DynamoCatalog)
    return storage.catalog


def found(storage: Storage, tenant: str, needle: str) -> list[str]:
    page = storage.catalog.list_images(ImageQuery(tenant), PageQuery(50, 0, text_search=needle))
    return [i.resource_key for i in page.data]


def posted(storage: Storage, tenant: str, gram: str) -> list[str]:
    table = catalog_of(storage).table
    return [item["sk"] for item in table.partition(keys.gram_partition(tenant, SubType.IMAGE, gram))]


def test_postings_left_by_a_writer_that_stopped_find_nothing_it_did_not_write(storage: Storage) -> None:
    tenant = make_tenant(storage, "Acme")
    pump = image(tenant, "a.png", title="Pump")
    storage.catalog.insert_image(pump, 0)
    # a rename that wrote its postings and stopped before its transaction
    DynamoImages(catalog_of(storage).table).postings.before(pump, replace(pump, title="Chiller", version=2))
    assert posted(storage, tenant, "chi") == ["a.png"]
    assert found(storage, tenant, "chiller") == []  # checked against the text the image holds
    assert found(storage, tenant, "pump") == ["a.png"]


def test_an_older_writer_never_takes_away_what_a_newer_text_needs(storage: Storage) -> None:
    tenant = make_tenant(storage, "Acme")
    first = image(tenant, "a.png", title="Pump")
    storage.catalog.insert_image(first, 0)
    second = replace(first, title="Valve", version=2)
    storage.catalog.update_image(second, 1, 0)
    third = replace(second, title="Pump valve", version=3)
    storage.catalog.update_image(third, 2, 0)
    postings = DynamoImages(catalog_of(storage).table).postings
    postings.after(first, second)  # the first rename's clean-up, arriving late: "pum" was written for version 3
    assert found(storage, tenant, "pump") == ["a.png"]
    storage.catalog.delete_image(tenant, "a.png")
    assert all(posted(storage, tenant, gram) == [] for gram in grams("pump valve"))  # the image's go with it


def test_a_deleted_images_late_clean_up_never_takes_a_new_images_postings(storage: Storage) -> None:
    tenant = make_tenant(storage, "Acme")
    gone = image(tenant, "a.png", title="Pump")
    storage.catalog.insert_image(gone, 0)
    storage.catalog.delete_image(tenant, "a.png")
    storage.catalog.insert_image(image(tenant, "a.png", title="Pump again"), 0)  # another image, the same key
    DynamoImages(catalog_of(storage).table).postings.after(gone, None)  # the delete's clean-up, arriving late
    assert found(storage, tenant, "pump") == ["a.png"]


def test_a_tenant_from_before_postings_is_searched_all_along_and_posted_by_provision(storage: Storage) -> None:
    catalog = catalog_of(storage)
    tenant = make_tenant(storage, "Old")
    rows = [image(tenant, f"{n}.png", title=f"Gauge {n}") for n in range(30)]
    for row in rows:  # written as before postings: the rows alone, the tenant unmarked
        catalog.table.put(image_item(row))
    catalog.table.client.update_item(
        TableName=catalog.table.name,
        Key=dump(keys.tenant(tenant)._asdict()),
        UpdateExpression=f"REMOVE {POSTED}",
    )
    assert found(storage, tenant, "gauge 7") == ["7.png"]  # read from the tenant's rows meanwhile
    settings = Settings.from_env({}, backend="aws", table=catalog.table.name, bucket="contract-bucket")
    assert "search postings: 30 image(s) from before posted" in provision(settings)
    assert "search postings: 0 image(s) from before posted" in provision(settings)  # each tenant once
    with watched(catalog.table.client) as seen:
        assert found(storage, tenant, "gauge 7") == ["7.png"]
    assert seen.count("Query") == len(grams("gauge 7"))  # postings, not the partition
