"""The AWS publisher's work per change, from the site's state in the table (`gallery/incremental.py`), against moto
in-process: after every kind of change, the bucket holds exactly the site the state describes (what a render of the
whole site from the state makes), the lists show every image the site shows once, no link is broken, and the work
per change does not grow with the gallery."""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from gallery import incremental
from gallery.config import Settings
from gallery.demo import as_principal
from gallery.domain import errors
from gallery.domain.access import Principal
from gallery.domain.model import SYSTEM_TENANT_ID, Authority, FileLimits, Scope
from gallery.incremental import Outcome, Publisher
from gallery.publisher import publisher_for
from gallery.services.images import InfoChange
from gallery.storage.aws.site_bucket import MANIFEST
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET
from tests.helpers import png, sitemap_urls
from tests.storage_fixtures import aws_env, aws_session, distribution, invalidations

PAGE_SIZE = 2  # a handful of images make several blocks
SITE = "https://img.example"  # where the site is published: snippets are absolute, and there is a sitemap
TAGS = ("sea", "sky", "dusk")
CONTENT = ("r/", "originals/")  # content-named: uploaded with their image, not rendered from the state


@dataclass
class World:
    gallery: Gallery
    settings: Settings
    admin: Principal
    system: Principal
    s3: Any
    made: int = 0

    def publisher(self) -> Publisher:
        return publisher_for(self.gallery, self.settings, page_size=PAGE_SIZE, site_url=SITE)

    def publish(self, *keys: str) -> Outcome:
        publisher = self.publisher()
        if not publisher.state.head().full_at:
            return publisher.full_pass(1)
        publisher.publish_keys(keys)
        return publisher.render_waiting()

    def upload(self, key: str, tags: tuple[str, ...] = (), system: bool = False) -> None:
        self.made += 1
        who = self.system if system else self.admin
        picture = png(40 + self.made, 30, (self.made * 37 % 256, 80, 160))
        self.gallery.images.upload(who, key, picture, key.removesuffix(".png").title(), None)
        if tags:
            self.retag(key, tags, system)

    def retag(self, key: str, tags: tuple[str, ...], system: bool = False) -> None:
        scope = Scope.SYSTEM if system else Scope.TENANT
        self.gallery.images.update_info(self.system if system else self.admin, scope, key, InfoChange(tags=tags))

    def bucket(self) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.settings.site_bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                if key != MANIFEST:
                    found[key] = self.s3.get_object(Bucket=self.settings.site_bucket, Key=key)["Body"].read()
        return found

    def from_state(self, tmp: Path) -> dict[str, bytes]:
        """The whole site as the state describes it, rendered into a folder (the content-named files aside)."""
        publisher = self.publisher()
        out = tmp / f"whole-{uuid.uuid4().hex}"
        publisher.render_whole(out, _items(publisher))
        return {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _items(publisher: Publisher) -> list[Any]:
    from gallery.site.render import render_images

    builder = publisher.builder
    images = publisher.source.shown(publisher.selection)
    return render_images(
        images, builder.blobs, builder.source.decode_limits, builder.cache.root, builder.options.files, workers=1
    ).items


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    from moto import mock_aws

    from gallery.storage.aws.provision import provision

    settings = Settings.from_env(
        {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_DATA_DIR": str(tmp_path / "data")},
        backend="aws",
        table="incremental",
        bucket="incremental-bytes",
        site_bucket="incremental-site",
        site_tenant="Published",
    )
    with aws_env(), mock_aws():
        provision(settings)
        s3 = aws_session().client("s3")
        s3.create_bucket(Bucket=settings.site_bucket)
        gallery = Gallery.open(settings)
        # DynamoDB refuses an empty ExpressionAttributeValues, which moto takes: the rule held here.
        gallery.storage.catalog.table.client.meta.events.register(  # type: ignore[attr-defined]
            "before-parameter-build.dynamodb", _as_dynamodb_would
        )
        accounts = gallery.accounts
        tenant = accounts.create_tenant("Published")
        admin = accounts.create_user("admin@incremental.example", "a-password", Authority.TENANT_ADMIN, tenant.id)
        root = accounts.create_user("root@incremental.example", "r-password", Authority.SYS_ADMIN, SYSTEM_TENANT_ID)
        yield World(gallery, settings, as_principal(admin), as_principal(root), s3)
        gallery.close()


def _as_dynamodb_would(params: dict[str, Any], **_: Any) -> None:
    if params.get("ExpressionAttributeValues") == {}:
        raise AssertionError("ValidationException: ExpressionAttributeValues must not be empty")


def pages_of(site: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in site.items() if not path.startswith(CONTENT)}


def assert_whole(world: World, tmp: Path, step: str) -> None:
    """The bucket is the site the state describes; every image shown is in the index exactly once, on its pages as
    in its search index; no page links to a page that is not there."""
    site, expected = world.bucket(), world.from_state(tmp)
    published = pages_of(site)
    missing = sorted(set(expected) - set(published))
    extra = sorted(set(published) - set(expected))
    differ = sorted(path for path in expected if path in published and published[path] != expected[path])
    assert (missing, extra, differ) == ([], [], []), step
    shown = sorted(f"images/{image.id}/" for image in world.gallery.site.shown(world.publisher().selection))
    head = json.loads(site["gallery.json"])
    cards = [card for shard in head["shards"] for card in json.loads(site[shard])]
    assert sorted(card["p"] for card in cards) == shown, step
    copy = tmp / f"bucket-{uuid.uuid4().hex}"  # the sitemap read as a crawler would, by its rules
    for path, data in site.items():
        (copy / path).parent.mkdir(parents=True, exist_ok=True)
        (copy / path).write_bytes(data)
    listed = sitemap_urls(copy, f"{SITE}/")
    assert sorted(url.removeprefix(f"{SITE}/") for url in listed if "/images/" in url) == shown, step
    index_pages = [p for p in site if re.fullmatch(r"(page/\d+/)?index\.html", p)]
    on_pages = [m for p in index_pages for m in re.findall(r'<a href="(?:\.\.?/)*(images/[^/"]+/)">', site[p].decode())]
    assert sorted(on_pages) == shown, step  # each once
    for path in [p for p in site if p.endswith(".html")]:
        for href in re.findall(r'href="([^"]*)"', site[path].decode()):
            if href.endswith("/") and not href.startswith(("http:", "https:", "//")):
                assert _normal(path, href) + "index.html" in site, (step, path, href)


def _normal(page: str, link: str) -> str:
    """A relative link from a page as a site path ("" for the root)."""
    parts = page.split("/")[:-1]
    for part in link.split("/"):
        if part == "..":
            parts.pop()
        elif part not in ("", "."):
            parts.append(part)
    return "".join(f"{part}/" for part in parts)


def test_every_change_leaves_the_bucket_the_site_the_state_describes(world: World, tmp_path: Path) -> None:
    rng = random.Random(26)
    keys = [f"pic-{n:02}.png" for n in range(14)]
    world.upload("base.png", ("sea",))
    world.publish("base.png")  # the first: a full pass
    assert_whole(world, tmp_path, "first publish")
    for key in keys:  # uploads: blocks fill and new ones open
        world.upload(key, tuple(rng.sample(TAGS, rng.randint(0, 2))))
        world.publish(key)
        assert_whole(world, tmp_path, f"upload {key}")
    for key in rng.sample(keys, 5):  # tags given and taken
        world.retag(key, tuple(rng.sample(TAGS, rng.randint(0, 3))))
        world.publish(key)
        assert_whole(world, tmp_path, f"retag {key}")
    images = world.gallery.images
    images.update_info(world.admin, Scope.TENANT, keys[3], InfoChange(title="Renamed"))
    world.publish(keys[3])
    assert_whole(world, tmp_path, "rename")
    images.set_public(world.admin, Scope.TENANT, keys[5], False)  # leaves the site
    world.publish(keys[5])
    assert_whole(world, tmp_path, "made private")
    # a block in the middle emptied (its neighbours link to each other), others shortened, the newest too
    for key in (keys[3], keys[4], keys[0], keys[-1], keys[7]):
        images.delete(world.admin, Scope.TENANT, key, force=True)
        world.publish(key)
        assert_whole(world, tmp_path, f"delete {key}")
    images.set_public(world.admin, Scope.TENANT, keys[5], True)  # back: the newest block
    world.publish(keys[5])
    assert_whole(world, tmp_path, "made public again")
    world.upload("shared.png", ("dusk",), system=True)  # a system image…
    world.publish("shared.png")
    assert_whole(world, tmp_path, "system image")
    world.upload("shared.png", ("sea",))  # …shadowed by the tenant's own with the same key
    world.publish("shared.png")
    assert_whole(world, tmp_path, "shadowed")
    images.delete(world.admin, Scope.TENANT, "shared.png", force=True)  # …and shown again
    world.publish("shared.png")
    assert_whole(world, tmp_path, "shown again")
    for key in keys:
        if world.gallery.storage.catalog.get_image(world.admin.tenant_id, key):
            world.retag(key, ())
    world.retag("base.png", ())
    world.publish("base.png", *keys)  # the last tagged tenant image: every tag but the system image's goes
    assert_whole(world, tmp_path, "tags taken")
    assert not any(path.startswith(("tags/sea/", "tags/sky/")) for path in world.bucket())
    world.retag("shared.png", (), system=True)  # no tag left anywhere: the index stops linking to the tags
    world.publish("shared.png")
    assert_whole(world, tmp_path, "no tags")
    assert "Browse by tag" not in world.bucket()["index.html"].decode()
    world.retag(keys[2], ("sea",))  # and a first tag again
    world.publish(keys[2])
    assert_whole(world, tmp_path, "a tag again")
    assert "Browse by tag" in world.bucket()["index.html"].decode()


def test_the_daily_pass_puts_back_what_the_bucket_lost_and_takes_what_it_should_not_hold(
    world: World, tmp_path: Path
) -> None:
    """Without rendering every page (past Lambda's 15 minutes at 100,000 images): the bucket is looked at."""
    for n in range(7):
        world.upload(f"pic-{n}.png", ("sea",) if n % 2 else ())
    world.publish()
    assert_whole(world, tmp_path, "published")
    site = world.bucket()
    bucket = world.settings.site_bucket
    rendition = sorted(path for path in site if path.startswith("r/"))[0]
    lost = ["page/1/index.html", "search/0.json", "tags/index.html", "tags/sea/index.html", "manage/index.html"]
    lost += [rendition, next(path for path in site if path.startswith("images/"))]
    for path in lost:
        world.s3.delete_object(Bucket=bucket, Key=path)
    strays = ["page/99/index.html", "r/0123456789abcdef-320.webp", "tags/gone/index.html"]
    for path in strays:
        world.s3.put_object(Bucket=bucket, Key=path, Body=b"stray")
    publisher = world.publisher()
    done = publisher.full_pass(2, whole=False)
    assert done.keys == 0  # the state was right: only the bucket was not
    assert set(lost) <= set(done.uploaded), done.uploaded
    assert sorted(done.deleted) == sorted(strays)
    assert_whole(world, tmp_path, "mended")
    after = world.bucket()
    assert after[rendition] == site[rendition]
    assert not set(strays) & set(after)
    assert done.pages < len([path for path in site if path.endswith(".html")])  # not every page rendered again


def test_the_daily_pass_puts_back_a_file_images_share_once(world: World, tmp_path: Path) -> None:
    """The same logo under many keys: one set of files, uploaded once by the pass that finds it missing."""
    logo = png(48, 48, (10, 120, 200))
    for n in range(3):
        world.gallery.images.upload(world.admin, f"logo-{n}.png", logo, f"Logo {n}", None)
    world.publish()
    shared = sorted(path for path in world.bucket() if path.startswith(CONTENT))
    assert shared
    for path in shared:
        world.s3.delete_object(Bucket=world.settings.site_bucket, Key=path)
    done = world.publisher().full_pass(2, whole=False)
    assert sorted(done.uploaded) == shared  # each once, not once per image
    assert_whole(world, tmp_path, "mended")
    assert set(shared) <= set(world.bucket())


def test_rows_from_before_see_through_was_kept_are_decoded_once_not_every_day(world: World, tmp_path: Path) -> None:
    """A row stored before `has_alpha` was kept is decoded to plan its renditions: the pass keeps what it learnt on
    the row, so the next day's pass decodes nothing, and the same page publishes nothing again."""
    from gallery.storage.aws import keys
    from gallery.storage.aws.table import dump_key

    for n in range(3):
        world.upload(f"old-{n}.png", ("sea",))
    world.publish()
    catalog = world.gallery.storage.catalog
    for n in range(3):
        catalog.table.client.update_item(  # type: ignore[attr-defined]
            TableName=world.settings.table,
            Key=dump_key(keys.image(world.admin.tenant_id, f"old-{n}.png")),
            UpdateExpression="REMOVE has_alpha",
        )
    assert all(image.has_alpha is None for image in world.gallery.site.shown(world.publisher().selection))
    first = world.publisher().full_pass(2, whole=False)  # each publisher renders into a cache of its own
    assert (first.rendered, first.keys, first.uploaded) == (3, 0, [])
    assert all(image.has_alpha is False for image in world.gallery.site.shown(world.publisher().selection))
    second = world.publisher().full_pass(3, whole=False)
    assert (second.rendered, second.keys, second.pages, second.uploaded) == (0, 0, 0, [])
    assert_whole(world, tmp_path, "learnt")


def test_a_new_release_moves_no_card_and_publishes_the_pages_it_changes(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages are made with the theme and the code: a release changes every page's fingerprint, and the deploy's
    whole publish renders them all from the state, but no image differs for the state (at 100,000 images a change
    of each, one at a time, would take hours), and the daily pass after it finds nothing to do."""
    from gallery.site import templates

    for n in range(4):
        world.upload(f"pic-{n}.png", ("sea",) if n % 2 else ())
    world.publish()
    before = world.bucket()
    monkeypatch.setattr(templates, "code_digest", lambda: b"another release")
    page = next(path for path in before if path.startswith("images/"))
    world.s3.put_object(Bucket=world.settings.site_bucket, Key=page, Body=b"as an older release made it")
    whole = world.publisher().full_pass(2, whole=True)
    assert whole.keys == 0
    assert page in whole.uploaded  # what the bucket holds is made again where it differs
    daily = world.publisher().full_pass(3, whole=False)
    assert (daily.keys, daily.pages, daily.uploaded) == (0, 0, [])
    assert world.bucket() == before
    assert_whole(world, tmp_path, "released")


def test_the_daily_pass_brings_in_what_no_image_change_said(world: World, tmp_path: Path) -> None:
    """A profile that starts publishing originals as uploaded changes no image's row, so no stream record says so:
    the daily pass finds each image page that would differ (by its fingerprint) and publishes it, with its file."""
    from tests.helpers import phone_photo

    world.gallery.images.upload(world.admin, "phone.jpg", phone_photo(), "Phone photo", None)
    world.publish()
    image = world.gallery.storage.catalog.get_image(world.admin.tenant_id, "phone.jpg")
    assert image is not None
    assert image.public_original is not None
    page = f"images/{image.id}/index.html"
    assert image.public_original.etag in world.bucket()[page].decode()  # the copy without the camera's data
    accounts = world.gallery.accounts
    tenant = accounts.get_tenant(world.admin.tenant_id)
    profile = accounts.get_profile(tenant.profile_id)
    limits = FileLimits(profile.max_resource_size, profile.max_resources_in_bytes)
    accounts.update_profile(profile.id, profile.name, limits, profile.is_default, public_metadata=True)
    done = world.publisher().full_pass(2, whole=False)
    assert done.keys == 1
    site = world.bucket()
    assert image.original.etag in site[page].decode()  # now the bytes as uploaded, and the file with them
    assert any(path.startswith(f"originals/{image.original.etag}") for path in site)
    assert_whole(world, tmp_path, "profile changed")


def test_an_hours_invalidations_are_bounded_and_what_does_not_fit_is_owed_as_one_wildcard(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many images go in an hour, the CDN is asked for at most `HOURLY_PATHS` paths and one wildcard for the
    whole site; a wildcard past that is asked by the first run of a later hour. The files go from the bucket at once."""
    monkeypatch.setattr(incremental, "HOURLY_PATHS", 3)
    cloudfront = aws_session().client("cloudfront")
    world.settings = replace(world.settings, site_distribution=distribution(cloudfront, world.settings.site_bucket))
    keys = [f"pic-{n}.png" for n in range(6)]
    for key in keys:
        world.upload(key)
    world.publish()
    hour = 500_000  # hours since 1970: in 2027

    def delete(key: str, at_hour: int, refused: bool = False) -> Outcome:
        world.gallery.images.delete(world.admin, Scope.TENANT, key, force=True)
        publisher = world.publisher()
        publisher.clock = lambda: at_hour * 3600 + 59
        if refused:  # CloudFront takes nothing (too many invalidations in progress, say)

            def refuse(paths: list[str]) -> None:
                raise errors.GalleryError("Too many invalidations in progress")

            publisher.bucket.invalidate = refuse  # type: ignore[method-assign]
        publisher.settle(publisher.state.head())
        publisher.publish_keys([key])
        return publisher.render_waiting()

    def asked() -> list[str]:
        return [path for batch in invalidations(cloudfront, world.settings.site_distribution) for path in batch]

    first = delete(keys[0], hour)
    per_delete = len(first.invalidated)  # the image's renditions and its original: a wildcard each
    assert per_delete == 2, first.invalidated
    second = delete(keys[1], hour)  # 4 paths would not fit 3: the hour's wildcard instead
    assert second.invalidated == ["/*"]
    assert not second.owed
    third = delete(keys[2], hour)  # no room, and the wildcard asked: owed
    assert third.invalidated == []
    assert third.owed
    assert third.deleted
    assert not set(third.deleted) & set(world.bucket())
    fourth = delete(keys[3], hour)
    assert fourth.invalidated == []
    assert fourth.owed
    assert len(asked()) == per_delete + 1  # the hour: its budget's worth, and one wildcard
    publisher = world.publisher()
    assert publisher.state.head().owed
    publisher.clock = lambda: hour * 3600 + 3599
    publisher.settle(publisher.state.head())  # the same hour: still owed
    assert publisher.outcome.invalidated == []
    assert publisher.state.head().owed
    refused = delete(keys[4], hour + 1, refused=True)  # the owed wildcard and the delete's paths not taken…
    assert refused.invalidated == []
    assert refused.failed == [keys[4]]  # …the key waits for the hourly run, its files gone from the bucket…
    assert not set(refused.deleted) & set(world.bucket())
    assert world.publisher().state.head().owed  # …and the CDN is owed what it did not take
    later = delete(keys[5], hour + 2)  # a later hour's first run asks for what was owed, then has its budget
    assert later.invalidated[0] == "/*", later.invalidated
    assert len(later.invalidated) == 1 + per_delete, later.invalidated
    assert not world.publisher().state.head().owed
    again = world.publisher()
    again.clock = lambda: (hour + 2) * 3600 + 60
    again.settle(again.state.head())  # nothing owed: nothing asked
    assert again.outcome.invalidated == []
    assert len(asked()) == per_delete + 1 + 1 + per_delete
