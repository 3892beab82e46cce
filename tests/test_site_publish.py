"""`gallery publish` against S3 and CloudFront served by a moto server over real HTTP (a subprocess: this pytest
process also runs in-process `mock_aws` tests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gallery.demo import as_principal
from gallery.domain.model import ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.storage.aws.site_bucket import MANIFEST
from gallery.wiring import Gallery
from tests.conftest import Seed
from tests.moto_http import moto_subprocess
from tests.site_fixtures import build
from tests.storage_fixtures import AWS_ENV, aws_session, distribution, invalidations

from gallery.cli import main  # isort: skip


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_subprocess() as url:
        yield url


@pytest.fixture
def aws(moto_url: str, tmp_path: Path) -> dict[str, Any]:
    """A fresh bucket and a CloudFront distribution on the moto server, and the environment that reaches them."""
    bucket = f"site-{tmp_path.name[-20:].lower().replace('_', '-')}"
    clients: dict[str, Any] = {name: aws_session().client(name, endpoint_url=moto_url) for name in ("s3", "cloudfront")}
    clients["s3"].create_bucket(Bucket=bucket)
    made = distribution(clients["cloudfront"], bucket)
    env = {**AWS_ENV, "AWS_ENDPOINT_URL": moto_url, "CACHE_SPECS_IMAGE_SYSTEM_BROWSER_TTL": "60"}
    return {"bucket": bucket, "distribution": made, "env": env, **clients}


def publish(aws: dict[str, Any], site: Path, *extra: str, env: dict[str, str | None] | None = None) -> tuple[int, str]:
    args = ["publish", "--site", str(site), "--bucket", aws["bucket"], "--distribution", aws["distribution"], *extra]
    result = CliRunner().invoke(main, args, env={**aws["env"], **(env or {})})
    return result.exit_code, result.output


def objects(aws: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The site's objects in the bucket, with the headers S3 will serve them with (the publish manifest aside)."""
    s3 = aws["s3"]
    found = {}
    for entry in s3.list_objects_v2(Bucket=aws["bucket"]).get("Contents", []):
        if entry["Key"].endswith(MANIFEST):
            continue
        head = s3.head_object(Bucket=aws["bucket"], Key=entry["Key"])
        found[entry["Key"]] = {"type": head["ContentType"], "cache": head.get("CacheControl")}
        if "ContentDisposition" in head:
            found[entry["Key"]]["disposition"] = head["ContentDisposition"]
    return found


def invalidated(aws: dict[str, Any]) -> list[list[str]]:
    return invalidations(aws["cloudfront"], aws["distribution"])


def local_files(site: Path) -> set[str]:
    """The site's files, not the build's own dot files (what is published)."""
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file() and not p.name.startswith(".")}


def test_publish_sets_types_and_cache_headers_then_uploads_nothing_the_second_time(
    aws: dict[str, Any], site: Path, uploaded: dict[str, ImageInfo]
) -> None:
    code, output = publish(aws, site)
    assert code == 0, output
    stored = objects(aws)
    assert set(stored) == local_files(site)
    assert f"uploaded {len(stored)} file(s)" in output
    photo, system, icon = uploaded["photo"], uploaded["system"], uploaded["icon"]
    rendition = next(key for key in stored if key.startswith("r/") and key.endswith(".webp"))
    assert stored[rendition] == {"type": "image/webp", "cache": "public, max-age=31536000, immutable"}
    assert stored["index.html"] == {"type": "text/html; charset=utf-8", "cache": "no-cache"}
    assert stored[f"images/{photo.id}/index.html"]["cache"] == "no-cache"
    assert stored["gallery.json"] == {"type": "application/json", "cache": "no-cache"}
    assert stored["assets/gallery.css"]["type"] == "text/css; charset=utf-8"
    assert stored["assets/gallery.js"]["type"] == "text/javascript; charset=utf-8"
    # gzipped bytes named as what they are (as XML they would reach clients unreadable: S3 sends no encoding)
    assert stored["sitemap.xml.gz"]["type"] == "application/gzip"
    # originals are named by their bytes (never by a key a user chose), so caches keep them for good
    immutable = "public, max-age=31536000, immutable"
    assert stored[f"originals/{photo.etag}.jpg"] == {"type": "image/jpeg", "cache": immutable}
    assert stored[f"originals/{system.etag}.png"] == {"type": "image/png", "cache": immutable}
    svg = stored[f"originals/{icon.etag}.svg"]
    assert (svg["type"], svg["disposition"]) == ("image/svg+xml", "attachment")  # never a document on our origin
    attachments = {key for key, meta in stored.items() if "disposition" in meta}
    assert attachments == {f"originals/{icon.etag}.svg"}
    assert invalidated(aws) == []  # nothing was there before: nothing to invalidate

    code, output = publish(aws, site)
    assert code == 0, output
    assert output.strip().endswith(
        f"uploaded 0 file(s) (0.0 MiB), deleted 0, {len(stored)} unchanged, invalidated 0 path(s)"
    )
    assert invalidated(aws) == []


