"""`gallery publish`: the built site to an S3 bucket (behind CloudFront), with the headers a CDN needs.

- Content-hashed files (`r/…`) are immutable for a year; HTML, JSON and every other fixed name are `no-cache`
  (revalidated, cheap with ETags); originals at stable paths follow the system/tenant browser TTL settings.
- An object whose MD5 equals the local file's is skipped (single-part puts keep S3's ETag the MD5), so a second
  publish uploads nothing and an interrupted one can simply be run again.
- Objects under the prefix that the site no longer has are deleted; changed or deleted fixed paths are invalidated
  on the CloudFront distribution, in batches.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from gallery import errors
from gallery.config import Settings
from gallery.serving import HASHED_DIRS, SVG, site_cache_control, site_content_type
from gallery.storage.awserrors import error_code, translated

INVALIDATION_BATCH = 1000
_UPLOAD_THREADS = 8


@dataclass(frozen=True)
class Upload:
    key: str
    path: Path
    content_type: str
    cache_control: str
    md5: str


@dataclass
class Plan:
    uploads: list[Upload] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalidations: list[str] = field(default_factory=list)

    def summary(self, dry_run: bool) -> str:
        verb = "would upload" if dry_run else "uploaded"
        size = sum(u.path.stat().st_size for u in self.uploads)
        return (
            f"{verb} {len(self.uploads)} file(s) ({size / 2**20:.1f} MiB), "
            f"{'would delete' if dry_run else 'deleted'} {len(self.deletes)}, {self.unchanged} unchanged, "
            f"{'would invalidate' if dry_run else 'invalidated'} {len(self.invalidations)} path(s)"
        )


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _local_files(site: Path, prefix: str, settings: Settings) -> Iterator[Upload]:
    for path in sorted(site.rglob("*")):
        if path.is_file() and not path.name.startswith(".tmp-"):
            relative = path.relative_to(site).as_posix()
            yield Upload(
                prefix + relative, path, site_content_type(path), site_cache_control(relative, settings), _md5(path)
            )


def _remote_etags(s3: Any, bucket: str, prefix: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            found[entry["Key"]] = entry["ETag"].strip('"')
    return found


def plan_publish(site: Path, s3: Any, bucket: str, prefix: str, settings: Settings) -> Plan:
    plan = Plan()
    with translated():
        remote = _remote_etags(s3, bucket, prefix)
    local = {upload.key: upload for upload in _local_files(site, prefix, settings)}
    for key, upload in local.items():
        if remote.get(key) == upload.md5:
            plan.unchanged += 1
        else:
            plan.uploads.append(upload)
            if key in remote:
                plan.invalidations.extend(_cdn_paths(key[len(prefix) :], prefix))
    plan.deletes = sorted(set(remote) - set(local))
    for key in plan.deletes:
        plan.invalidations.extend(_cdn_paths(key[len(prefix) :], prefix))
    plan.invalidations = [p for p in dict.fromkeys(plan.invalidations) if not _is_hashed(p, prefix)]
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
) -> Plan:
    if not site.is_dir() or not (site / "index.html").is_file():
        raise errors.ConfigError(f"No built site at {site}: run `gallery build` first")
    prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
    from gallery.storage.aws import clients

    _, s3 = clients(settings)
    try:
        plan = plan_publish(site, s3, bucket, prefix, settings)
    except errors.GalleryError as exc:
        raise _explained(exc, bucket) from exc
    if dry_run:
        return plan

    def put(upload: Upload) -> None:
        extra = {}
        if upload.content_type == SVG:
            # The site shares its origin with the API behind CloudFront, and an SVG opened as a document runs its
            # scripts. As an attachment it never renders on our origin; in <img> it still shows.
            extra["ContentDisposition"] = "attachment"
        with translated(), upload.path.open("rb") as body:
            s3.put_object(
                Bucket=bucket,
                Key=upload.key,
                Body=body,
                ContentType=upload.content_type,
                CacheControl=upload.cache_control,
                ContentMD5=_base64_md5(upload.md5),
                **extra,
            )

    with ThreadPoolExecutor(_UPLOAD_THREADS) as pool:
        for done, _ in enumerate(pool.map(put, plan.uploads), start=1):
            if progress:
                progress(done, len(plan.uploads))
    with translated():
        for start in range(0, len(plan.deletes), 1000):
            batch = [{"Key": key} for key in plan.deletes[start : start + 1000]]
            s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
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


def _explained(exc: errors.GalleryError, bucket: str) -> errors.GalleryError:
    cause = exc.__cause__
    code = error_code(cause) if isinstance(cause, ClientError) else ""
    if code == "NoSuchBucket":
        return errors.ConfigError(f"The bucket {bucket} does not exist")
    if code in {"AccessDenied", "403"}:
        return errors.ConfigError(f"Access to the bucket {bucket} is denied with these credentials")
    return exc
