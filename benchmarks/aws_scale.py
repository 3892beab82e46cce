"""What the AWS backend costs when one tenant holds 100,000 images, against the same calls when it holds 1,000, in
what AWS bills rather than in time: DynamoDB read units (computed from the items read, `capacity.py`), S3 requests
and bytes, CloudFront invalidation paths; and the daily pass, which reads every image by design, per image. Capacity
is exact and the machine's noise does not touch it, so each call is metered once.

The galleries are made on moto in-process, in tables of their own, straight through the storage layer's own item
makers (`image_item`, the tag entries and counts its transactions write) into moto's model: rows only, no bytes.
Their images are `list_scale`'s (one of ten common tags each, a handful named "Flux capacitor"), beside 50 system
images. `python -m benchmarks.aws_scale` runs it alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any
from unittest import mock

from benchmarks.capacity import Bill, Meter
from benchmarks.harness import Comparison
from benchmarks.list_scale import LARGE, PAGE, SMALL, _row
from gallery.config import Settings
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Descriptor,
    ImageInfo,
    ImageQuery,
    PageQuery,
    SortOrder,
    SubType,
    Tenant,
    TenantProfile,
)
from gallery.site.render import Item
from gallery.storage.aws import keys
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.grams import grams, posting
from gallery.storage.aws.images import image_item
from gallery.storage.aws.table import dump
from gallery.storage.backends import open_storage
from gallery.storage.protocols import Storage
from tests.storage_fixtures import AWS_ENV
from tests.storage_fixtures import distribution as made_distribution

SYSTEM_IMAGES = 50


@dataclass
class Gallery:
    storage: Storage
    tenant: str
    settings: Settings
    meter: Meter
    rows: list[ImageInfo]

    @property
    def catalog(self) -> DynamoCatalog:
        assert isinstance(self.storage.catalog, DynamoCatalog)
        return self.storage.catalog

    def bill(self, call: Callable[[], object]) -> Bill:
        call()
        self.meter.reset()
        with self.meter.on():
            call()
        return self.meter.reset()


@contextlib.contextmanager
def moto() -> Iterator[None]:
    from moto import mock_aws

    with mock.patch.dict("os.environ", AWS_ENV), mock_aws():
        yield


@contextlib.contextmanager
def transactions_without_backups() -> Iterator[None]:
    """moto backs up every table a transaction names, once per action (`copy.deepcopy`), to roll back a cancelled
    one: minutes per transaction on a table of a million items. The runs metered here cancel none, so the tables go
    unbacked (a cancelled transaction would keep what it had done)."""
    import copy

    from moto.dynamodb.models.table import Table

    deepcopy = copy.deepcopy

    def unless_a_table(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else deepcopy(value, memo)

    with mock.patch.object(copy, "deepcopy", unless_a_table):  # moto's models module calls `copy.deepcopy`
        yield


def make_gallery(count: int, name: str, picture: bytes | None = None) -> Gallery:
    """A table holding one tenant's `count` images and the system's 50 (inside `moto()`); given a `picture`, every
    image is that picture (stored once: one set of renditions for the whole site)."""
    import boto3

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
    if picture is not None:
        stored = Descriptor("image/png", 64, 48, len(picture), hashlib.sha256(picture).hexdigest())
        storage.blobs.put(stored.etag, picture)
        rows = [replace(row, original=stored, preview=stored, public_original=None) for row in rows]
    items: list[dict[str, Any]] = []
    counts: Counter[tuple[str, SubType, str]] = Counter()
    for row in rows:
        items.append(image_item(row))
        for tag in row.tags:
            items.append({**keys.tagged(row, tag), "tags": list(row.tags)})
            counts[row.tenant_id, row.sub_type, tag] += 1
    for (owner, sub_type, tag), n in counts.items():
        items.append({**keys.tag_count(owner, sub_type, tag)._asdict(), "count": n})
    put_items(settings.table, [*items, *postings(rows)])
    client = storage.catalog.table.client  # type: ignore[attr-defined]
    for owner, number in ((tenant.id, count), (SYSTEM_TENANT_ID, SYSTEM_IMAGES)):
        client.update_item(
            TableName=settings.table,
            Key=dump(keys.tenant(owner)._asdict()),
            UpdateExpression="ADD n_IMAGE :n",
            ExpressionAttributeValues=dump({":n": number}),
        )
    meter = Meter(client, boto3.client("dynamodb", region_name=AWS_ENV["AWS_DEFAULT_REGION"]), settings.table)
    return Gallery(storage, tenant.id, settings, meter, rows)


def postings(rows: list[ImageInfo]) -> list[dict[str, Any]]:
    """The search postings the catalog's writes keep for these rows (`gallery.storage.aws.grams`)."""
    return [posting(row, gram) for row in rows for gram in sorted(grams(row.search_text))]