def test_new_headers_reach_objects_whose_bytes_did_not_change(
    aws: dict[str, Any], site: Path, uploaded: dict[str, ImageInfo]
) -> None:
    """A bucket published before a policy change (here: no Content-Disposition on the SVG) is brought up to date
    in place: a server-side copy with the new metadata, no upload, and the CDN told."""
    assert publish(aws, site)[0] == 0
    s3, bucket, key = aws["s3"], aws["bucket"], f"originals/{uploaded['icon'].etag}.svg"
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key}, MetadataDirective="REPLACE",
                   ContentType="image/svg+xml", CacheControl="no-cache")  # fmt: skip
    stale = json.loads(s3.get_object(Bucket=bucket, Key=MANIFEST)["Body"].read())
    stale[key] = "old"
    s3.put_object(Bucket=bucket, Key=MANIFEST, Body=json.dumps(stale).encode())
    assert "disposition" not in objects(aws)[key]
    code, output = publish(aws, site)
    assert code == 0, output
    assert "uploaded 0 file(s) (0.0 MiB), 1 with new headers, deleted 0" in output
    assert objects(aws)[key]["disposition"] == "attachment"
    assert [f"/{key.removesuffix('.svg')}*"] in invalidated(aws)  # the content's files, by one wildcard
    again = publish(aws, site)[1]
    assert again.strip().endswith(f"deleted 0, {len(objects(aws))} unchanged, invalidated 0 path(s)")


def test_changes_upload_delete_and_invalidate_only_what_the_cdn_could_keep(
    aws: dict[str, Any], site: Path, gallery: Gallery, uploaded: dict[str, ImageInfo], seed: Seed
) -> None:
    assert publish(aws, site)[0] == 0
    objects_before = objects(aws)
    logo = uploaded["logo"]
    gallery.images.delete(as_principal(seed.users["admin"]), Scope.TENANT, "logo.png", force=True)
    assert build(site, "--tenant", seed.tenants["A"].name, "--system")[0] == 0

    code, output = publish(aws, site, "--dry-run")
    assert code == 0, output
    assert f"delete  images/{logo.id}/index.html" in output
    assert f"images/{logo.id}/index.html" in objects(aws)  # a dry run changes nothing

    code, output = publish(aws, site)
    assert code == 0, output
    stored = objects(aws)
    assert set(stored) == local_files(site)
    assert not any(logo.id in key for key in stored)
    (paths,) = invalidated(aws)  # one request
    # Pages are `no-cache` (the CDN keeps them a second): only the deleted image's content-named files, which it
    # would keep for a year, each content by one wildcard: its original must not outlive it on the CDN.
    assert f"/originals/{logo.etag}*" in paths
    assert all(path.startswith(("/r/", "/originals/")) and path.endswith("*") for path in paths), paths
    gone = {key for key in set(objects_before) - set(stored) if key.startswith(("r/", "originals/"))}
    assert {key for key in gone if any(key.startswith(path[1:-1]) for path in paths)} == gone
    assert not any(key.startswith(path[1:-1]) for key in stored for path in paths)  # a kept one is never told


def test_a_tag_page_is_stored_by_its_name(
    aws: dict[str, Any], described: dict[str, ImageInfo], site: Path, gallery: Gallery, seed: Seed
) -> None:
    """A tag of more than ASCII: its page's key is the file's name; a page is `no-cache`, so never invalidated."""
    assert publish(aws, site)[0] == 0
    assert "tags/café/index.html" in objects(aws)
    photo = described["photo"]
    gallery.images.update_info(as_principal(seed.users["admin"]), Scope.TENANT, "photo.jpg", InfoChange(tags=("sea",)))
    assert build(site, "--tenant", seed.tenants["A"].name, "--system")[0] == 0
    code, output = publish(aws, site)
    assert code == 0, output
    assert not {key for key in objects(aws) if key.startswith(("tags/café/", "tags/sky/"))}
    assert "tags/sea/index.html" in objects(aws)
    assert f"images/{photo.id}/index.html" in objects(aws)
    assert invalidated(aws) == []


def test_an_interrupted_publish_is_finished_by_running_it_again(aws: dict[str, Any], site: Path) -> None:
    assert publish(aws, site)[0] == 0
    lost = sorted(objects(aws))[::3]  # as if the first run had stopped before these
    aws["s3"].delete_objects(Bucket=aws["bucket"], Delete={"Objects": [{"Key": key} for key in lost]})
    code, output = publish(aws, site)
    assert code == 0, output
    assert f"uploaded {len(lost)} file(s) (" in output
    assert "with new headers" not in output  # what the first run put up is not touched again
    assert set(objects(aws)) == local_files(site)


def test_a_prefix_keeps_the_site_in_its_own_folder(aws: dict[str, Any], site: Path) -> None:
    code, output = publish(aws, site, "--prefix", "/gallery/")
    assert code == 0, output
    keys = [entry["Key"] for entry in aws["s3"].list_objects_v2(Bucket=aws["bucket"])["Contents"]]
    assert all(key.startswith("gallery/") for key in keys)
    assert f"gallery/{MANIFEST}" in keys


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bucket": "no-such-bucket"}, "The bucket no-such-bucket does not exist"),
        (
            {
                "env": {
                    "AWS_ACCESS_KEY_ID": None,
                    "AWS_SECRET_ACCESS_KEY": None,
                    "AWS_SESSION_TOKEN": None,
                    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                    "AWS_CONFIG_FILE": "/nonexistent",
                }
            },
            "No AWS credentials",
        ),
        ({"site": "missing"}, "No built site"),
    ],
)
def test_mistakes_are_one_line_errors(
    aws: dict[str, Any], site: Path, tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    from gallery.storage.aws.clients import _s3

    _s3.cache_clear()  # credentials are read when a client is made
    target = {**aws, "bucket": change.get("bucket", aws["bucket"])}
    where = tmp_path / "missing" if "site" in change else site
    code, output = publish(target, where, env=change.get("env"))
    _s3.cache_clear()
    assert code == 1
    assert message in output
    assert len(output.strip().splitlines()) == 1
    assert objects(aws) == {}
