"""The published site on AWS, kept current by itself: what the publisher function (`functions/publisher.py`) does
for each batch of the table's stream, and every hour.

A batch publishes the resource keys it changed, one at a time, and renders what they touched
(`gallery/incremental.py`): the work is bounded by the change, not by the gallery, because what the site holds is
kept as state in the table (`storage/aws/site_state.py`), not read back from the bucket or rebuilt from the catalog.

The hourly run takes up what waits: the batches Lambda gave up on (read back from the stream), keys whose change
failed, pages a stopped run left to render. Once a day it makes the full pass: every image the catalog shows against
the state, the differences brought in, and the bucket looked at (what it lacks is made, strays go), which heals
whatever a lost event or a hand in the bucket did. The deploy's first publish, and a site's first batch, render the
whole site from the state and publish it against the bucket.

Invalidations share a budget of paths an hour (`incremental.HOURLY_PATHS`), and past it one wildcard for the whole
site an hour; a wildcard past that is owed to the first run of a later hour (the hourly run at the latest).

A batch or a run that fails for a reason other than AWS being unavailable is reported and acknowledged rather than
retried forever (what it could not do waits in the state for the next run); only an outage is raised, for Lambda
to retry.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gallery.config import Settings
from gallery.domain import errors
from gallery.incremental import Publisher, site_id
from gallery.services.site_source import Selection
from gallery.site.build import builder_for
from gallery.site.builder import SiteOptions
from gallery.storage.aws.catalog import DynamoCatalog
from gallery.storage.aws.failures import FailureQueue
from gallery.storage.aws.site_bucket import S3SiteBucket
from gallery.storage.aws.site_state import SiteState
from gallery.storage.aws.stream import image_changes
from gallery.wiring import Gallery

log = logging.getLogger("gallery.publisher")

# A run's renditions, in the temporary folder, gone with the run: what is published, the state says (a container
# kept warm for hours would otherwise fill its /tmp with every image it ever rendered).
CACHE = "gallery-publisher-cache-"
RETRIED = (errors.Unavailable, errors.TooManyRequests)  # raised for Lambda to retry; anything else is reported
FULL_PASS_EVERY = 24 * 3600  # seconds between the hourly run's full passes


@dataclass
class PublisherRun:
    """What one run did, as the function returns it (and logs it)."""

    reason: str
    keys: int = 0  # resource keys whose change was published (in a full pass: found changed)
    rendered: int = 0  # images whose files were made
    pages: int = 0  # pages written (rendered from their templates)
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    skipped_records: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # resource keys whose change waits for the next run
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "keys": self.keys,
            "rendered": self.rendered,
            "pages": self.pages,
            "uploaded": self.uploaded,
            "deleted": self.deleted,
            "invalidated": self.invalidated,
            "skippedRecords": self.skipped_records,
            "failedKeys": self.failed,
            "error": self.error,
        }


def on_records(records: Iterable[Any], settings: Settings | None = None) -> PublisherRun:
    """One batch of the table's stream: publish the images it changed that a site may show."""
    settings = settings or Settings.from_env()
    changes = image_changes(records)
    for described in changes.unreadable:
        log.error("Skipped a stream record that is not a change of the table: %s", described)
    if not changes.keys:
        return PublisherRun("no change a site shows", skipped_records=changes.unreadable)
    reason = f"images of {len(changes.tenants)} tenant(s) changed"
    outcome = _guarded(settings, reason, lambda publisher, owners: _changed(publisher, owners, changes.keys))
    outcome.skipped_records = changes.unreadable
    return outcome


def reconcile(given: Settings | None = None, now: float | None = None) -> PublisherRun:
    """The scheduled run: the batches Lambda gave up on, the keys whose change failed and what waits; the full
    pass once a day."""
    moment = int(now if now is not None else time.time())
    settings = given or Settings.from_env()

    def run(publisher: Publisher, owners: tuple[str, ...]) -> str:
        head = publisher.state.head()
        publisher.settle(head)  # by the clock, not `moment` (when the run is scheduled): the hours are shared
        if moment - head.full_at >= FULL_PASS_EVERY:
            publisher.full_pass(moment, whole=False)
            return "full pass"
        if settings.publisher_failures:
            _given_up(publisher, owners, FailureQueue(settings))
        if head.failed:
            publisher.publish_keys(head.failed)
            publisher.state.forget_failed(head.failed - set(publisher.outcome.failed))
        publisher.render_waiting()
        return "what waited"

    return _guarded(settings, "scheduled reconciliation", run)


