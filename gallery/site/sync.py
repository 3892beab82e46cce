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
- Objects the site no longer has are deleted. The CDN is told only of what it could keep serving for long: a
  content-named file deleted (an image removed or made private must not outlive it there) or given new headers. A
  fixed name is served `no-cache`, and the site's distribution keeps such an object for its minimum TTL (one second
  with `deploy/stack.yaml`'s Managed-CachingOptimized policy): invalidating it would buy a second and cost $0.005 a
  path past the month's first 1,000. Each content's files are invalidated by one wildcard, and past `MAX_PATHS` in
  one publish by one for the whole site: a publish asks for at most `MAX_PATHS` paths, whatever it changed.
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

MAX_PATHS = 15  # invalidation paths one publish asks for at most: past them, one wildcard for everything
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
    plan.deletes = sorted(set(remote) - set(local) - keep)
    plan.manifest.update({key: plan.stamped[key] for key in keep if key in plan.stamped})
    plan.invalidations = invalidations(plan.deletes + [upload.key for upload in plan.restamps])
    return plan


def invalidations(changed: list[str]) -> list[str]:
    """The CDN paths to invalidate when these site paths were deleted or restamped: content-named ones only (a
    fixed name is `no-cache`), one wildcard per content (its renditions `r/<hash>-*`, its originals
    `originals/<etag>*`), and past `MAX_PATHS`, `*`."""
    paths = list(dict.fromkeys(_content_of(key) for key in changed if key.startswith(HASHED_DIRS)))
    return ["*"] if len(paths) > MAX_PATHS else paths


def _content_of(key: str) -> str:
    """`r/<hash>-<width>.<ext>` → `r/<hash>-*`; `originals/<etag>[-public].<ext>` → `originals/<etag>*`."""
    folder, name = key.split("/", 1)
    if folder == site_layout.RENDITIONS:
        stem, dash, _ = name.partition("-")
        return f"{folder}/{site_layout.link(stem)}-*" if dash else site_layout.link(key)
    stem = name.split(".", 1)[0].removesuffix("-public")
    return f"{folder}/{site_layout.link(stem)}*"


def publish(
    site: Path,
    bucket: SiteBucket,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    keep: frozenset[str] = frozenset(),
    remote: dict[str, str] | None = None,
    invalidate: Callable[[list[str]], None] | None = None,
) -> PublishPlan:
    """`invalidate`: what asks the CDN for the plan's invalidations (the bucket's distribution, by default)."""
    if not site.is_dir() or not (site / "index.html").is_file():
        raise errors.ConfigError(f"No built site at {site}: run `gallery build` first")
    plan = plan_publish(site, bucket, keep, remote)
    if dry_run:
        return plan
    work: list[Callable[[], None]] = [
        *(lambda u=upload: bucket.put(u.key, u.path, u.md5, u.headers) for upload in plan.uploads),
        *(lambda u=upload: bucket.restamp(u.key, u.headers) for upload in plan.restamps),
    ]
    written = plan.stamped
    if work and plan.interim_manifest() != written:
        written = plan.interim_manifest()
        bucket.write_manifest(written)
    with ThreadPoolExecutor(_UPLOAD_THREADS) as pool:
        for done, _ in enumerate(pool.map(lambda job: job(), work), start=1):
            if progress:
                progress(done, len(work))
    if plan.deletes:
        bucket.delete(plan.deletes)
    if plan.manifest != written:  # once, when nothing waits for new headers
        bucket.write_manifest(plan.manifest)
    (invalidate or bucket.invalidate)(plan.invalidations)
    return plan
