"""`gallery publish`: the built site to an S3 bucket (behind CloudFront), with the headers a CDN needs.

- Headers are `gallery.domain.serving.site_headers`, as `gallery serve` sends them: content-addressed files (`r/…`,
  `originals/…`) immutable for a year, HTML, JSON and every other fixed name `no-cache`; users' bytes typed by the
  names we gave them, and as attachments when they are not raster images. S3 keeps Content-Type, Cache-Control and
  Content-Disposition; the security headers it cannot hold come from CloudFront's response headers policy.
- An object whose MD5 equals the local file's is skipped (single-part puts keep S3's ETag the MD5), so a second
  publish uploads nothing and an interrupted one can simply be run again. A manifest (`.gallery-publish.json`)
  remembers the headers each object went up with: when they change and the bytes do not, the object's metadata is
  replaced in place (a server-side copy), so a stricter policy reaches every object already published.
- Objects under the prefix that the site no longer has are deleted; changed or deleted fixed paths are invalidated
  on the CloudFront distribution, in batches.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypedDict

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.serving import site_headers
from gallery.domain.site_layout import HASHED_DIRS
from gallery.storage.aws.errors import translated, when_missing

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

INVALIDATION_BATCH = 1000
MANIFEST = ".gallery-publish.json"
RESTAMP_PATHS = 100
_UPLOAD_THREADS = 8
# The headers S3 stores with an object (and serves back), as put_object names them.
_S3_FIELDS: dict[str, Literal["ContentType", "CacheControl", "ContentDisposition"]] = {
    "Content-Type": "ContentType",
    "Cache-Control": "CacheControl",
    "Content-Disposition": "ContentDisposition",
}


class StoredHeaders(TypedDict, total=False):
    ContentType: str
    CacheControl: str
    ContentDisposition: str


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    headers: dict[str, str]
    md5: str

    @property
    def content_type(self) -> str:
        return self.headers["Content-Type"]

    @property
    def cache_control(self) -> str:
        return self.headers["Cache-Control"]

    @property
    def metadata(self) -> StoredHeaders:
        stored: StoredHeaders = {}
        for header, stored_as in _S3_FIELDS.items():
            if header in self.headers:
                stored[stored_as] = self.headers[header]
        return stored

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.metadata, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PublishPlan:
    uploads: list[Upload] = field(default_factory=list)
    restamps: list[Upload] = field(default_factory=list)  # same bytes, new headers: metadata replaced in place
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalidations: list[str] = field(default_factory=list)
    manifest: dict[str, str] = field(default_factory=dict)  # what every object carries once this publish is done
    stamped: dict[str, str] = field(default_factory=dict)  # what the bucket's manifest said before it

    def interim_manifest(self) -> dict[str, str]:
        """True whenever this publish stops: an object to upload is redone anyway while its MD5 differs, but one
        waiting for new headers keeps its old entry until it has them."""
        waiting = {upload.key for upload in self.restamps}
        return {key: self.stamped.get(key, "") if key in waiting else fp for key, fp in self.manifest.items()}

    def summary(self, dry_run: bool) -> str:
        verb = "would upload" if dry_run else "uploaded"
        size = sum(u.path.stat().st_size for u in self.uploads)
        restamped = f"{len(self.restamps)} with new headers, " if self.restamps else ""
        return (
            f"{verb} {len(self.uploads)} file(s) ({size / 2**20:.1f} MiB), {restamped}"
            f"{'would delete' if dry_run else 'deleted'} {len(self.deletes)}, {self.unchanged} unchanged, "
            f"{'would invalidate' if dry_run else 'invalidated'} {len(self.invalidations)} path(s)"
        )


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _local_files(site: Path, prefix: str) -> Iterator[Upload]:
    """Every file of the site, through the links `gallery serve`'s living site keeps its shared folders behind."""
    found: list[Path] = []
    for folder, _, names in os.walk(site, followlinks=True):
        # Dot files are the build's own (its pages manifest, a file being written), not the site's.
        found.extend(Path(folder) / name for name in names if not name.startswith("."))
    for path in sorted(found):
        relative = path.relative_to(site).as_posix()
        yield Upload(prefix + relative, path, site_headers(relative), _md5(path))


