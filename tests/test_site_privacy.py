"""Nothing in a static site, nor in the bucket it is published to, tells an anonymous visitor where a phone photo was
taken, with which camera or by whom: the original behind "Download original" is the public copy, the renditions
carry no metadata, and a tenant profile that publishes the bytes as uploaded gets the original there. Built with the
installed `gallery build` over a real local catalog; published to S3 on a moto server over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from gallery.demo import as_principal
from gallery.domain import site_layout
from gallery.domain.model import ImageInfo
from gallery.site.render import original_path
from gallery.wiring import Gallery
from tests.conftest import Seed
from tests.helpers import SECRETS, phone_photo, what_it_tells
from tests.moto_http import moto_subprocess
from tests.site_fixtures import build
from tests.storage_fixtures import AWS_ENV, aws_session

from gallery.cli import main  # isort: skip


def secrets_in(files: dict[str, bytes]) -> dict[str, list[str]]:
    return {name: found for name, data in files.items() if (found := [s.decode() for s in SECRETS if s in data])}


def site_files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in site.rglob("*") if p.is_file()}


@pytest.fixture
def photo(gallery: Gallery, seed: Seed) -> ImageInfo:
    return gallery.images.upload(as_principal(seed.users["admin"]), "phone.jpg", phone_photo(), "Phone photo", None)


def built(tmp_path: Path, seed: Seed, name: str = "site") -> Path:
    out = tmp_path / name
    code, output = build(out, "--tenant", seed.tenants["A"].name)
    assert code == 0, output
    return out


def test_no_file_of_the_site_tells_where_or_with_what_a_photo_was_taken(
    tmp_path: Path,
    env: dict[str, str],
    gallery: Gallery,
    seed: Seed,
    photo: ImageInfo,
) -> None:
    site = built(tmp_path, seed)
    assert secrets_in(site_files(site)) == {}
    original = site / original_path(photo)
    assert original.is_file()
    told = what_it_tells(original.read_bytes())
    assert (told["gps"], told["make"], told["serial"], told["orientation"]) == ({}, None, None, 6)
    renditions = list((site / site_layout.RENDITIONS).iterdir())
    assert renditions
    for rendition in renditions:  # converted to sRGB, and saying nothing but the picture
        assert what_it_tells(rendition.read_bytes())["profile"] is None


def test_a_profile_that_publishes_the_bytes_as_uploaded_gets_them_on_the_site(
    tmp_path: Path,
    env: dict[str, str],
    gallery: Gallery,
    seed: Seed,
    photo: ImageInfo,
) -> None:
    catalog = gallery.storage.catalog
    catalog.update_profile(replace(seed.profile, public_metadata=True))
    site = built(tmp_path, seed)
    assert (site / f"originals/{photo.etag}.jpg").read_bytes() == phone_photo()
    catalog.update_profile(replace(seed.profile, public_metadata=False))
    site = built(tmp_path, seed, "again")
    assert secrets_in(site_files(site)) == {}


def test_an_image_stored_before_copies_were_kept_is_published_clean(
    tmp_path: Path,
    env: dict[str, str],
    gallery: Gallery,
    seed: Seed,
    photo: ImageInfo,
) -> None:
    catalog = gallery.storage.catalog
    catalog.update_image(replace(photo, public_original=None, version=photo.version + 1), photo.version, 0)
    site = built(tmp_path, seed)
    assert (site / f"originals/{photo.etag}-public.jpg").is_file()
    assert secrets_in(site_files(site)) == {}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_subprocess() as url:
        yield url


def test_nothing_published_to_the_bucket_tells_it_either(
    tmp_path: Path,
    env: dict[str, str],
    gallery: Gallery,
    seed: Seed,
    photo: ImageInfo,
    moto_url: str,
) -> None:
    from click.testing import CliRunner

    site = built(tmp_path, seed)
    s3 = aws_session().client("s3", endpoint_url=moto_url)
    s3.create_bucket(Bucket="privacy-site")
    result = CliRunner().invoke(
        main,
        ["publish", "--site", str(site), "--bucket", "privacy-site"],
        env={**AWS_ENV, "AWS_ENDPOINT_URL": moto_url},
    )
    assert result.exit_code == 0, result.output
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="privacy-site")["Contents"]]
    published = {key: s3.get_object(Bucket="privacy-site", Key=key)["Body"].read() for key in keys}
    assert original_path(photo) in published
    assert secrets_in(published) == {}
