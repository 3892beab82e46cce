"""`gallery publish` and the AWS publisher: a built site made the content of a `SiteBucket` (S3 behind CloudFront,
`gallery.storage.aws.site_bucket`), with the headers a CDN needs, by uploading only the difference.

- Headers are `gallery.domain.serving.site_headers`, as `gallery serve` sends them: content-addressed files (`r/…`,
  `originals/…`) immutable for a year, HTML, JSON and every other fixed name `no-cache`; users' bytes typed by the
  names we gave them, and as attachments when they are not raster images. The bucket keeps Content-Type,
  Cache-Control and Content-Disposition; the security headers it cannot hold come from the CDN's policy.
- An object whose MD5 equals the local file's is skipped, so a second publish uploads nothing and an interrupted
  one can simply be run again. The bucket's manifest remembers the headers each object went up with: when they
  change and the bytes do not, the object gets its new headers in place, so a stricter policy reaches every object
  already published.
- Objects the site no longer has are deleted; changed or deleted fixed paths are invalidated on the CDN.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from gallery.domain import errors, site_layout
from gallery.domain.serving import site_headers
from gallery.domain.site_layout import HASHED_DIRS
from gallery.storage.protocols import SiteBucket

RESTAMP_PATHS = 100  # past this many restamped paths, one wildcard invalidation (billed by path)
_UPLOAD_THREADS = 8
_STORED = ("Content-Type", "Cache-Control", "Content-Disposition")  # the headers a bucket keeps with an object


@dataclass(frozen=True)
class Upload:
    key: str  # its site path
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
    def fingerprint(self) -> str:
        stored = {name: self.headers[name] for name in _STORED if name in self.headers}
        return hashlib.sha256(json.dumps(stored, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class PublishPlan:
    uploads: list[Upload] = field(default_factory=list)
    restamps: list[Upload] = field(default_factory=list)  # same bytes, new headers: metadata replaced in place
    deletes: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalidations: list[str] = field(default_factory=list)  # site paths ("*": all)
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


def _local_files(site: Path) -> Iterator[Upload]:
    """Every file of the site, through the links `gallery serve`'s living site keeps its shared folders behind."""
    found: list[Path] = []
    for folder, _, names in os.walk(site, followlinks=True):
        # Dot files are the build's own (its pages manifest, a file being written), not the site's.
        found.extend(Path(folder) / name for name in names if not name.startswith("."))
    for path in sorted(found):
        relative = path.relative_to(site).as_posix()
        yield Upload(relative, path, site_headers(relative), _md5(path))


def plan_publish(
    site: Path, bucket: SiteBucket, keep: frozenset[str] = frozenset(), remote: dict[str, str] | None = None
) -> PublishPlan:
    """`keep`: site paths the site has although `site` does not hold them (published already, see
    `SiteState.kept`). `remote`: the bucket's `objects()` when the caller has just listed them."""
    plan = PublishPlan()
    remote = dict(remote) if remote is not None else bucket.objects()
    plan.stamped = bucket.read_manifest()
    local = {upload.key: upload for upload in _local_files(site)}
    plan.manifest = {key: upload.fingerprint for key, upload in local.items()}
    for key, upload in local.items():
        if remote.get(key) == upload.md5:
            if plan.stamped.get(key) == upload.fingerprint:
                plan.unchanged += 1
            else:
                plan.restamps.append(upload)
        else:
            plan.uploads.append(upload)
            if key in remote and not key.startswith(HASHED_DIRS):
                plan.invalidations.extend(_cdn_paths(key))
    plan.deletes = sorted(set(remote) - set(local) - keep)
    plan.manifest.update({key: plan.stamped[key] for key in keep if key in plan.stamped})
    # A deleted object is invalidated even when content-named: an original deleted or made private must not stay
    # on the CDN for the year its headers allow.
    for key in plan.deletes:
        plan.invalidations.extend(_cdn_paths(key))
    plan.invalidations = list(dict.fromkeys(plan.invalidations))
    # New headers on old bytes: the CDN's copies, hashed ones included, carry the old headers. Past a few paths,
    # one wildcard costs less than many.
    restamped = [p for upload in plan.restamps for p in _cdn_paths(upload.key)]
    if len(restamped) > RESTAMP_PATHS:
        plan.invalidations = ["*"]
    else:
        plan.invalidations = list(dict.fromkeys(plan.invalidations + restamped))
    return plan


def _cdn_paths(relative: str) -> list[str]:
    """A changed `x/index.html` is also served as `x/`, so both names are invalidated; as URLs, percent-encoded as
    the site links them (CloudFront wants `tags/caf%C3%A9/`, not the file's name `tags/café/`)."""
    paths = [site_layout.link(relative)]
    if relative == "index.html" or relative.endswith("/index.html"):
        paths.append(paths[0].removesuffix("index.html"))
    return paths


def publish(
    site: Path,
    bucket: SiteBucket,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    keep: frozenset[str] = frozenset(),
    remote: dict[str, str] | None = None,
) -> PublishPlan:
    if not site.is_dir() or not (site / "index.html").is_file():
        raise errors.ConfigError(f"No built site at {site}: run `gallery build` first")
    plan = plan_publish(site, bucket, keep, remote)
    if dry_run:
        return plan
    work: list[Callable[[], None]] = [
        *(lambda u=upload: bucket.put(u.key, u.path, u.md5, u.headers) for upload in plan.uploads),
        *(lambda u=upload: bucket.restamp(u.key, u.headers) for upload in plan.restamps),
    ]
    if work:
        bucket.write_manifest(plan.interim_manifest())
    with ThreadPoolExecutor(_UPLOAD_THREADS) as pool:
        for done, _ in enumerate(pool.map(lambda job: job(), work), start=1):
            if progress:
                progress(done, len(work))
    if plan.deletes:
        bucket.delete(plan.deletes)
    if plan.manifest != plan.stamped:
        bucket.write_manifest(plan.manifest)
    bucket.invalidate(plan.invalidations)
    return plan