def _remote_etags(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            found[entry["Key"]] = entry["ETag"].strip('"')
    return found


def _remote_manifest(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    """What headers each published object went up with (empty when none was kept: every object is then stamped)."""
    try:
        with translated({**when_missing(), **_bucket_answers(bucket)}):
            response = s3.get_object(Bucket=bucket, Key=prefix + MANIFEST)
    except errors.NotFound:
        return {}
    body = response["Body"].read()
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def key_prefix(prefix: str) -> str:
    """A `--prefix` as keys start with it: "" or "some/path/"."""
    return prefix.strip("/") + "/" if prefix.strip("/") else ""


def remote_objects(s3: S3Client, bucket: str, prefix: str) -> dict[str, str]:
    """Every object under `prefix` (a `key_prefix`) with its MD5 (S3's ETag of a single-part put), the manifest
    aside: what a publish compares the site with."""
    with translated(_bucket_answers(bucket)):
        remote = _remote_etags(s3, bucket, prefix)
    remote.pop(prefix + MANIFEST, None)
    return remote


def plan_publish(
    site: Path,
    s3: S3Client,
    bucket: str,
    prefix: str,
    keep: frozenset[str] = frozenset(),
    remote: dict[str, str] | None = None,
) -> PublishPlan:
    """`keep`: site paths the site has although `site` does not hold them (published already, see `SiteState.kept`).
    `remote`: the bucket's `remote_objects` when the caller has just listed them."""
    plan = PublishPlan()
    remote = dict(remote) if remote is not None else remote_objects(s3, bucket, prefix)
    plan.stamped = _remote_manifest(s3, bucket, prefix)
    local = {upload.key: upload for upload in _local_files(site, prefix)}
    plan.manifest = {key: upload.fingerprint for key, upload in local.items()}
    for key, upload in local.items():
        if remote.get(key) == upload.md5:
            if plan.stamped.get(key) == upload.fingerprint:
                plan.unchanged += 1
            else:
                plan.restamps.append(upload)
        else:
            plan.uploads.append(upload)
            if key in remote and not _is_hashed(key[len(prefix) :], ""):
                plan.invalidations.extend(_cdn_paths(key[len(prefix) :], prefix))
    kept = {prefix + relative for relative in keep}
    plan.deletes = sorted(set(remote) - set(local) - kept)
    plan.manifest.update({key: plan.stamped[key] for key in kept if key in plan.stamped})
    # A deleted object is invalidated even when content-named: an original deleted or made private must not stay
    # on the CDN for the year its headers allow.
    for key in plan.deletes:
        plan.invalidations.extend(_cdn_paths(key[len(prefix) :], prefix))
    plan.invalidations = list(dict.fromkeys(plan.invalidations))
    # New headers on old bytes: the CDN's copies, hashed ones included, carry the old headers. Past a few paths,
    # one wildcard costs less than many (CloudFront bills invalidations by path).
    restamped = [p for upload in plan.restamps for p in _cdn_paths(upload.key[len(prefix) :], prefix)]
    if len(restamped) > RESTAMP_PATHS:
        plan.invalidations = [f"/{prefix}*"]
    else:
        plan.invalidations = list(dict.fromkeys(plan.invalidations + restamped))
    return plan


def _is_hashed(path: str, prefix: str) -> bool:
    return path.removeprefix("/" + prefix).startswith(HASHED_DIRS)


def _cdn_paths(relative: str, prefix: str) -> list[str]:
    """A changed `x/index.html` is also served as `x/`, so both names are invalidated."""
    paths = [f"/{prefix}{relative}"]
    if relative == "index.html" or relative.endswith("/index.html"):
        paths.append(f"/{prefix}{relative.removesuffix('index.html')}")
    return paths


def publish(
    site: Path,
    settings: Settings,
    bucket: str,
    prefix: str = "",
    distribution: str | None = None,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    keep: frozenset[str] = frozenset(),
    remote: dict[str, str] | None = None,
) -> PublishPlan:
    if not site.is_dir() or not (site / "index.html").is_file():
        raise errors.ConfigError(f"No built site at {site}: run `gallery build` first")
    prefix = key_prefix(prefix)
    from gallery.storage.aws.clients import s3_client

    s3 = s3_client(settings)
    plan = plan_publish(site, s3, bucket, prefix, keep, remote)
    if dry_run:
        return plan

    def put(upload: Upload) -> None:
        with translated(), upload.path.open("rb") as body:
            s3.put_object(
                Bucket=bucket, Key=upload.key, Body=body, ContentMD5=_base64_md5(upload.md5), **upload.metadata
            )

    def restamp(upload: Upload) -> None:
        with translated():
            s3.copy_object(
                Bucket=bucket,
                Key=upload.key,
                CopySource={"Bucket": bucket, "Key": upload.key},
                MetadataDirective="REPLACE",
                **upload.metadata,
            )

    def write_manifest(manifest: dict[str, str]) -> None:
        with translated():
            s3.put_object(
                Bucket=bucket,
                Key=prefix + MANIFEST,
                Body=json.dumps(manifest, sort_keys=True).encode(),
                ContentType="application/json",
                CacheControl="no-store",
            )

    work = [(put, upload) for upload in plan.uploads] + [(restamp, upload) for upload in plan.restamps]
    if work:
        write_manifest(plan.interim_manifest())
    with ThreadPoolExecutor(_UPLOAD_THREADS) as pool:
        for done, _ in enumerate(pool.map(lambda job: job[0](job[1]), work), start=1):
            if progress:
                progress(done, len(work))
    with translated():
        for start in range(0, len(plan.deletes), 1000):
            batch: list[ObjectIdentifierTypeDef] = [{"Key": key} for key in plan.deletes[start : start + 1000]]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
    if plan.manifest != plan.stamped:
        write_manifest(plan.manifest)
    if distribution and plan.invalidations:
        _invalidate(settings, distribution, plan.invalidations)
    return plan


def _base64_md5(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _invalidate(settings: Settings, distribution: str, paths: list[str]) -> None:
    import boto3

    cloudfront = boto3.client("cloudfront", endpoint_url=settings.aws_endpoint_url or None)
    with translated():
        for start in range(0, len(paths), INVALIDATION_BATCH):
            batch = paths[start : start + INVALIDATION_BATCH]
            cloudfront.create_invalidation(
                DistributionId=distribution,
                InvalidationBatch={
                    "Paths": {"Quantity": len(batch), "Items": batch},
                    "CallerReference": f"gallery-publish-{time.time_ns()}-{start}",
                },
            )


def _bucket_answers(bucket: str) -> dict[str, errors.GalleryError]:
    """A bucket that is not there or not ours to read, while planning, is a mistake in the command, not an outage."""
    denied = errors.ConfigError(f"Access to the bucket {bucket} is denied with these credentials")
    return {
        "NoSuchBucket": errors.ConfigError(f"The bucket {bucket} does not exist"),
        "AccessDenied": denied,
        "403": denied,
    }