def put_items(table_name: str, items: list[dict[str, Any]]) -> None:
    """Straight into moto's model of the table (inside `moto()`), as fast as it takes them."""
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][AWS_ENV["AWS_DEFAULT_REGION"]].get_table(table_name)
    # moto re-adds an item's whole size at each attribute it sets (to refuse items past 400 KB): quadratic, and
    # most of the time a put takes. These items are small; set them plainly.
    with mock.patch.object(LimitedSizeDict, "__setitem__", dict.__setitem__):
        for item in items:
            table.put_item(dump(item))


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


@dataclass(frozen=True)
class Publish:
    """What one run of the publisher cost, for one new image."""

    bill: Bill
    rendered: int
    pages: int
    uploaded: int
    invalidated: int
    seconds: float


@dataclass(frozen=True)
class Daily:
    """What one daily pass cost on a site whose state and bucket are up to date."""

    bill: Bill
    images: int
    seconds: float  # the whole run, on moto
    in_aws: float  # of which in AWS's calls (the SDK and moto): the rest is the publisher's own work


def _site(count: int, name: str, distribution: bool = False) -> tuple[Gallery, Settings]:
    """A gallery of `count` images of one picture and a site bucket for it (inside `moto()`)."""
    import boto3
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 40)).save(picture, "PNG")
    gallery = make_gallery(count, f"{name}-{count}", picture.getvalue())
    s3 = boto3.client("s3", region_name=AWS_ENV["AWS_DEFAULT_REGION"])
    site_bucket = f"scale-{name}-{count}"
    s3.create_bucket(Bucket=site_bucket)
    settings = replace(gallery.settings, site_bucket=site_bucket, site_tenant=gallery.tenant)
    if distribution:
        cloudfront = boto3.client("cloudfront", region_name=AWS_ENV["AWS_DEFAULT_REGION"])
        settings = replace(settings, site_distribution=made_distribution(cloudfront, site_bucket))
    return gallery, settings


@contextlib.contextmanager
def container_tmp() -> Iterator[None]:
    """The container's disk: its own, kept between the runs as a warm one keeps it."""
    with mock.patch.dict("os.environ", {"TMPDIR": tempfile.mkdtemp(prefix="publisher-")}):
        tempfile.tempdir = None
        try:
            yield
        finally:
            tempfile.tempdir = None


def publisher_run(count: int) -> Publish:
    """A site of `count` images, its state as a full pass leaves it (`seed_site`, checked by a full pass that finds
    nothing to change), then one image uploaded and its stream record handed to the publisher (as Lambda would):
    what that run reads, writes and asks for (inside `moto()`)."""
    from gallery import publisher
    from gallery.storage.aws.clients import cloudfront_client, s3_client
    from gallery.storage.aws.images import DynamoImages

    gallery, settings = _site(count, "site", distribution=True)
    with container_tmp():
        seed_site(gallery, settings)
        if count <= SMALL:  # the seed is what a full pass leaves: one finds nothing to bring in
            first = publisher.publish_site(settings, "first publish")
            assert first.error is None, first
            assert first.keys == 0, first.keys
        new = replace(_row(gallery.tenant, count + 1), created_time=2_000_000_000_000)
        stored = next(gallery.catalog.every_image(gallery.tenant, new.sub_type))
        new = replace(new, original=stored.original, preview=stored.preview, public_original=None)
        DynamoImages(gallery.catalog.table).insert_image(new, 0)
        record = {
            "eventName": "INSERT",
            "dynamodb": {"Keys": dump(keys.image(new.tenant_id, new.resource_key)._asdict())},
        }
        meter = gallery.meter
        meter.reset()
        started = time.perf_counter()
        with meter.on(s3_client(settings), cloudfront_client(settings)):
            run = publisher.on_records([record], settings)
        seconds = time.perf_counter() - started
    assert run.error is None, run
    return Publish(meter.reset(), run.rendered, run.pages, len(run.uploaded), len(run.invalidated), seconds)