def _given_up(publisher: Publisher, owners: tuple[str, ...], queue: FailureQueue) -> None:
    """The batches Lambda gave up on, read back from the stream and published; each note goes once done."""
    for batch in queue.batches():
        if batch.why_not is not None:
            log.warning("A batch Lambda gave up on cannot be read back (%s): the daily pass takes it", batch.why_not)
        else:
            changes = image_changes(batch.records)
            publisher.publish_keys({key for owner, key in changes.keys if owner in owners})
        queue.done(batch)


def publish_site(settings: Settings, reason: str = "publish") -> PublisherRun:
    """The full pass now (the deploy's first publish)."""
    return _run(settings, reason, lambda publisher, owners: publisher.full_pass(int(time.time())) and "full pass")


def _changed(publisher: Publisher, owners: tuple[str, ...], changed: set[tuple[str, str]]) -> str:
    keys = {key for owner, key in changed if owner in owners}
    if not keys:
        return "none of them shown on the site"
    head = publisher.state.head()
    if not head.full_at:  # a site never published whole: the full pass, which takes them in
        publisher.full_pass(int(time.time()))
        return "first full pass"
    publisher.settle(head)
    publisher.publish_keys(keys)
    publisher.render_waiting()
    return f"{len(keys)} key(s)"


Work = Callable[[Publisher, tuple[str, ...]], object]


def _guarded(settings: Settings, reason: str, work: Work) -> PublisherRun:
    try:
        outcome = _run(settings, reason, work)
    except RETRIED:
        raise
    except errors.GalleryError as exc:
        log.error("The site was not published (%s): %s", reason, exc.message)
        return PublisherRun(reason, error=exc.message)
    log.info(
        "Published (%s): %d rendered, %d pages, %d uploaded, %d deleted, %d invalidated",
        outcome.reason,
        outcome.rendered,
        outcome.pages,
        len(outcome.uploaded),
        len(outcome.deleted),
        len(outcome.invalidated),
    )
    return outcome


def _run(settings: Settings, reason: str, work: Work) -> PublisherRun:
    """`work` given a publisher for the site and the tenants whose images it shows."""
    gallery = Gallery.open(settings, signing=False)
    cache = Path(tempfile.mkdtemp(prefix=CACHE))
    try:
        publisher = publisher_for(gallery, settings, cache=cache)
        said = work(publisher, publisher.selection.owners)
    finally:
        gallery.close()
        shutil.rmtree(cache, ignore_errors=True)
    done = publisher.outcome
    return PublisherRun(
        f"{reason}: {said}",
        keys=done.keys,
        rendered=done.rendered,
        pages=done.pages,
        uploaded=done.uploaded,
        deleted=done.deleted,
        invalidated=done.invalidated,
        failed=done.failed,
    )


def publisher_for(
    gallery: Gallery,
    settings: Settings,
    page_size: int = SiteOptions.page_size,
    cache: Path | None = None,
    site_url: str = "",
) -> Publisher:
    """The publisher of `GALLERY_SITE_TENANT`'s public images and the system's to `GALLERY_SITE_BUCKET`, rendering
    into `cache` (a folder of the temporary one, made and left to the caller, by default). `site_url`: where the
    site is published, for absolute snippets and a sitemap (unknown to the function: links stay relative)."""
    if not settings.site_bucket:
        raise errors.ConfigError("GALLERY_SITE_BUCKET is not set: there is no published site to keep current")
    catalog = gallery.storage.catalog
    if not isinstance(catalog, DynamoCatalog):
        raise errors.ConfigError("The publisher keeps a site of the aws backend (GALLERY_BACKEND=aws)")
    tenant = _existing_tenant(gallery, settings.site_tenant) if settings.site_tenant else None
    selection = Selection(tenant, system=True)
    bucket = S3SiteBucket(settings, settings.site_bucket, settings.site_prefix, settings.site_distribution or None)
    options = SiteOptions(selection, page_size=page_size, site_url=site_url)
    builder = builder_for(gallery, options, cache or Path(tempfile.mkdtemp(prefix=CACHE)))
    state = SiteState(catalog.table, site_id(bucket, selection, builder))
    return Publisher(builder, gallery.site, bucket, state, selection)


def _existing_tenant(gallery: Gallery, name_or_id: str) -> str | None:
    """The site's tenant's id; None, with a warning, while no tenant has that name (a first deploy names the
    tenant before anyone made it): the system's images are published meanwhile, and the tenant's once it exists."""
    try:
        return gallery.accounts.resolve_tenant(name_or_id).id
    except errors.NotFound:
        log.warning("GALLERY_SITE_TENANT %r names no tenant yet: publishing the system's images only", name_or_id)
        return None
