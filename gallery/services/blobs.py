"""Keeping image bytes: written before the row that refers to them, confirmed after it commits, released when no
row refers to them any more, and collected when a crash left them behind.

Bytes are content-addressed (SHA-256), so two images may share them and a release must never take bytes another
image's row just started to refer to: it re-checks after deleting and puts them back.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from gallery import imaging
from gallery.domain import errors
from gallery.domain.model import Descriptor, FileLimits
from gallery.storage.protocols import BlobStore, ImageCatalog, read_blob

# Tries of the tidying after a commit, through a storage hiccup (throttling), before leaving it to `gallery gc`.
SETTLE_TRIES = 3
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """Inspected bytes on their way into storage: the original, the preview made from it, and the public copy
    without camera, place and people data when the original carries any (None: it carries none)."""

    data: bytes
    inspection: imaging.Inspection
    public_bytes: bytes | None = None

    @property
    def public_original(self) -> Descriptor:
        if self.public_bytes is None:
            return self.original
        return replace(self.original, size=len(self.public_bytes), etag=imaging.etag_of(self.public_bytes))

    @property
    def fields(self) -> dict[str, Any]:
        """What an image row takes from its bytes (`dataclasses.replace(image, **prepared.fields)`)."""
        return {
            "original": self.original,
            "preview": self.preview,
            "has_alpha": self.has_alpha,
            "public_original": self.public_original,
        }

    @property
    def original(self) -> Descriptor:
        return self.inspection.original

    @property
    def preview(self) -> Descriptor:
        return self.inspection.preview

    @property
    def has_alpha(self) -> bool:
        return self.inspection.has_alpha

    def blobs(self) -> tuple[tuple[str, bytes], ...]:
        copy = ((self.public_original.etag, self.public_bytes),) if self.public_bytes is not None else ()
        return ((self.original.etag, self.data), (self.preview.etag, self.inspection.preview_bytes), *copy)


class BlobKeeper:
    def __init__(self, catalog: ImageCatalog, blobs: BlobStore) -> None:
        self.catalog = catalog
        self.blobs = blobs

    def check_room(self, tenant_id: str, growth: int, limits: FileLimits) -> None:
        """Refuse early, with one read, what the write would refuse anyway: bytes that take the tenant past its
        total. The write still checks, atomically; this only spares storing (and removing) bytes bound to fail."""
        ceiling = limits.max_resources_in_bytes
        if ceiling and growth > 0 and self.catalog.usage(tenant_id) + growth > ceiling:
            raise errors.resources_total_too_big(ceiling)

    def put(self, prepared: Prepared, tenant_id: str, growth: int, limits: FileLimits) -> None:
        self.check_room(tenant_id, growth, limits)
        for etag, data in prepared.blobs():
            self.blobs.put(etag, data)

    def confirm(self, prepared: Prepared) -> None:
        """After the row commits, make sure a concurrent release did not take the bytes it refers to."""
        for etag, data in prepared.blobs():
            if not self.blobs.exists(etag):
                self.blobs.put(etag, data)

    def settle(self, committed: Prepared | None, unreferenced: Iterable[str]) -> None:
        """After a row committed, the write has happened and its answer is success, whatever storage says next: the
        new row's bytes are confirmed and bytes no row refers to any more are released, tried again through a
        hiccup. What a lasting failure leaves is logged: unreleased bytes are what `gallery gc` collects."""
        etags = list(unreferenced)
        for attempt in range(SETTLE_TRIES):
            try:
                if committed is not None:
                    self.confirm(committed)
                    committed = None
                self.release(*etags)
                return
            except errors.GalleryError as exc:
                if attempt + 1 == SETTLE_TRIES:
                    what = "confirm the new bytes and " if committed is not None else ""
                    log.warning("Committed, but could not %srelease %d blob(s): %s", what, len(etags), exc.message)
                    return
                time.sleep(0.05 * 2**attempt)

    def release(self, *etags: str) -> None:
        """Delete bytes no row refers to. A concurrent upload of the same bytes may commit a row right after our
        check, so we check again after deleting and put the bytes back."""
        for etag in set(etags):
            if self.catalog.blob_in_use(etag) or not self.blobs.exists(etag):
                continue
            data = read_blob(self.blobs, etag)
            self.blobs.delete(etag)
            if self.catalog.blob_in_use(etag):
                self.blobs.put(etag, data)

    def read(self, etag: str) -> bytes:
        return read_blob(self.blobs, etag)

    def collect_garbage(self) -> list[str]:
        """Remove bytes no row refers to (left by a crash between writing bytes and committing a row)."""
        orphans = [etag for etag in self.blobs.etags() if not self.catalog.blob_in_use(etag)]
        self.release(*orphans)
        return [etag for etag in orphans if not self.blobs.exists(etag)]
