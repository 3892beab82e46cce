"""One contract, two backends: every storage behaviour the service relies on, on SQLite + files and on DynamoDB + S3
(moto `mock_aws`, in-process)."""

from __future__ import annotations

import hashlib
import io
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gallery.domain import errors
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    Authority,
    Dashboard,
    ImageQuery,
    PageQuery,
    SortOrder,
    SubType,
    Tenant,
    TenantProfile,
    User,
)
from gallery.storage.aws import keys
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.protocols import Storage, read_blob
from tests.storage_fixtures import backend, image


@pytest.fixture(params=["local", "aws"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    with backend(request.param, tmp_path) as opened:
        yield opened


@pytest.fixture
def tenant(storage: Storage) -> str:
    return make_tenant(storage, "Acme")


def make_tenant(storage: Storage, name: str) -> str:
    profile = TenantProfile(str(uuid.uuid4()), f"{name} profile", created_time=1)
    storage.catalog.insert_profile(profile)
    tenant = Tenant(str(uuid.uuid4()), name, profile.id, 1)
    storage.catalog.insert_tenant(tenant)
    return tenant.id


def page(size: int = 10, number: int = 0, **kwargs: object) -> PageQuery:
    return PageQuery(size, number, **kwargs)  # type: ignore[arg-type]


# --- images ---------------------------------------------------------------------------------------------------------
def test_insert_get_and_find_by_public_key(storage: Storage, tenant: str) -> None:
    row = image(tenant, "logo.png")
    storage.catalog.insert_image(row, 0)
    assert storage.catalog.get_image(tenant, "logo.png") == row
    assert storage.catalog.find_public_image(row.public_key) == row
    assert storage.catalog.get_image(tenant, "other.png") is None
    assert storage.catalog.find_public_image("nope") is None
    assert storage.catalog.usage(tenant) == row.size


@pytest.mark.parametrize("has_alpha", [True, False, None])
def test_whether_an_image_is_see_through_is_kept_and_none_means_unknown(
    storage: Storage, tenant: str, has_alpha: bool | None
) -> None:
    row = replace(image(tenant, "logo.png"), has_alpha=has_alpha)
    storage.catalog.insert_image(row, 0)
    assert storage.catalog.get_image(tenant, "logo.png") == row
    (listed,) = storage.catalog.list_images(ImageQuery(tenant), page()).data
    assert listed.has_alpha is has_alpha
    # Learnt later (by a build) only where it was unknown: a known answer is never overwritten.
    assert storage.catalog.learn_has_alpha(row, True) is (has_alpha is None)
    kept = storage.catalog.get_image(tenant, "logo.png")
    assert kept == replace(row, has_alpha=True if has_alpha is None else has_alpha)
    assert storage.catalog.usage(tenant) == row.size


def test_learning_transparency_touches_only_the_row_it_was_learnt_from(storage: Storage, tenant: str) -> None:
    old = image(tenant, "a.png", data=b"old bytes")
    storage.catalog.insert_image(old, 0)
    storage.catalog.update_image(replace(old, title="Renamed", version=2), 1, 0)
    assert not storage.catalog.learn_has_alpha(old, True)  # changed since it was read
    assert storage.catalog.get_image(tenant, "a.png").has_alpha is None  # type: ignore[union-attr]
    storage.catalog.delete_image(tenant, "a.png")
    again = image(tenant, "a.png", data=b"new bytes!")  # the same key, version 1 again: another image
    storage.catalog.insert_image(again, 0)
    assert not storage.catalog.learn_has_alpha(old, True)
    assert storage.catalog.get_image(tenant, "a.png") == again
    assert storage.catalog.usage(tenant) == again.size
    assert not storage.catalog.learn_has_alpha(image(tenant, "missing.png"), True)


def test_the_change_count_moves_with_what_a_site_shows(storage: Storage, tenant: str) -> None:
    """Polled by `gallery serve` to keep its site current; DynamoDB has none (its stream says what changed)."""
    catalog = storage.catalog
    before = catalog.change_count()
    if before is None:
        assert isinstance(storage.catalog, DynamoCatalog)
        return
    seen = [before]

    def moved() -> bool:
        seen.append(catalog.change_count())  # type: ignore[arg-type]
        return seen[-1] != seen[-2]

    first = image(tenant, "a.png")
    catalog.insert_image(first, 0)
    assert moved()
    assert catalog.learn_has_alpha(first, True)
    assert not moved()  # nothing a visitor sees
    catalog.update_image(replace(first, title="Renamed", version=2), 1, 0)
    assert moved()
    with pytest.raises(errors.Conflict):
        catalog.update_image(replace(first, title="Lost", version=2), 1, 0)
    assert not moved()
    catalog.delete_image(tenant, "a.png")
    assert moved()
    catalog.insert_image(image(tenant, "b.png"), 0)
    assert moved()
    catalog.delete_tenant(tenant)
    assert moved()


def test_the_change_log_says_which_images_changed_since_a_cursor(storage: Storage, tenant: str) -> None:
    """A living site reads what changed since its last build, as rows (or ids, for those removed), whatever process
    changed them; DynamoDB keeps no log (its stream says what changed instead)."""
    catalog = storage.catalog
    start = catalog.change_cursor()
    if start is None:
        assert isinstance(catalog, DynamoCatalog)
        assert catalog.changes_since(0) is None
        return
    kept, renamed, removed = image(tenant, "kept.png"), image(tenant, "renamed.png"), image(tenant, "removed.png")
    for made in (kept, renamed, removed):
        catalog.insert_image(made, 0)
    middle = catalog.change_cursor()
    assert middle is not None
    assert middle > start
    catalog.update_image(replace(renamed, title="Renamed", version=2), 1, 0)
    catalog.delete_image(tenant, "removed.png")
    assert catalog.learn_has_alpha(kept, True)  # what rendering learns is no change to show
    changes = catalog.changes_since(middle)
    assert changes is not None
    assert changes.cursor == catalog.change_cursor()
    assert [(i.id, i.title) for i in changes.changed] == [(renamed.id, "Renamed")]  # as it is now
    assert changes.removed == {removed.id}
    everything = catalog.changes_since(start)
    assert everything is not None
    assert {i.id for i in everything.changed} == {kept.id, renamed.id}
    assert everything.removed == {removed.id}
    nothing = catalog.changes_since(changes.cursor)
    assert nothing is not None
    assert (nothing.changed, nothing.removed) == ((), frozenset())
    assert catalog.changes_since(changes.cursor + 1) is None  # a cursor from another catalog: read everything
    catalog.delete_tenant(tenant)
    gone = catalog.changes_since(changes.cursor)
    assert gone is not None
    assert gone.removed == {kept.id, renamed.id}


def test_every_image_reads_one_tenant_and_sub_type_oldest_first(
    storage: Storage, tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gallery.storage.local.images._CHUNK", 3)  # chunk boundaries, without thousands of rows
    other = make_tenant(storage, "Other")
    made = [image(tenant, f"i{n}.png", created=1000 + n // 2) for n in range(8)]  # pairs share a millisecond
    for row in made:
        storage.catalog.insert_image(row, 0)
    storage.catalog.insert_image(image(tenant, "symbol.svg", sub_type=SubType.SCADA_SYMBOL), 0)
    storage.catalog.insert_image(image(other, "i0.png"), 0)
    found = list(storage.catalog.every_image(tenant, SubType.IMAGE))
    assert [i.id for i in found] == [i.id for i in sorted(made, key=lambda i: (i.created_time, i.id))]
    assert [i.resource_key for i in storage.catalog.every_image(tenant, SubType.SCADA_SYMBOL)] == ["symbol.svg"]
    assert list(storage.catalog.every_image(make_tenant(storage, "Empty"), SubType.IMAGE)) == []


@pytest.mark.parametrize("with_system", [False, True])
def test_every_page_in_every_indexed_order_is_the_list_cut_in_pages(
    storage: Storage, tenant: str, with_system: bool
) -> None:
    """Pages near the end are read from the end: whatever way a page is read, the pages put together are the
    whole list in its order (ties in time broken by id, titles by their case-folded form)."""
    titles = ["beta", "Alpha", "alpha", "Gamma", "delta", "Beta two", "épée", "Zulu", "mike", "Echo", "echo", "X", "y"]
    own = [image(tenant, f"k{n}.png", title=t, created=100 + n // 3) for n, t in enumerate(titles)]
    system = [image(SYSTEM_TENANT_ID, f"s{n}.png", title=f"System {n}", created=101 + n) for n in range(4)]
    system.append(image(SYSTEM_TENANT_ID, "k0.png", title="Shadowed", created=102))  # the tenant's k0.png wins
    for row in own + system:
        storage.catalog.insert_image(row, 0)
    try:
        listed = own + (system[:4] if with_system else [])
        for property_, key in (("createdTime", lambda i: i.created_time), ("title", lambda i: i.title.casefold())):
            for order in SortOrder:
                # ties go the list's way: by id, in the same direction
                expected = sorted(listed, key=lambda i: (key(i), i.id), reverse=order is SortOrder.DESC)  # type: ignore[no-untyped-call]
                for size in (3, 5):
                    seen, number = [], 0
                    while True:
                        query = PageQuery(size, number, sort_property=property_, sort_order=order)
                        page = storage.catalog.list_images(ImageQuery(tenant, include_system=with_system), query)
                        assert page.total_elements == len(expected)
                        seen += [i.id for i in page.data]
                        if not page.has_next:
                            break
                        number += 1
                    assert seen == [i.id for i in expected], (property_, order, size)
    finally:
        for row in system:
            storage.catalog.delete_image(SYSTEM_TENANT_ID, row.resource_key)


def test_title_search_finds_substrings_whatever_their_case(storage: Storage, tenant: str) -> None:
    for n, title in enumerate(["Company LOGO", "logo dark", "Background", "Catalogue", "Ölpumpe", "Lo"]):
        storage.catalog.insert_image(image(tenant, f"t{n}.png", title=title, created=n), 0)

    def found(needle: str) -> list[str]:
        query = PageQuery(10, 0, text_search=needle, sort_property="title", sort_order=SortOrder.ASC)
        return [i.title for i in storage.catalog.list_images(ImageQuery(tenant), query).data]

    assert found("ogo") == ["Company LOGO", "logo dark"]
    assert found("LOG") == ["Catalogue", "Company LOGO", "logo dark"]
    assert found("lo") == ["Catalogue", "Company LOGO", "Lo", "logo dark"]  # short: every title holding it
    assert found("ÖLP") == ["Ölpumpe"]
    assert found("zzz") == []
    background = storage.catalog.get_image(tenant, "t2.png")
    assert background is not None
    storage.catalog.update_image(replace(background, title="Logo light", version=2), 1, 0)
    assert "Logo light" in found("ogo")
    storage.catalog.delete_image(tenant, "t0.png")
    assert found("ogo") == ["logo dark", "Logo light"]


def test_alt_text_description_and_tags_are_kept_and_changed_with_the_row(storage: Storage, tenant: str) -> None:
    row = image(tenant, "a.png", alt_text="A red pump", description="Line one\nline two", tags=("pump", "red"))
    storage.catalog.insert_image(row, 0)
    assert storage.catalog.get_image(tenant, "a.png") == row
    changed = replace(row, alt_text="", description="", tags=("blue",), version=2)
    storage.catalog.update_image(changed, 1, 0)
    assert storage.catalog.get_image(tenant, "a.png") == changed
    assert next(storage.catalog.every_image(tenant, SubType.IMAGE)) == changed


def test_search_matches_title_alt_text_description_and_tags_but_not_across_them(storage: Storage, tenant: str) -> None:
    rows = [
        image(tenant, "t.png", title="Boiler room", created=1),
        image(tenant, "a.png", title="One", alt_text="A BOILER seen from above", created=2),
        image(tenant, "d.png", title="Two", description="Installed in 2019.\nThe boiler is red.", created=3),
        image(tenant, "g.png", title="Three", tags=("boiler", "heating"), created=4),
        image(tenant, "n.png", title="Four", alt_text="heat", tags=("ing",), created=5),
    ]
    for row in rows:
        storage.catalog.insert_image(row, 0)

    def found(needle: str, tags: tuple[str, ...] = ()) -> list[str]:
        listed = storage.catalog.list_images(ImageQuery(tenant, tags=tags), PageQuery(10, 0, text_search=needle))
        return [i.resource_key for i in listed.data]

    assert found("boiler") == ["t.png", "a.png", "d.png", "g.png"]
    assert found("oil") == ["t.png", "a.png", "d.png", "g.png"]  # short needles are scanned: same answers
    assert found("heating") == ["g.png"]
    assert found("heating", ("ing",)) == []  # "heat" + "ing" are two fields, not one word
    assert found("boiler", ("heating",)) == ["g.png"]
    assert found("red") == ["d.png"]


def _listed(storage: Storage, query: ImageQuery, **paging: object) -> tuple[int, list[str]]:
    """Every page of a list put together, and the total each page gave (all equal)."""
    seen: list[str] = []
    totals = set()
    for size in (2, 3):
        keys, number = [], 0
        while True:
            listed = storage.catalog.list_images(query, PageQuery(size, number, **paging))  # type: ignore[arg-type]
            totals.add(listed.total_elements)
            keys += [i.resource_key for i in listed.data]
            if not listed.has_next:
                break
            number += 1
        seen = seen or keys
        assert keys == seen
    assert len(totals) == 1
    return totals.pop(), seen


def test_search_follows_every_change_of_an_images_texts(storage: Storage, tenant: str) -> None:
    """On DynamoDB, search reads postings kept beside the rows (`grams.py`): every kind of write must keep them."""
    catalog = storage.catalog

    def found(needle: str, sub_type: SubType = SubType.IMAGE, with_system: bool = False) -> list[str]:
        query = ImageQuery(tenant, sub_type, include_system=with_system)
        return [i.resource_key for i in catalog.list_images(query, page(text_search=needle)).data]

    first = image(
        tenant, "a.png", title="Boiler room", alt_text="A red boiler", description="East wing", tags=("steam",)
    )
    catalog.insert_image(first, 0)
    assert [found(n) for n in ("BOILER", "red boi", "east w", "steam", "oom")] == [["a.png"]] * 5
    assert found("wing steam") == []  # never across two texts
    renamed = replace(first, title="Pump house", alt_text="", description="", tags=(), version=2)
    catalog.update_image(renamed, 1, 0)
    assert [found(n) for n in ("boiler", "east", "steam", "pump h")] == [[], [], [], ["a.png"]]
    with pytest.raises(errors.Conflict):  # a write refused changes nothing search finds
        catalog.update_image(replace(renamed, title="Chiller", version=3), 1, 0)
    assert (found("chiller"), found("pump")) == ([], ["a.png"])
    moved = replace(renamed, sub_type=SubType.SCADA_SYMBOL, version=3)
    catalog.update_image(moved, 2, 0)
    assert (found("pump"), found("pump", SubType.SCADA_SYMBOL)) == ([], ["a.png"])
    catalog.insert_image(image(SYSTEM_TENANT_ID, "s.png", title="System pump", sub_type=SubType.SCADA_SYMBOL), 0)
    catalog.insert_image(image(SYSTEM_TENANT_ID, "a.png", title="Hidden pump", sub_type=SubType.SCADA_SYMBOL), 0)
    try:
        assert sorted(found("pump", SubType.SCADA_SYMBOL, with_system=True)) == ["a.png", "s.png"]
        catalog.delete_image(tenant, "a.png")
        assert sorted(found("pump", SubType.SCADA_SYMBOL, with_system=True)) == ["a.png", "s.png"]  # the system's
        assert found("pump", SubType.SCADA_SYMBOL) == []
    finally:
        for key in ("s.png", "a.png"):
            catalog.delete_image(SYSTEM_TENANT_ID, key)
    assert found("pump", SubType.SCADA_SYMBOL, with_system=True) == []


@pytest.mark.parametrize("with_system", [False, True])
def test_a_tag_filter_lists_the_images_carrying_every_tag_in_every_order(
    storage: Storage, tenant: str, with_system: bool
) -> None:
    palette = [("pump",), ("pump", "red"), ("red",), (), ("pump", "red", "big"), ("pump",), ("red", "pump")]
    own = [
        image(tenant, f"k{n}.png", title=f"{'Bb' if n % 2 else 'aa'} {n}", created=100 + n // 2, tags=tags)
        for n, tags in enumerate(palette)
    ]
    system = [image(SYSTEM_TENANT_ID, f"s{n}.png", created=101 + n, tags=("pump", "red")) for n in range(2)]
    system.append(image(SYSTEM_TENANT_ID, "k1.png", created=102, tags=("pump", "red")))  # shadowed by the tenant's
    for row in own + system:
        storage.catalog.insert_image(row, 0)
    try:
        listed = own + (system[:2] if with_system else [])
        for tags in [("pump",), ("red", "pump"), ("big", "pump"), ("none",), ("pump", "red", "big")]:
            carrying = [i for i in listed if set(tags) <= set(i.tags)]
            query = ImageQuery(tenant, include_system=with_system, tags=tags)
            for prop, key in (("createdTime", lambda i: i.created_time), ("title", lambda i: i.title.casefold())):
                for order in SortOrder:
                    expected = sorted(carrying, key=lambda i: (key(i), i.id), reverse=order is SortOrder.DESC)  # type: ignore[no-untyped-call]
                    total, seen = _listed(storage, query, sort_property=prop, sort_order=order)
                    assert (total, seen) == (len(expected), [i.resource_key for i in expected]), (tags, prop, order)
            total, seen = _listed(storage, query, sort_property="fileName")
            assert (total, seen) == (len(carrying), sorted(i.resource_key for i in carrying))
    finally:
        for row in system:
            storage.catalog.delete_image(SYSTEM_TENANT_ID, row.resource_key)


def test_tag_counts_follow_every_write(storage: Storage, tenant: str) -> None:
    catalog = storage.catalog
    first = image(tenant, "a.png", tags=("pump", "red"))
    second = image(tenant, "b.png", tags=("pump",))
    catalog.insert_image(first, 0)
    catalog.insert_image(second, 0)
    assert catalog.tag_counts(tenant, SubType.IMAGE) == {"pump": 2, "red": 1}
    catalog.update_image(replace(first, tags=("red", "blue"), title="Renamed", version=2), 1, 0)
    assert catalog.tag_counts(tenant, SubType.IMAGE) == {"blue": 1, "pump": 1, "red": 1}
    assert _listed(storage, ImageQuery(tenant, tags=("blue", "red")))[1] == ["a.png"]
    catalog.update_image(replace(second, sub_type=SubType.SCADA_SYMBOL, version=2), 1, 0)
    assert catalog.tag_counts(tenant, SubType.IMAGE) == {"blue": 1, "red": 1}
    assert catalog.tag_counts(tenant, SubType.SCADA_SYMBOL) == {"pump": 1}
    assert _listed(storage, ImageQuery(tenant, SubType.SCADA_SYMBOL, tags=("pump",)))[1] == ["b.png"]
    assert _listed(storage, ImageQuery(tenant, tags=("pump",))) == (0, [])
    catalog.delete_image(tenant, "a.png")
    assert catalog.tag_counts(tenant, SubType.IMAGE) == {}
    assert _listed(storage, ImageQuery(tenant, tags=("red",))) == (0, [])
    assert catalog.tag_counts(make_tenant(storage, "Other"), SubType.SCADA_SYMBOL) == {}


def test_twenty_tags_all_replaced_commit_in_one_write(storage: Storage, tenant: str) -> None:
    """The most one write moves (on DynamoDB, one transaction: the row, 20 entries out, 20 in, 40 counts)."""
    row = image(tenant, "a.png", tags=tuple(f"old{n}" for n in range(20)))
    storage.catalog.insert_image(row, 0)
    new_tags = tuple(f"new{n}" for n in range(20))
    storage.catalog.update_image(replace(row, tags=new_tags, sub_type=SubType.SCADA_SYMBOL, version=2), 1, 0)
    assert storage.catalog.tag_counts(tenant, SubType.SCADA_SYMBOL) == dict.fromkeys(sorted(new_tags), 1)
    assert storage.catalog.tag_counts(tenant, SubType.IMAGE) == {}


def test_keys_are_unique_per_tenant_and_public_keys_everywhere(storage: Storage, tenant: str) -> None:
    other = make_tenant(storage, "Other")
    first = image(tenant, "logo.png")
    storage.catalog.insert_image(first, 0)
    with pytest.raises(errors.KeyTaken):
        storage.catalog.insert_image(image(tenant, "logo.png"), 0)
    storage.catalog.insert_image(image(other, "logo.png"), 0)  # same key, other tenant: fine
    with pytest.raises(errors.AlreadyExists):
        storage.catalog.insert_image(image(other, "x.png", public_key=first.public_key), 0)
    assert storage.catalog.get_image(other, "x.png") is None
    assert storage.catalog.usage(other) == len(b"logo.png")


def test_total_limit_is_checked_inside_the_write(storage: Storage, tenant: str) -> None:
    storage.catalog.insert_image(image(tenant, "a", data=b"x" * 60), 100)
    with pytest.raises(errors.LimitExceeded, match="Resources total size exceeds the maximum of 100 bytes"):
        storage.catalog.insert_image(image(tenant, "b", data=b"y" * 41), 100)
    storage.catalog.insert_image(image(tenant, "c", data=b"z" * 40), 100)
    assert storage.catalog.usage(tenant) == 100
    assert storage.catalog.get_image(tenant, "b") is None


def test_update_is_version_checked_and_moves_usage_by_the_delta(storage: Storage, tenant: str) -> None:
    row = image(tenant, "a", data=b"x" * 10)
    storage.catalog.insert_image(row, 0)
    bigger = replace(row, original=image(tenant, "a", data=b"y" * 30).original, version=2, title="Renamed")
    storage.catalog.update_image(bigger, 1, 100)
    assert storage.catalog.get_image(tenant, "a") == bigger
    assert storage.catalog.usage(tenant) == 30
    with pytest.raises(errors.Conflict):
        storage.catalog.update_image(replace(bigger, version=3), 1, 100)  # based on a stale version
    too_big = replace(bigger, original=image(tenant, "a", data=b"z" * 101).original, version=3)
    with pytest.raises(errors.LimitExceeded):
        storage.catalog.update_image(too_big, 2, 100)
    assert storage.catalog.get_image(tenant, "a") == bigger
    assert storage.catalog.usage(tenant) == 30
    with pytest.raises(errors.NotFound):
        storage.catalog.update_image(image(tenant, "missing"), 1, 0)


def test_update_can_change_the_public_key_but_not_to_a_taken_one(storage: Storage, tenant: str) -> None:
    a, b = image(tenant, "a"), image(tenant, "b")
    storage.catalog.insert_image(a, 0)
    storage.catalog.insert_image(b, 0)
    with pytest.raises(errors.AlreadyExists):
        storage.catalog.update_image(replace(a, public_key=b.public_key, version=2), 1, 0)
    moved = replace(a, public_key="fresh" + "k" * 27, version=2)
    storage.catalog.update_image(moved, 1, 0)
    assert storage.catalog.find_public_image(moved.public_key) == moved
    assert storage.catalog.find_public_image(a.public_key) is None


def test_a_public_key_stays_its_tenants_after_its_image_is_gone(storage: Storage, tenant: str) -> None:
    catalog, other = storage.catalog, make_tenant(storage, "Other")
    original = image(tenant, "logo.png")
    catalog.insert_image(original, 0)
    assert catalog.public_key_owner(original.public_key) == tenant
    assert catalog.public_key_owner("never-used") is None
    catalog.delete_image(tenant, "logo.png")
    assert catalog.find_public_image(original.public_key) is None
    assert catalog.public_key_owner(original.public_key) == tenant  # reserved, not free
    with pytest.raises(errors.AlreadyExists):
        catalog.insert_image(image(other, "thief.png", public_key=original.public_key), 0)
    assert catalog.get_image(other, "thief.png") is None
    assert catalog.usage(other) == 0
    back = image(tenant, "logo.png", public_key=original.public_key)  # its own tenant takes it back
    catalog.insert_image(back, 0)
    assert catalog.find_public_image(original.public_key) == back
    moved = replace(back, public_key="m" * 32, version=2)  # a key an image lets go of is kept for its tenant too
    catalog.update_image(moved, 1, 0)
    theirs = image(other, "x.png")
    catalog.insert_image(theirs, 0)
    with pytest.raises(errors.AlreadyExists):
        catalog.update_image(replace(theirs, public_key=original.public_key, version=2), 1, 0)
    assert catalog.get_image(other, "x.png") == theirs
    assert catalog.public_key_owner(original.public_key) == tenant


def test_delete_returns_the_row_and_releases_usage(storage: Storage, tenant: str) -> None:
    row = image(tenant, "a", data=b"x" * 10)
    storage.catalog.insert_image(row, 0)
    assert storage.catalog.delete_image(tenant, "a") == row
    assert storage.catalog.delete_image(tenant, "a") is None
    assert storage.catalog.usage(tenant) == 0
    assert storage.catalog.find_public_image(row.public_key) is None


def test_blob_references_follow_rows(storage: Storage, tenant: str) -> None:
    other = make_tenant(storage, "Other")
    shared = b"same bytes"
    etag = hashlib.sha256(shared).hexdigest()
    assert not storage.catalog.blob_in_use(etag)
    storage.catalog.insert_image(image(tenant, "a", data=shared), 0)
    storage.catalog.insert_image(image(other, "b", data=shared), 0)
    storage.catalog.delete_image(tenant, "a")
    assert storage.catalog.blob_in_use(etag)
    storage.catalog.delete_image(other, "b")
    assert not storage.catalog.blob_in_use(etag)


def test_list_pages_sorts_and_counts(storage: Storage, tenant: str) -> None:
    titles = ["delta", "Alpha", "charlie", "bravo", "echo"]
    for n, title in enumerate(titles):
        storage.catalog.insert_image(image(tenant, f"{title}.png", title=title, created=100 + n), 0)
    scope = ImageQuery(tenant)
    first = storage.catalog.list_images(scope, page(2, 0))
    assert [i.title for i in first.data] == ["delta", "Alpha"]
    assert (first.total_elements, first.total_pages, first.has_next) == (5, 3, True)
    last = storage.catalog.list_images(scope, page(2, 2))
    assert [i.title for i in last.data] == ["echo"]
    assert last.has_next is False
    by_title = storage.catalog.list_images(scope, page(10, 0, sort_property="title"))
    assert [i.title for i in by_title.data] == ["Alpha", "bravo", "charlie", "delta", "echo"]
    newest = storage.catalog.list_images(scope, page(3, 0, sort_property="createdTime", sort_order=SortOrder.DESC))
    assert [i.title for i in newest.data] == ["echo", "bravo", "charlie"]
    by_title_desc = storage.catalog.list_images(scope, page(2, 1, sort_property="name", sort_order=SortOrder.DESC))
    assert [i.title for i in by_title_desc.data] == ["charlie", "bravo"]


def test_list_search_sub_types_and_system_shadowing(storage: Storage, tenant: str) -> None:
    catalog = storage.catalog
    catalog.insert_image(image(tenant, "shared.png", title="Shared Logo", created=1), 0)
    catalog.insert_image(image(tenant, "pump.svg", title="Pump", sub_type=SubType.SCADA_SYMBOL, created=2), 0)
    catalog.insert_image(image(SYSTEM_TENANT_ID, "shared.png", title="System shared", created=3), 0)
    catalog.insert_image(image(SYSTEM_TENANT_ID, "sys.png", title="System LOGO", created=4), 0)
    own = catalog.list_images(ImageQuery(tenant), page())
    assert [i.resource_key for i in own.data] == ["shared.png"]
    symbols = catalog.list_images(ImageQuery(tenant, SubType.SCADA_SYMBOL), page())
    assert [i.resource_key for i in symbols.data] == ["pump.svg"]
    with_system = catalog.list_images(ImageQuery(tenant, include_system=True), page())
    assert [(i.tenant_id, i.resource_key) for i in with_system.data] == [
        (tenant, "shared.png"),
        (SYSTEM_TENANT_ID, "sys.png"),
    ]
    assert with_system.total_elements == 2
    search = catalog.list_images(ImageQuery(tenant, include_system=True), page(text_search="logo"))
    assert sorted(i.title for i in search.data) == ["Shared Logo", "System LOGO"]
    nothing = catalog.list_images(ImageQuery(tenant), page(text_search="%"))
    assert nothing.total_elements == 0
    by_size = catalog.list_images(ImageQuery(tenant, include_system=True), page(sort_property="size"))
    sizes = [i.size for i in by_size.data]
    assert sizes == sorted(sizes)


def test_a_list_with_system_images_follows_every_change_of_either_key_set(storage: Storage, tenant: str) -> None:
    """Which system images the tenant hides is counted once and kept (on DynamoDB): every way either side's set of
    keys moves is seen by the next list, its total and its pages."""
    catalog = storage.catalog

    def listed() -> tuple[int, list[tuple[str, str]], int]:
        mixed = ImageQuery(tenant, include_system=True)
        newest: dict[str, Any] = {"sort_property": "createdTime", "sort_order": SortOrder.DESC}
        first = catalog.list_images(mixed, page(50, **newest))
        last = catalog.list_images(mixed, page(1, max(first.total_elements - 1, 0), **newest))  # from the end
        seen = [("system" if i.is_system else "own", i.resource_key) for i in first.data]
        return first.total_elements, seen, len(last.data)

    catalog.insert_image(image(SYSTEM_TENANT_ID, "a.png", created=1), 0)
    catalog.insert_image(image(SYSTEM_TENANT_ID, "b.png", created=2), 0)
    catalog.insert_image(image(tenant, "c.png", created=3), 0)
    try:
        assert listed() == (3, [("own", "c.png"), ("system", "b.png"), ("system", "a.png")], 1)
        catalog.insert_image(image(tenant, "a.png", created=4), 0)  # the tenant's side moves: a.png hidden
        assert listed() == (3, [("own", "a.png"), ("own", "c.png"), ("system", "b.png")], 1)
        catalog.insert_image(image(SYSTEM_TENANT_ID, "c.png", created=5), 0)  # the system's side moves: hidden
        assert listed() == (3, [("own", "a.png"), ("own", "c.png"), ("system", "b.png")], 1)
        catalog.delete_image(tenant, "c.png")  # shown again
        assert listed() == (3, [("system", "c.png"), ("own", "a.png"), ("system", "b.png")], 1)
        moved = catalog.get_image(SYSTEM_TENANT_ID, "b.png")
        assert moved is not None
        catalog.update_image(replace(moved, sub_type=SubType.SCADA_SYMBOL, version=moved.version + 1), moved.version, 0)
        assert listed() == (2, [("system", "c.png"), ("own", "a.png")], 1)
        symbols = catalog.list_images(ImageQuery(tenant, SubType.SCADA_SYMBOL, include_system=True), page())
        assert [i.resource_key for i in symbols.data] == ["b.png"]
        catalog.delete_image(SYSTEM_TENANT_ID, "c.png")
        catalog.delete_image(tenant, "a.png")
        assert listed() == (1, [("system", "a.png")], 1)
    finally:
        for key in ("a.png", "b.png", "c.png"):
            catalog.delete_image(SYSTEM_TENANT_ID, key)


def test_another_tenants_rows_are_unreachable(storage: Storage, tenant: str) -> None:
    other = make_tenant(storage, "Other")
    storage.catalog.insert_image(image(tenant, "secret.png"), 0)
    assert storage.catalog.get_image(other, "secret.png") is None
    assert storage.catalog.delete_image(other, "secret.png") is None
    assert storage.catalog.list_images(ImageQuery(other, include_system=True), page()).total_elements == 0
    assert storage.catalog.get_image(tenant, "secret.png") is not None


# --- dashboards -----------------------------------------------------------------------------------------------------
def dashboard(tenant_id: str, configuration: dict[str, object], image_ref: str | None = None) -> Dashboard:
    return Dashboard(str(uuid.uuid4()), tenant_id, "Board", image_ref, configuration, 1)


def test_dashboards_and_their_references(storage: Storage, tenant: str) -> None:
    other = make_tenant(storage, "Other")
    link = "tb-image;/api/images/tenant/logo.png"
    mine = dashboard(tenant, {"widgets": [{"bg": link}, {"bg": "tb-image;/api/images/tenant/other.png"}]})
    theirs = dashboard(other, {}, image_ref="tb-image;/api/images/system/sys.png")
    storage.catalog.save_dashboard(mine)
    storage.catalog.save_dashboard(theirs)
    assert storage.catalog.get_dashboard(tenant, mine.id) == mine
    assert storage.catalog.get_dashboard(other, mine.id) is None
    assert [d.id for d in storage.catalog.dashboards_referring(link, tenant, 10)] == [mine.id]
    assert storage.catalog.dashboards_referring(link, other, 10) == []
    assert storage.catalog.dashboards_referring(link.upper().replace("TB-IMAGE;", "tb-image;"), tenant, 10)
    system_ref = "tb-image;/api/images/system/sys.png"
    assert [d.id for d in storage.catalog.dashboards_referring(system_ref, None, 10)] == [theirs.id]
    assert storage.catalog.dashboards_referring("tb-image;/api/images/tenant/logo", tenant, 10) == []
    changed = Dashboard(mine.id, tenant, "Board 2", None, {"bg": "tb-image;/api/images/tenant/new.png"}, 1)
    storage.catalog.save_dashboard(changed)
    assert storage.catalog.dashboards_referring(link, tenant, 10) == []
    assert storage.catalog.list_dashboards(tenant, page()).data == [changed]
    with pytest.raises(errors.NotFound):
        storage.catalog.save_dashboard(Dashboard(mine.id, other, "Hijack", None, {}, 1))
    assert storage.catalog.delete_dashboard(tenant, mine.id)
    assert not storage.catalog.delete_dashboard(tenant, mine.id)
    assert storage.catalog.dashboards_referring("tb-image;/api/images/tenant/new.png", tenant, 10) == []


# --- accounts -------------------------------------------------------------------------------------------------------
def test_profiles(storage: Storage) -> None:
    catalog = storage.catalog
    default = TenantProfile(str(uuid.uuid4()), "Default", is_default=True, created_time=1)
    catalog.insert_profile(default)
    small = TenantProfile(str(uuid.uuid4()), "Small", 100, 1000, created_time=2)
    catalog.insert_profile(small)
    assert catalog.default_profile() == default
    assert catalog.get_profile(small.id) == small
    with pytest.raises(errors.AlreadyExists):
        catalog.insert_profile(TenantProfile(str(uuid.uuid4()), "Small", created_time=3))
    promoted = TenantProfile(small.id, "Smaller", 50, 500, True, 2)
    catalog.update_profile(promoted)
    assert catalog.default_profile() == promoted
    assert catalog.get_profile(default.id) == TenantProfile(default.id, "Default", 0, 0, False, 1)
    assert [p.name for p in catalog.list_profiles(page()).data] == ["Default", "Smaller"]
    catalog.insert_tenant(Tenant(str(uuid.uuid4()), "Uses it", small.id, 1))
    with pytest.raises(errors.Conflict):
        catalog.delete_profile(small.id)
    assert catalog.delete_profile(default.id)
    assert not catalog.delete_profile(default.id)


def test_tenants(storage: Storage) -> None:
    catalog = storage.catalog
    tenant_id = make_tenant(storage, "Acme")
    assert catalog.find_tenant("Acme") == catalog.get_tenant(tenant_id)
    with pytest.raises(errors.AlreadyExists):
        make_tenant(storage, "Acme")
    tenant = catalog.get_tenant(tenant_id)
    assert tenant is not None
    catalog.update_tenant(Tenant(tenant_id, "Acme Corp", tenant.profile_id, tenant.created_time))
    assert catalog.find_tenant("Acme") is None
    assert catalog.find_tenant("Acme Corp") is not None
    make_tenant(storage, "Beta")
    names = [t.name for t in catalog.list_tenants(page()).data]
    assert names == ["Acme Corp", "Beta"]
    assert [t.name for t in catalog.list_tenants(page(text_search="corp")).data] == ["Acme Corp"]


def test_delete_tenant_removes_its_images_users_and_dashboards(storage: Storage, tenant: str) -> None:
    catalog = storage.catalog
    row = image(tenant, "a.png", tags=("pump", "red"))
    catalog.insert_image(row, 0)
    user = User(str(uuid.uuid4()), "a@acme.example", Authority.TENANT_ADMIN, tenant, "hash")
    catalog.insert_user(user)
    catalog.save_dashboard(dashboard(tenant, {"x": "tb-image;/api/images/tenant/a.png"}))
    removed = catalog.delete_tenant(tenant)
    assert removed == [row]
    assert catalog.get_tenant(tenant) is None
    assert catalog.get_user(user.id) is None
    assert catalog.find_public_image(row.public_key) is None
    assert not catalog.blob_in_use(row.etag)
    assert catalog.dashboards_referring("tb-image;/api/images/tenant/a.png", None, 10) == []
    assert catalog.tag_counts(tenant, SubType.IMAGE) == {}
    if isinstance(catalog, DynamoCatalog):  # nothing of the tenant's is left behind: its tags' counts neither
        assert list(catalog.table.partition(keys.tenant_partition(tenant))) == []
    with pytest.raises(errors.NotFound):
        catalog.delete_tenant(tenant)


def test_users(storage: Storage, tenant: str) -> None:
    catalog = storage.catalog
    assert not catalog.has_users()
    user = User(
        str(uuid.uuid4()), "Admin@Acme.example", Authority.TENANT_ADMIN, tenant, "hash", "A", "B", created_time=5
    )
    catalog.insert_user(user)
    assert catalog.has_users()
    assert catalog.get_user(user.id) == user
    assert catalog.find_user("admin@acme.EXAMPLE") == user
    with pytest.raises(errors.AlreadyExists):
        catalog.insert_user(User(str(uuid.uuid4()), "admin@acme.example", Authority.SYS_ADMIN, SYSTEM_TENANT_ID))
    assert (user.token_generation, user.enabled) == (0, True)
    changed = catalog.change_user(user.id, password_hash="new-hash")
    assert changed == catalog.get_user(user.id)
    assert changed is not None
    assert (changed.password_hash, changed.token_generation, changed.enabled) == ("new-hash", 1, True)
    disabled = catalog.change_user(user.id, enabled=False)
    assert disabled is not None
    assert (disabled.password_hash, disabled.token_generation, disabled.enabled) == ("new-hash", 2, False)
    bumped = catalog.change_user(user.id)
    assert bumped is not None
    assert (bumped.token_generation, bumped.enabled, bumped.first_name) == (3, False, "A")
    assert catalog.change_user(str(uuid.uuid4())) is None
    assert [u.id for u in catalog.list_users(tenant, page()).data] == [user.id]
    assert [u.id for u in catalog.list_users(None, page()).data] == [user.id]
    assert catalog.delete_user(user.id)
    assert not catalog.delete_user(user.id)
    assert catalog.find_user(user.email) is None


def racers(storage: Storage, wanted: int) -> int:
    """How many threads a race may run on: moto's in-process DynamoDB applies concurrent writes without a lock (now
    and then an ADD is lost, one run in six; a clean clone's run saw two conditional rotations of one refresh token
    both succeed), where DynamoDB applies each atomically and each condition against the item as it is. So every race
    here runs on SQLite, and on moto one call at a time: the same calls, each condition still checked."""
    return 1 if ".aws." in type(storage.catalog).__module__ else wanted


def test_concurrent_user_changes_all_count(storage: Storage, tenant: str) -> None:
    """Each change is one atomic write: ten at once leave ten generations, and none undoes another's field."""
    user = User(str(uuid.uuid4()), "busy@acme.example", Authority.TENANT_ADMIN, tenant, "hash")
    storage.catalog.insert_user(user)
    with ThreadPoolExecutor(racers(storage, 5)) as pool:
        list(pool.map(lambda n: storage.catalog.change_user(user.id, enabled=n != 3), range(10)))
    storage.catalog.change_user(user.id, password_hash="kept")
    final = storage.catalog.get_user(user.id)
    assert final is not None
    assert (final.token_generation, final.password_hash) == (11, "kept")


# --- sessions and failed sign-ins ---------------------------------------------------------------------------------
def test_a_session_accepts_each_refresh_token_once(storage: Storage) -> None:
    auth, later = storage.auth, int(time.time()) + 3600
    auth.start_session("s1", "u1", "jti-1", later)
    assert auth.rotate_session("s1", "jti-1", "jti-2", later)
    assert not auth.rotate_session("s1", "jti-1", "jti-3", later)  # spent
    assert auth.rotate_session("s1", "jti-2", "jti-3", later)
    assert not auth.rotate_session("no-such-session", "jti-3", "jti-4", later)
    auth.end_session("s1")
    assert not auth.rotate_session("s1", "jti-3", "jti-4", later)
    auth.end_session("s1")  # ending twice is no error


def test_two_refreshes_with_one_token_make_one_winner(storage: Storage) -> None:
    storage.auth.start_session("s2", "u1", "jti-0", int(time.time()) + 3600)
    with ThreadPoolExecutor(racers(storage, 8)) as pool:
        won = list(pool.map(lambda n: storage.auth.rotate_session("s2", "jti-0", f"next-{n}", 0), range(8)))
    assert won.count(True) == 1


def test_failures_counted_at_once_each_get_a_count_of_their_own(storage: Storage) -> None:
    with ThreadPoolExecutor(racers(storage, 8)) as pool:
        counts = sorted(pool.map(lambda n: storage.auth.add_failure("account:x", 1000.0 + n, 60).count, range(20)))
    assert counts == list(range(1, 21))
    storage.auth.forgive_failure("account:x")
    counted = storage.auth.failures("account:x")
    assert counted is not None
    assert counted.count == 19


def test_failed_sign_ins_count_up_and_are_forgotten(storage: Storage) -> None:
    auth = storage.auth
    assert auth.failures("account:a@b.c") is None
    first = auth.add_failure("account:a@b.c", 1000.0, 60)
    assert (first.count, first.last, first.previous) == (1, 1000.0, None)
    second = auth.add_failure("account:a@b.c", 1010.0, 60)
    assert (second.count, second.last, second.previous) == (2, 1010.0, 1000.0)
    counted = auth.failures("account:a@b.c")
    assert counted is not None
    assert (counted.count, counted.last) == (2, 1010.0)
    assert auth.add_failure("account:a@b.c", 1100.0, 60).count == 1  # the last one was over 60 s before
    assert auth.failures("address:10.0.0.1") is None  # keys are apart
    auth.forgive_failure("account:a@b.c")
    auth.forgive_failure("account:a@b.c")  # never below zero
    forgiven = auth.failures("account:a@b.c")
    assert forgiven is not None
    assert forgiven.count == 0
    auth.clear_failures("account:a@b.c")
    assert auth.failures("account:a@b.c") is None


def test_failure_times_keep_their_milliseconds(storage: Storage) -> None:
    """The wait after a failure is counted from it: a stamp read back in whole seconds would shorten it by up to one
    (a guess 50 ms after the 20th failure at x.97 s went through unthrottled)."""
    storage.auth.add_failure("address:192.0.2.1", 1000.975, 60)
    later = storage.auth.add_failure("address:192.0.2.1", 1001.025, 60)
    assert (later.last, later.previous) == (1001.025, 1000.975)
    counted = storage.auth.failures("address:192.0.2.1")
    assert counted is not None
    assert (counted.last, counted.previous) == (1001.025, 1000.975)
    # Finer than a millisecond: never stored later than it was (the next attempt would wait for nothing).
    storage.auth.add_failure("address:192.0.2.2", 2000.0009, 60)
    finer = storage.auth.failures("address:192.0.2.2")
    assert finer is not None
    assert 2000.0 <= finer.last <= 2000.0009


# --- open large uploads --------------------------------------------------------------------------------------------
def test_open_uploads_are_bounded_even_when_opened_at_once(storage: Storage) -> None:
    ledger, later = storage.uploads, int(time.time()) + 600
    with ThreadPoolExecutor(racers(storage, 8)) as pool:
        opened = list(pool.map(lambda n: ledger.open_upload("t1", f"u{n}", later, 3, 0), range(12)))
    assert opened.count(True) == 3
    assert ledger.open_upload("t2", "other", later, 3, 0)  # another tenant has places of its own
    winners = [f"u{n}" for n, won in enumerate(opened) if won]
    assert all(ledger.is_open("t1", upload, 0) for upload in winners)
    assert not ledger.is_open("t1", "u-never", 0)
    assert ledger.claim_upload("t1", winners[0], 0)
    assert not ledger.claim_upload("t1", winners[0], 0)  # once
    assert not ledger.is_open("t1", winners[0], 0)
    assert ledger.open_upload("t1", "next", later, 3, 0)  # a finished upload frees its place
    assert not ledger.open_upload("t1", "one-too-many", later, 3, 0)
    assert ledger.open_upload("t1", "after-expiry", later + 100, 3, later + 1)  # expired ones free theirs too
    assert not ledger.claim_upload("t1", winners[1], later + 1)  # expired: cannot be finished


def test_two_claims_of_one_upload_make_one_winner(storage: Storage) -> None:
    storage.uploads.open_upload("t1", "race", int(time.time()) + 600, 3, 0)
    with ThreadPoolExecutor(racers(storage, 8)) as pool:
        claimed = list(pool.map(lambda _: storage.uploads.claim_upload("t1", "race", 0), range(8)))
    assert claimed.count(True) == 1


# --- blobs ----------------------------------------------------------------------------------------------------------
def test_blob_store(storage: Storage) -> None:
    blobs = storage.blobs
    data = b"\x89PNG some bytes"
    etag = hashlib.sha256(data).hexdigest()
    assert not blobs.exists(etag)
    blobs.put(etag, data)
    blobs.put(etag, data)  # idempotent
    assert blobs.exists(etag)
    assert read_blob(blobs, etag) == data
    assert list(blobs.etags()) == [etag]
    blobs.delete(etag)
    blobs.delete(etag)  # idempotent
    assert not blobs.exists(etag)
    with pytest.raises(errors.NotFound):
        blobs.open(etag)
    with pytest.raises(errors.NotFound):
        blobs.open("../../etc/passwd")


# --- staging (large uploads) ----------------------------------------------------------------------------------------
def stage(storage: Storage, name: str, data: bytes) -> None:
    """What the client's form POST does: local via our endpoint's store, AWS via S3 itself."""
    if storage.staging.receives_posts:
        storage.staging.store(name, io.BytesIO(data), len(data))
    else:
        blobs = storage.blobs
        blobs.client.put_object(Bucket=blobs.bucket, Key=f"staging/{name}", Body=data)  # type: ignore[attr-defined]


def test_staging_reads_limits_lists_and_deletes(storage: Storage, tenant: str) -> None:
    name = f"{tenant}/{uuid.uuid4().hex}"
    url, fields = storage.staging.post_form(name, 1000, 60, "signed-ticket")
    assert bool(url) is not storage.staging.receives_posts  # S3's URL, or the gallery's own endpoint (its to say)
    assert fields
    if not storage.staging.receives_posts:
        with pytest.raises(errors.NotFound):
            storage.staging.store(name, io.BytesIO(b"x"), 1)
    with pytest.raises(errors.NotFound):
        storage.staging.read(name, 1000)
    stage(storage, name, b"x" * 500)
    assert storage.staging.read(name, 500) == b"x" * 500
    with pytest.raises(errors.LimitExceeded):
        storage.staging.read(name, 499)
    assert name in list(storage.staging.staged_before(time.time() + 60))
    assert name not in list(storage.staging.staged_before(time.time() - 3600))
    storage.staging.delete(name)
    storage.staging.delete(name)  # absent: still fine
    with pytest.raises(errors.NotFound):
        storage.staging.read(name, 1000)


@pytest.mark.parametrize("name", ["../../etc/passwd", "a/b", "x" * 40, ""])
def test_staging_names_are_only_ours(storage: Storage, name: str) -> None:
    with pytest.raises(errors.NotFound):
        storage.staging.read(name, 10)
