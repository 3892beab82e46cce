"""Rules that live in the services, met without HTTP: the role table, what views used to decide, the blob keeper's
early quota check, downloads that read the catalog once, and a build that needs no token secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from gallery.domain import errors, fields
from gallery.domain.access import PERMISSIONS, Action, Principal
from gallery.domain.model import Authority, FileLimits, PageQuery, Scope, SubType, User
from gallery.services.dashboards import DashboardDraft
from gallery.services.images import MAX_BULK
from gallery.services.site_source import Selection, shown
from gallery.storage.aws.provision import provision
from gallery.wiring import Gallery
from tests.conftest import Seed, make_settings
from tests.helpers import png
from tests.storage_fixtures import aws_env


def principal(user: User) -> Principal:
    return Principal(user.id, user.email, user.authority, user.tenant_id, user.customer_id)


@pytest.fixture
def people(seed: Seed) -> dict[str, Principal]:
    return {name: principal(user) for name, user in seed.users.items()}


def test_every_action_has_its_authorities_and_only_admins_change_images() -> None:
    assert set(PERMISSIONS) == set(Action)
    assert all(PERMISSIONS[action] for action in Action)
    assert PERMISSIONS[Action.MANAGE_IMAGES] == {Authority.SYS_ADMIN, Authority.TENANT_ADMIN}
    assert PERMISSIONS[Action.ADMINISTER] == {Authority.SYS_ADMIN}


def test_services_read_the_role_table_whoever_calls_them(gallery: Gallery, people: dict[str, Principal]) -> None:
    customer, sysadmin, admin = people["customer"], people["sysadmin"], people["admin"]
    with pytest.raises(errors.PermissionDenied):
        gallery.images.upload(customer, "a.png", png(), None, None)
    with pytest.raises(errors.PermissionDenied):
        gallery.images.list_images(customer, PageQuery(10, 0), SubType.IMAGE, include_system=False)
    with pytest.raises(errors.PermissionDenied):
        gallery.dashboards.save(sysadmin, DashboardDraft("Lobby", None, {}))
    made = gallery.images.upload(admin, "a.png", png(), None, None)
    # A customer may view what it may not list: the authenticated download.
    assert gallery.downloads.image(customer, Scope.TENANT, made.resource_key, False).etag == made.etag


def test_nobody_deletes_themselves_and_bulk_deletes_are_bounded(gallery: Gallery, people: dict[str, Principal]) -> None:
    sysadmin = people["sysadmin"]
    with pytest.raises(errors.BadRequest, match="cannot delete yourself"):
        gallery.accounts.delete_user(sysadmin.user_id, actor=sysadmin)
    assert gallery.accounts.get_user(sysadmin.user_id)
    targets = [(Scope.TENANT, f"{n}.png") for n in range(MAX_BULK + 1)]
    with pytest.raises(errors.BadRequest, match=f"At most {MAX_BULK}"):
        gallery.images.delete_many(people["admin"], targets, force=False)
    outcome = gallery.images.delete_many(people["admin"], targets[:2], force=False).to_json()
    assert (outcome["success"], outcome["deleted"]) == (False, 0)
    assert [r["error"]["status"] for r in outcome["results"]] == [404, 404]


def test_the_upload_limit_the_ui_shows_is_the_tenants_and_none_for_the_sysadmin(
    gallery: Gallery, people: dict[str, Principal]
) -> None:
    profile = gallery.accounts.create_profile("small", FileLimits(max_resource_size=1234))
    tenant = gallery.accounts.get_tenant(people["admin"].tenant_id)
    gallery.accounts.update_tenant(tenant.id, tenant.name, profile.id)
    assert gallery.images.caller_limits(people["admin"]).max_resource_size == 1234
    assert gallery.images.caller_limits(people["sysadmin"]).max_resource_size == 0


class CountingBlobs:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.puts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def put(self, etag: str, data: bytes) -> None:
        self.puts += 1
        self.inner.put(etag, data)


def test_bytes_over_the_tenants_total_are_refused_before_they_are_written(
    gallery: Gallery, people: dict[str, Principal]
) -> None:
    admin = people["admin"]
    first = png(10, 10, (1, 2, 3))
    profile = gallery.accounts.create_profile("tight", FileLimits(max_resources_in_bytes=len(first) + 10))
    tenant = gallery.accounts.get_tenant(admin.tenant_id)
    gallery.accounts.update_tenant(tenant.id, tenant.name, profile.id)
    gallery.images.upload(admin, "first.png", first, None, None)
    counting = CountingBlobs(gallery.images.keeper.blobs)
    gallery.images.keeper.blobs = counting
    before = set(gallery.storage.blobs.etags())
    with pytest.raises(errors.LimitExceeded):
        gallery.images.upload(admin, "second.png", png(40, 40, (9, 9, 9)), None, None)
    assert counting.puts == 0  # not written, fsynced, read back and deleted: never written at all
    assert set(gallery.storage.blobs.etags()) == before
    assert gallery.images.usage(admin.tenant_id) == len(first)


class CountingCatalog:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def get_image(self, tenant_id: str, key: str) -> Any:
        self.reads += 1
        return self.inner.get_image(tenant_id, key)


def test_a_download_reads_the_catalog_once_and_a_cached_tag_not_at_all(
    gallery: Gallery, people: dict[str, Principal]
) -> None:
    admin = people["admin"]
    made = gallery.images.upload(admin, "a.png", png(), None, None)
    counting = CountingCatalog(gallery.downloads.catalog)
    gallery.downloads.catalog = counting
    download = gallery.downloads.image(admin, Scope.TENANT, made.resource_key, False)
    with download.content().open() as stream:  # a miss, then a 200: the row read for the tag serves the content
        assert stream.read() == png()
    assert counting.reads == 1
    again = gallery.downloads.image(admin, Scope.TENANT, made.resource_key, False)
    assert again.etag == made.etag  # a 304 from the cache
    assert counting.reads == 1


def test_a_build_opens_the_aws_backend_without_a_token_secret(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, backend="aws", table="nosecret", bucket="nosecret").evolve(jwt_secret="")
    with aws_env(), mock_aws():
        provision(settings)
        with pytest.raises(errors.ConfigError, match="GALLERY_JWT_SECRET"):
            Gallery.open(settings)
        reader = Gallery.open(settings, signing=False)
        assert reader.site.shown(Selection(system=True)) == []
        reader.close()


def test_a_sites_changes_are_what_its_selection_admits(
    gallery: Gallery, people: dict[str, Principal], seed: Seed
) -> None:
    """What a living site reads after a change: rows it shows (the tenant's and the system's public images) and
    the ids of those it must drop; another tenant's images are not its business (read, then dropped). Shadowing is
    `shown`'s: a tenant image over the system image with its key."""
    admin, sysadmin, other = people["admin"], people["sysadmin"], people["other"]
    images = gallery.images
    selection = Selection(seed.tenants["A"].id, system=True)
    cursor = gallery.site.cursor()
    if cursor is None:  # DynamoDB: no log; its sites are read whole
        assert gallery.site.changes(selection, 0) is None
        return
    mine = images.upload(admin, "logo.png", png(20, 10), "Mine", None)
    system = images.upload(sysadmin, "logo.png", png(30, 10), "System's", None)
    theirs = images.upload(other, "theirs.png", png(10, 10), "Theirs", None)
    secret = images.upload(admin, "secret.png", png(10, 10), "Secret", None)
    images.set_public(admin, Scope.TENANT, "secret.png", False)
    changes = gallery.site.changes(selection, cursor)
    assert changes is not None
    assert {i.id for i in changes.admitted} == {mine.id, system.id}
    assert changes.dropped == {theirs.id, secret.id}
    assert [i.title for i in shown(changes.admitted)] == ["Mine"]  # the system's logo.png is shadowed
    with_private = gallery.site.changes(Selection(seed.tenants["A"].id, include_private=True), cursor)
    assert with_private is not None
    assert {i.id for i in with_private.admitted} == {mine.id, secret.id}  # no system images asked for
    images.delete(admin, Scope.TENANT, "logo.png", force=True)
    after = gallery.site.changes(selection, changes.cursor)
    assert after is not None
    assert after.admitted == ()
    assert after.dropped == {mine.id}
    assert [i.id for i in shown(gallery.site.candidates(selection))] == [system.id]  # no longer shadowed


def test_a_thingsboard_id_is_an_object_or_a_string_and_a_null_one_is_none() -> None:
    assert fields.entity_id({"id": {"entityType": "DASHBOARD", "id": "d-1"}}, "id") == "d-1"
    assert fields.entity_id({"id": "d-1"}, "id") == "d-1"
    assert fields.entity_id({"id": {"entityType": "DASHBOARD", "id": None}}, "id") is None  # something new
    assert fields.entity_id({}, "id") is None
    with pytest.raises(errors.BadRequest, match="'id' must be an id"):
        fields.entity_id({"id": {"id": 7}}, "id")