def daily_run(count: int) -> Daily:
    """A site of `count` images published whole (as `make deploy` leaves it), a first daily pass (which uploads the
    images' files: the seeded state never did), then the daily pass metered: what a day costs when nothing was lost
    (inside `moto()`)."""
    from botocore.client import BaseClient

    from gallery import publisher
    from gallery.storage.aws.clients import cloudfront_client, s3_client

    gallery, settings = _site(count, "daily")
    day = publisher.FULL_PASS_EVERY
    call = BaseClient._make_api_call  # type: ignore[attr-defined]
    in_aws, depth = [0.0], [0]

    def timed(client: Any, *args: Any, **kwargs: Any) -> Any:
        """The outermost call only: the meter reads items by a client of its own from within a call."""
        depth[0] += 1
        started = time.perf_counter()
        try:
            return call(client, *args, **kwargs)
        finally:
            depth[0] -= 1
            if not depth[0]:
                in_aws[0] += time.perf_counter() - started

    with container_tmp():
        seed_site(gallery, settings)
        whole = publisher.publish_site(settings, "first publish")
        assert (whole.error, whole.keys) == (None, 0), whole
        now = time.time()
        warm = publisher.reconcile(settings, now=now + day)
        assert warm.error is None, warm
        gallery.meter.reset()
        started = time.perf_counter()
        meter = gallery.meter.on(s3_client(settings), cloudfront_client(settings))
        with meter, mock.patch.object(BaseClient, "_make_api_call", timed):
            done = publisher.reconcile(settings, now=now + 2 * day)
        seconds = time.perf_counter() - started
    assert done.reason.endswith("full pass"), done
    assert (done.keys, done.rendered, done.pages, done.uploaded, done.deleted) == (0, 0, 0, [], []), done
    return Daily(gallery.meter.reset(), len(gallery.rows), seconds, in_aws[0])


