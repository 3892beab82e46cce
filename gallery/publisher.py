"""The published site on AWS, kept current by itself: what the publisher function (`functions/publisher.py`) does
for each batch of the table's stream, and every hour.

A Lambda container's disk is ephemeral, so what is published already is read from where it lasts: the site bucket.
Its content-named files (renditions, originals, exports: `site_layout.HASHED_DIRS`) say by their names alone what
exists, so a build told of them renders only what is new and copies nothing it would not upload. Pages, the index
and `gallery.json` are made from catalog rows (cheap, no image bytes) and uploaded only when their bytes differ;
objects the site no longer has are deleted; only changed fixed paths are invalidated on CloudFront (`site/sync.py`).

Each run builds the whole site from the catalog and compares it with the bucket, so it is idempotent: a batch
delivered twice changes nothing the second time, and the hourly run repairs whatever a lost event missed. That is
also why a batch that cannot be read, or a build that fails for a reason other than AWS being unavailable, is
reported and acknowledged rather than retried forever; only an outage is raised, for Lambda to retry.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID
from gallery.domain.site_layout import HASHED_DIRS
from gallery.services.site_source import Selection
from gallery.site.build import builder_for
from gallery.site.builder import BuildRun, SiteOptions
from gallery.site.sync import publish
from gallery.storage.aws.site_bucket import S3SiteBucket
from gallery.storage.aws.stream import image_changes
from gallery.wiring import Gallery

log = logging.getLogger("gallery.publisher")

CACHE = "gallery-publisher-cache"  # in the temporary folder: kept while the container stays warm
RETRIED = (errors.Unavailable, errors.TooManyRequests)  # raised for Lambda to retry; anything else is reported


@dataclass
class PublisherRun:
    """What one run did, as the function returns it (and logs it)."""

    reason: str
    rendered: int = 0  # images whose files were made
    pages: int = 0  # pages written (rendered from their templates)
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    kept: int = 0
    skipped_records: list[str] = field(default_factory=list)
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "rendered": self.rendered,
            "pages": self.pages,
            "uploaded": self.uploaded,
            "deleted": self.deleted,
            "invalidated": self.invalidated,
            "kept": self.kept,
            "skippedRecords": self.skipped_records,
            "error": self.error,
        }


def on_records(records: Iterable[Any], settings: Settings | None = None) -> PublisherRun:
    """One batch of the table's stream: republish when it changed an image the site may show."""
    settings = settings or Settings.from_env()
    changes = image_changes(records)
    for described in changes.unreadable:
        log.error("Skipped a stream record that is not a change of the table: %s", described)
    if not changes.tenants:
        return PublisherRun("no change a site shows", skipped_records=changes.unreadable)
    site_tenants = {SYSTEM_TENANT_ID}
    outcome = _guarded(settings, f"images of {len(changes.tenants)} tenant(s) changed", site_tenants, changes.tenants)
    outcome.skipped_records = changes.unreadable
    return outcome


def reconcile(settings: Settings | None = None) -> PublisherRun:
    """The scheduled run: the whole site against the bucket, whatever happened."""
    return _guarded(settings or Settings.from_env(), "scheduled reconciliation", None, None)


def _guarded(settings: Settings, reason: str, site_tenants: set[str] | None, changed: set[str] | None) -> PublisherRun:
    try:
        outcome = publish_site(settings, reason, site_tenants, changed)
    except RETRIED:
        raise
    except errors.GalleryError as exc:
        log.error("The site was not published (%s): %s", reason, exc.message)
        return PublisherRun(reason, error=exc.message)
    log.info(
        "Published (%s): %d rendered, %d uploaded, %d deleted, %d invalidated",
        reason,
        outcome.rendered,
        len(outcome.uploaded),
        len(outcome.deleted),
        len(outcome.invalidated),
    )
    return outcome


def publish_site(
    settings: Settings,
    reason: str = "publish",
    site_tenants: set[str] | None = None,
    changed: set[str] | None = None,
) -> PublisherRun:
    """Build the site (`GALLERY_SITE_TENANT`'s public images and the system's) against what the bucket holds, and
    publish the difference. `site_tenants` and `changed`: with both, nothing happens unless a changed tenant is
    one the site shows (the configured tenant is resolved and added to `site_tenants` first)."""
    if not settings.site_bucket:
        raise errors.ConfigError("GALLERY_SITE_BUCKET is not set: there is no published site to keep current")
    gallery = Gallery.open(settings, signing=False)
    try:
        tenant = _existing_tenant(gallery, settings.site_tenant) if settings.site_tenant else None
        if site_tenants is not None and changed is not None:
            if tenant is not None:
                site_tenants = site_tenants | {tenant}
            if not changed & site_tenants:
                return PublisherRun(f"{reason}, none of them shown on the site")
        return _build_and_publish(gallery, settings, reason, Selection(tenant, system=True))
    finally:
        gallery.close()


def _build_and_publish(gallery: Gallery, settings: Settings, reason: str, selection: Selection) -> PublisherRun:
    bucket = S3SiteBucket(settings, settings.site_bucket, settings.site_prefix, settings.site_distribution or None)
    remote = bucket.objects()  # listed once, for both uses
    published = frozenset(key for key in remote if key.startswith(HASHED_DIRS))
    builder = builder_for(gallery, SiteOptions(selection), Path(tempfile.gettempdir()) / CACHE)
    out = Path(tempfile.mkdtemp(prefix="gallery-site-"))
    try:
        # One process: Lambda has no /dev/shm, so no process pool there.
        state = builder.build(out, BuildRun(workers=1, published=published))
        for image, why in state.failures:
            log.error("Skipped %s (%s): %s", image.title, image.resource_key, why)
        state.placed()
        plan = publish(out, bucket, keep=frozenset(state.kept), remote=remote)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return PublisherRun(
        reason,
        rendered=state.rendered,
        pages=sum(1 for path in state.written if path.endswith(".html")),
        uploaded=[bucket.prefix + upload.key for upload in plan.uploads],
        deleted=[bucket.prefix + key for key in plan.deletes],
        invalidated=[f"/{bucket.prefix}{path}" for path in plan.invalidations],
        kept=len(state.kept),
    )


def _existing_tenant(gallery: Gallery, name_or_id: str) -> str | None:
    """The site's tenant's id; None, with a warning, while no tenant has that name (a first deploy names the
    tenant before anyone made it): the system's images are published meanwhile, and the tenant's once it exists."""
    try:
        return gallery.accounts.resolve_tenant(name_or_id).id
    except errors.NotFound:
        log.warning("GALLERY_SITE_TENANT %r names no tenant yet: publishing the system's images only", name_or_id)
        return None
