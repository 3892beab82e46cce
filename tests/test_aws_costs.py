"""What the DynamoDB catalog costs (moto in-process), counted in requests and in read units as DynamoDB bills them
(`benchmarks.capacity`): no Scan ever; a first or last page, with or without system images or a tag, costs the
same for a tenant of 5,000 images as for one of 50."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from benchmarks.aws_scale import postings, put_items
from benchmarks.capacity import Meter
from gallery.domain.model import SYSTEM_TENANT_ID, ImageQuery, PageQuery, SortOrder, SubType
from gallery.storage.aws import keys
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.images import image_item
from gallery.storage.aws.table import dump, dump_key
from gallery.storage.protocols import Storage
from tests.storage_fixtures import aws_env, backend, image, watched
from tests.test_storage_contract import make_tenant

if TYPE_CHECKING:
    pass

IMAGES = 5000
SYSTEM = 30
PAGE = 20


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Storage, str, str]]:
    """A table with a tenant of 5,000 images, a neighbour whose keys are the same, and 30 system images."""
    with backend("aws", tmp_path_factory.mktemp("big")) as storage:
        catalog = storage.catalog
        assert isinstance(catalog, DynamoCatalog)
        tenant, neighbour = make_tenant(storage, "Big"), make_tenant(storage, "Neighbour")
        rows = [image(tenant, f"logo {n:04d}.png", title=f"Logo {n:04d}", created=1000 + n) for n in range(IMAGES)]
        rows += [image(neighbour, f"logo {n:04d}.png", created=1000 + n) for n in range(50)]
        rows += [image(SYSTEM_TENANT_ID, f"system {n}.png", created=500 + 100 * n) for n in range(SYSTEM)]
        put_items(catalog.table.name, [image_item(row) for row in rows] + postings(rows))  # as the catalog writes
        for owner, count in ((tenant, IMAGES), (neighbour, 50), (SYSTEM_TENANT_ID, SYSTEM)):
            catalog.table.client.update_item(
                TableName=catalog.table.name,
                Key=dump_key(keys.tenant(owner)),
                UpdateExpression="SET n_IMAGE = :n",
                ExpressionAttributeValues=dump({":n": count}),
            )
        yield storage, tenant, neighbour


def requests_for(storage: Storage, scope: ImageQuery, query: PageQuery) -> tuple[int, list[str]]:
    assert isinstance(storage.catalog, DynamoCatalog)
    with watched(storage.catalog.table.client) as seen:
        result = storage.catalog.list_images(scope, query)
    return seen.count(), [i.resource_key for i in result.data]


def test_first_pages_take_two_requests_in_every_indexed_order(big: tuple[Storage, str, str]) -> None:
    storage, tenant, _ = big
    newest = requests_for(storage, ImageQuery(tenant), PageQuery(PAGE, 0, sort_order=SortOrder.DESC))
    assert newest == (2, [f"logo {n:04d}.png" for n in range(IMAGES - 1, IMAGES - 1 - PAGE, -1)])
    by_title = requests_for(storage, ImageQuery(tenant), PageQuery(PAGE, 0, sort_property="title"))
    assert by_title == (2, [f"logo {n:04d}.png" for n in range(PAGE)])


def test_the_last_page_is_read_from_the_end(big: tuple[Storage, str, str]) -> None:
    storage, tenant, _ = big
    last = IMAGES // PAGE - 1
    count, keys = requests_for(storage, ImageQuery(tenant), PageQuery(PAGE, last, sort_order=SortOrder.DESC))
    assert keys == [f"logo {n:04d}.png" for n in range(PAGE - 1, -1, -1)]
    assert count == 2  # the counters, one query from the other end


def test_a_page_inside_reads_keys_to_it_from_the_nearer_end(big: tuple[Storage, str, str]) -> None:
    storage, tenant, _ = big
    number = IMAGES // PAGE // 2 + 10  # past the middle: read from the end
    count, keys = requests_for(storage, ImageQuery(tenant), PageQuery(PAGE, number, sort_order=SortOrder.DESC))
    first = IMAGES - 1 - number * PAGE
    assert keys == [f"logo {n:04d}.png" for n in range(first, first - PAGE, -1)]
    # The counters, one keys-only query per 1,000 rows up to the page from the end, one BatchGetItem for the page.
    assert count == 1 + math.ceil((IMAGES - number * PAGE) / 1000) + 1


def test_search_reads_the_images_posted_under_the_needles_rarest_trigram(
    big: tuple[Storage, str, str], metered: Meter
) -> None:
    """ "LOGO 004": every image has "log", "ogo", "go " and "o 0"; "004" only fourteen of them (0040–0049, 1004,
    2004, 3004, 4004): those are read and checked, and cost what they cost among 50 images."""
    storage, tenant, neighbour = big
    count, keys = requests_for(storage, ImageQuery(tenant), PageQuery(PAGE, 0, text_search="LOGO 004"))
    assert keys == [f"logo {n:04d}.png" for n in range(40, 50)]
    assert count <= 1 + 6 + 1  # the tenant's item, a page of each trigram's postings, the candidates' rows
    big_tenant = read_units(metered, storage, ImageQuery(tenant), PageQuery(PAGE, 0, text_search="LOGO 004"))
    small_tenant = read_units(metered, storage, ImageQuery(neighbour), PageQuery(PAGE, 0, text_search="LOGO 004"))
    assert big_tenant <= 2 * small_tenant, (big_tenant, small_tenant)
    with_system = ImageQuery(tenant, include_system=True)
    assert read_units(metered, storage, with_system, PageQuery(PAGE, 0, text_search="logo 004")) <= 2 * small_tenant


def test_a_needle_shorter_than_a_trigram_reads_the_tenant(big: tuple[Storage, str, str]) -> None:
    storage, tenant, _ = big
    found = storage.catalog.list_images(ImageQuery(tenant), PageQuery(PAGE, 0, text_search="9"))
    assert found.total_elements == sum(1 for n in range(IMAGES) if "9" in f"{n:04d}")


def test_a_neighbours_listing_and_keys_never_reach_the_big_tenant(big: tuple[Storage, str, str]) -> None:
    storage, tenant, neighbour = big
    page = storage.catalog.list_images(ImageQuery(neighbour, include_system=True), PageQuery(100, 0))
    assert page.total_elements == 50 + SYSTEM
    assert {i.tenant_id for i in page.data} == {neighbour, SYSTEM_TENANT_ID}
    mine = storage.catalog.get_image(tenant, "logo 4999.png")
    assert mine is not None
    assert storage.catalog.get_image(neighbour, "logo 4999.png") is None


def test_the_guard_fails_on_a_scan() -> None:
    import boto3
    from moto import mock_aws

    with aws_env(), mock_aws():
        client = boto3.client("dynamodb")
        with pytest.raises(AssertionError, match="Scan"), watched(client):
            client.scan(TableName="anything")


def test_every_image_reads_a_tenant_in_one_pass(big: tuple[Storage, str, str]) -> None:
    """The static build's and the export's read: the index straight through, whole rows, no page numbers."""
    storage, tenant, _ = big
    assert isinstance(storage.catalog, DynamoCatalog)
    with watched(storage.catalog.table.client) as seen:
        found = [i.resource_key for i in storage.catalog.every_image(tenant, SubType.IMAGE)]
    assert found == [f"logo {n:04d}.png" for n in range(IMAGES)]  # oldest first, each once, the neighbour's not
    assert seen.count() <= math.ceil(1.2 * IMAGES / 1000)
    # What it replaces: pages of 1,000 by number, each read up to its end again.
    with watched(storage.catalog.table.client) as paged:
        for number in range(IMAGES // 1000):
            storage.catalog.list_images(ImageQuery(tenant), PageQuery(1000, number))
    assert paged.count() > 10 * seen.count()


@pytest.fixture(scope="module")
def metered(big: tuple[Storage, str, str]) -> Meter:
    import boto3

    storage, _, _ = big
    assert isinstance(storage.catalog, DynamoCatalog)
    table = storage.catalog.table
    return Meter(table.client, boto3.client("dynamodb", region_name="us-east-1"), table.name)


def read_units(meter: Meter, storage: Storage, scope: ImageQuery, query: PageQuery) -> float:
    storage.catalog.list_images(scope, query)  # once before: a list with system images keeps what it counted
    meter.reset()
    with meter.on():
        found = storage.catalog.list_images(scope, query)
    assert found.data, "an empty page costs little"
    return meter.reset().read_units


@pytest.mark.parametrize("with_system", [False, True], ids=["own", "with system images"])
@pytest.mark.parametrize("where", ["first", "last"])
@pytest.mark.parametrize("order", ["createdTime", "title"])
def test_a_first_or_last_page_costs_the_same_read_units_at_5000_images_as_at_50(
    big: tuple[Storage, str, str], metered: Meter, with_system: bool, where: str, order: str
) -> None:
    storage, tenant, neighbour = big
    units = {}
    for owner, count in ((tenant, IMAGES), (neighbour, 50)):
        number = 0 if where == "first" else math.ceil((count + with_system * SYSTEM) / PAGE) - 1
        query = PageQuery(PAGE, number, sort_property=order, sort_order=SortOrder.DESC)
        units[count] = read_units(metered, storage, ImageQuery(owner, include_system=with_system), query)
    assert units[IMAGES] <= 2 * units[50], units
    assert units[IMAGES] <= 5, units  # the counters and twenty rows of a few hundred bytes


def test_what_a_list_with_system_images_keeps_is_counted_again_after_a_change(
    big: tuple[Storage, str, str], metered: Meter
) -> None:
    storage, _, neighbour = big
    mixed, query = ImageQuery(neighbour, include_system=True), PageQuery(PAGE, 0)
    storage.catalog.insert_image(image(SYSTEM_TENANT_ID, "logo 0001.png", created=1), 0)  # the neighbour hides it
    try:
        with metered.on():
            counted = storage.catalog.list_images(mixed, query)
        recount = metered.reset()
        with metered.on():
            kept = storage.catalog.list_images(mixed, query)
        steady = metered.reset()
    finally:
        storage.catalog.delete_image(SYSTEM_TENANT_ID, "logo 0001.png")
    assert counted.total_elements == kept.total_elements == 50 + SYSTEM
    assert recount.write_units > 0
    assert steady.write_units == 0
    assert steady.read_units < recount.read_units