def seed_site(gallery: Gallery, settings: Settings) -> None:
    """The site's state in the table as a full pass leaves it (`gallery.incremental`: every image, oldest first,
    into the newest block of the index and of each of its tags), written straight into moto's model with the state's
    own item makers: a full pass of 100,000 images one transaction at a time takes moto hours."""

    from gallery import publisher
    from gallery.incremental import card_text, version_of
    from gallery.site.builder import search_shard
    from gallery.site.memory import Card
    from gallery.site.paging import SHARD_BLOCKS
    from gallery.site.render import placements, render_images
    from gallery.storage.aws.site_state import INDEX, Member, Place, Record, rank_of
    from gallery.wiring import Gallery as Wired

    wired = Wired.open(settings, signing=False)
    site = publisher.publisher_for(wired, settings)
    builder, options, size = site.builder, site.builder.options.files, site.size
    # The rows the gallery was made of (all public, no key shared): what `site.source.shown` reads, without moto's
    # index queries, which read its whole table for every page.
    rows = sorted(gallery.rows, key=lambda row: (row.created_time, row.resource_key))
    first = render_images(rows[:1], builder.blobs, builder.source.decode_limits, builder.cache.root, options, workers=1)
    plan = first.items[0].plan  # one picture: one plan
    items: list[dict[str, Any]] = []
    heads: dict[str, list[int]] = {}  # list → [top block, cards in it, count, system count]
    by_shard: dict[int, list[tuple[int, str, str]]] = {}
    blocks: Counter[tuple[str, int]] = Counter()
    state = site.state.site_id
    for row in rows:
        item = Item(row, plan)
        text = card_text(item, options)
        page = builder.image_pages([item])[0].fingerprint
        member = Member(row.id, row.resource_key, version_of(item, builder.options), row.is_system, text)
        lists = {}
        for name in (INDEX, *row.tags):
            top, filled, count, system = heads.setdefault(name, [0, 0, 0, 0])
            if filled >= size:
                top, filled = top + 1, 0
            heads[name] = [top, filled + 1, count + 1, system + row.is_system]
            lists[name] = Place(top, rank_of(row.created_time, row.id))
            blocks[name, top] += 1
            items.append(member.item(keys.site_member(state, name, top, lists[name].rank)))
            if name == INDEX:
                by_shard.setdefault(top // SHARD_BLOCKS, []).append((top, lists[name].rank, text))
        placed = sorted(placements(item, options))
        record = Record(row.id, row.resource_key, row.is_system, lists, text, page, placed, member.version)
        items.append(record.item(state))
        items.append({**keys.site_key(state, row.resource_key)._asdict(), "i": row.id})
        items += [keys.site_file_user(state, path, row.id)._asdict() for path in placed]
    items += [{**keys.site_block(state, name, block)._asdict(), "n": n} for (name, block), n in blocks.items()]
    for name, (top, _, count, system) in heads.items():
        items.append({**keys.site_list(state, name)._asdict(), "n": count, "sys": system, "top": top, "seq": 1})
    digests = {}
    for shard, cards in by_shard.items():
        ordered = [text for _, _, text in sorted(cards, key=lambda card: (-card[0], card[1]))]
        digests[str(shard)] = hashlib.sha256(search_shard([Card({}, t) for t in ordered])).hexdigest()[:16]
    items.append({**keys.site(state)._asdict(), "sd": digests, "full_at": int(time.time())})
    put_items(settings.table, items)
    wired.close()


def operation_bills() -> dict[str, Bill]:
    """What one request of each kind costs the table, metered on a gallery of 1,000 images (none depends on the
    size): the reads behind a public link, and the writes of an upload, a rename and a delete."""
    with moto():
        gallery = make_gallery(SMALL, "operations")
        catalog = gallery.catalog
        new = replace(_row(gallery.tenant, SMALL + 1), title="A new pump", tags=("pump", "boiler"))
        renamed = replace(new, title="The pump by the boiler room", version=new.version + 1)
        calls: dict[str, Callable[[], object]] = {
            "upload (the image's transaction and postings)": lambda: catalog.insert_image(new, 0),
            "public link (image row by its public key)": lambda: catalog.find_public_image(new.public_key),
            "rename": lambda: catalog.update_image(renamed, new.version, 0),
            "delete": lambda: catalog.delete_image(new.tenant_id, new.resource_key),
        }
        bills = {}
        for name, call in calls.items():
            gallery.meter.reset()
            with gallery.meter.on():
                call()
            bills[name] = gallery.meter.reset()
        gallery.storage.close()
    return bills


def publisher_comparisons(sites: tuple[int, int] = (SMALL, LARGE)) -> list[Comparison]:
    """One upload's publish in a site of `sites[1]` images against one of `sites[0]`."""
    with moto(), transactions_without_backups():
        runs = {count: publisher_run(count) for count in sites}
    big, little = runs[sites[1]], runs[sites[0]]
    label = f"{sites[1]:,} vs {sites[0]:,} images"
    measures: list[tuple[str, float, float, str]] = [
        ("read units", big.bill.read_units, little.bill.read_units, " RCU"),
        ("write units", big.bill.write_units, little.bill.write_units, " WCU"),
        ("DynamoDB requests", _dynamodb(big.bill), _dynamodb(little.bill), " req"),
        ("S3 requests", big.bill.s3_requests(), little.bill.s3_requests(), " req"),
        ("S3 bytes read", big.bill.s3_bytes_read, little.bill.s3_bytes_read, " B"),
        ("S3 bytes written", big.bill.s3_bytes_written, little.bill.s3_bytes_written, " B"),
        ("pages rendered", big.pages, little.pages, " pages"),
        ("objects uploaded", big.uploaded, little.uploaded, " obj"),
        ("invalidation paths", big.bill.invalidation_paths, little.bill.invalidation_paths, " path"),
    ]
    # moto copies the whole table at every transaction (`copy.deepcopy` in its transact_write_items): its time grows
    # with the table where DynamoDB's does not, so it is shown, not held to a ratio.
    print(f"Publisher, one upload, time on moto in-process: {little.seconds:.1f} s and {big.seconds:.1f} s")
    return [
        Comparison(f"Publisher, one upload, {what}: {label}", ours, max(baseline, 1e-9), 2.0, unit=unit)
        for what, ours, baseline, unit in measures
    ]


def daily_comparisons(sites: tuple[int, int] = (SMALL, 3 * SMALL)) -> list[Comparison]:
    """The daily pass reads every image the site shows: its cost per image, in a site of `sites[1]` images against
    one of `sites[0]` (flat: the pass is linear, no worse), and what it comes to at 100,000 images."""
    with moto(), transactions_without_backups():
        runs = {count: daily_run(count) for count in sites}
    big, little = runs[sites[1]], runs[sites[0]]
    label = f"{sites[1]:,} vs {sites[0]:,} images"

    def own(run: Daily) -> float:
        return run.seconds - run.in_aws

    measures: list[tuple[str, Callable[[Daily], float], str]] = [
        ("read units", lambda run: run.bill.read_units, " RCU"),
        ("its own time", own, " s"),
    ]
    for run in (little, big):
        print(
            f"Daily pass, {run.images:,} images: {run.bill.read_units:g} RCU, {dict(run.bill.requests)}, "
            f"{run.seconds:.1f} s on moto, of which {own(run):.2f} s the publisher's own work"
        )
    # Read units and the publisher's own work grow with the images; requests by pages (1 MB of items a Query, 1,000
    # keys an S3 listing), which these sizes do not fill: they are printed, not carried to 100,000.
    print(
        "Daily pass at 100,000 images, at the larger site's rate: "
        + ", ".join(f"{what} {get(big) / big.images * 100_000:,.0f}{unit}" for what, get, unit in measures)
    )
    rates = [(what, get(big) / big.images, get(little) / little.images, unit) for what, get, unit in measures]
    return [Comparison(f"Daily pass, per image, {what}: {label}", b, s, 2.0, unit=unit) for what, b, s, unit in rates]


def _dynamodb(bill: Bill) -> int:
    return sum(n for name, n in bill.requests.items() if name.startswith("dynamodb:"))


def read_comparisons(small: int = SMALL, large: int = LARGE) -> list[Comparison]:
    """Each list and search call on a tenant of `large` images against one of `small`, in read units: each call
    made once before it is metered (a list with system images counts what the tenant hides at its first call after
    a change, and keeps it)."""
    results = []
    with moto():
        galleries = {count: make_gallery(count, str(count)) for count in (small, large)}
        bills = {
            count: {name: g.bill(call) for name, call in read_calls(g, count).items()} for count, g in galleries.items()
        }
        for name, big in bills[large].items():
            little = bills[small][name]
            label = f"DynamoDB {name}: {large:,} vs {small:,} images"
            results.append(Comparison(label, big.read_units, little.read_units, 2.0, unit=" RCU"))
        for gallery in galleries.values():
            gallery.storage.close()
    return results


def run() -> list[Comparison]:
    return read_comparisons() + publisher_comparisons() + daily_comparisons()


if __name__ == "__main__":
    import sys

    what, sizes = sys.argv[1:2] or ["both"], tuple(int(arg) for arg in sys.argv[2:4])
    results = []
    if what[0] == "operations":
        for name, bill in operation_bills().items():
            print(f"{name:<48} {bill.read_units:6.1f} RCU  {bill.write_units:6.1f} WCU  {dict(bill.requests)}")
    if what[0] in ("reads", "both"):
        results += read_comparisons(*sizes) if sizes else read_comparisons()
    if what[0] in ("publisher", "both"):
        results += publisher_comparisons((sizes[0], sizes[1])) if len(sizes) == 2 else publisher_comparisons()
    if what[0] in ("daily", "both"):
        results += daily_comparisons((sizes[0], sizes[1])) if len(sizes) == 2 else daily_comparisons()
    for result in results:
        print(result.line())
