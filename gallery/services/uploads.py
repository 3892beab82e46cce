"""Large uploads in two steps, for files bigger than a Lambda request can carry.

1. `start` hands out a form: on AWS a presigned S3 POST confined to `staging/<tenant>/<upload>` and capped at the
   tenant's `maxResourceSize`; locally the same form aimed at our own endpoint. The upload id is a signed ticket
   (HS256, the token secret) naming the tenant, the staging object, the cap and the file name, so nothing about
   the upload is stored until the client finishes it.
2. `finish_new` / `finish_update` read the staged object, put it through exactly the checks of a direct upload,
   commit it, and remove the staged object whatever happened.

A tenant has at most `GALLERY_MAX_OPEN_UPLOADS` uploads open (so at most that many staged objects, each capped),
gets none at its total limit, and finishes each upload once: the ledger claims it atomically, so a form posted
again after its finish, or two finishes at once, never make a second image. `gallery serve` sweeps abandoned
staged objects itself (on S3 the bucket's lifecycle rule does it within a day).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import urlsplit

from gallery.config import Settings
from gallery.domain import errors, validation
from gallery.domain.access import Action, Principal
from gallery.domain.model import MAX_BYTES, ImageInfo, Scope
from gallery.services.credentials import ISSUER
from gallery.services.images import ImageService
from gallery.storage.protocols import Staging, UploadLedger

# Where a client posts a large upload's form when the staging store receives posts itself (the local backend).
LOCAL_STAGING_PATH = "/api/image/staging"
_ALGORITHM = "HS256"
_PURPOSE = "upload"
SWEEP_EVERY_SECONDS = 300
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class UploadStart:
    """What a client says of a large file before sending it: its name, and its size when it knows it."""

    file_name: str | None
    size: int | None = None

    def __post_init__(self) -> None:
        if self.size is not None and (
            isinstance(self.size, bool) or not isinstance(self.size, int) or not 1 <= self.size <= MAX_BYTES
        ):
            raise errors.BadRequest(f"'size' must be a whole number of bytes from 1 to {MAX_BYTES:,}")


@dataclass(frozen=True)
class Ticket:
    tenant_id: str
    upload: str
    max_size: int
    file_name: str

    @property
    def name(self) -> str:
        return f"{self.tenant_id}/{self.upload}"


class StagedUploads:
    def __init__(
        self, images: ImageService, staging: Staging, ledger: UploadLedger, secret: str, settings: Settings
    ) -> None:
        self.images = images
        self.staging = staging
        self.ledger = ledger
        self._secret = secret
        self._ttl = settings.upload_ttl
        self._ceiling = settings.max_upload_bytes
        self._most_open = settings.max_open_uploads

    def start(self, principal: Principal, request: UploadStart) -> dict[str, Any]:
        """A form for one file. The tenant's limits are read once: a file over the size limit gets no form, nor does
        a tenant at its total (a cheap check; the commit checks again, atomically)."""
        import jwt  # lazily, as in gallery.services.credentials

        principal.require(Action.MANAGE_IMAGES)
        name = validation.file_name(request.file_name)
        size = request.size
        limits = self.images.limits(principal.tenant_id)
        limit = limits.max_resource_size or self._ceiling
        if size is not None and size > limit:
            raise errors.resource_too_big(limit)
        self.images.keeper.check_room(principal.tenant_id, size or 1, limits)
        ticket = Ticket(principal.tenant_id, uuid.uuid4().hex, limit, name)
        now = int(time.time())
        self._sweep_tenant(ticket.tenant_id, now)
        if not self.ledger.open_upload(ticket.tenant_id, ticket.upload, now + self._ttl, self._most_open, now):
            raise errors.TooManyRequests(
                f"This tenant has {self._most_open} large uploads open already; finish them or let them expire",
                retry_after=self._ttl,
            )
        claims = {
            "iss": ISSUER,
            "purpose": _PURPOSE,
            "tid": ticket.tenant_id,
            "uid": ticket.upload,
            "max": ticket.max_size,
            "fn": ticket.file_name,
            "iat": now,
            "exp": now + self._ttl,
        }
        upload_id = jwt.encode(claims, self._secret, algorithm=_ALGORITHM)
        url, fields = self.staging.post_form(ticket.name, limit, self._ttl, upload_id)
        if self.staging.receives_posts:
            url = LOCAL_STAGING_PATH
        return {
            "uploadId": upload_id,
            "url": url,
            "fields": fields,
            "fileField": "file",
            "maxSize": limit,
            "expiresIn": self._ttl,
            "fileName": name,
        }

    def _ticket(self, upload_id: str, verify_exp: bool = True) -> Ticket:
        import jwt  # lazily, as in gallery.services.credentials

        try:
            claims = jwt.decode(
                upload_id,
                self._secret,
                algorithms=[_ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "tid", "uid", "max", "fn", "purpose"], "verify_exp": verify_exp},
            )
        except jwt.ExpiredSignatureError:
            raise
        except jwt.PyJWTError:
            raise errors.BadRequest("Unknown upload id") from None
        if claims["purpose"] != _PURPOSE:
            raise errors.BadRequest("Unknown upload id")
        return Ticket(str(claims["tid"]), str(claims["uid"]), int(claims["max"]), str(claims["fn"]))

    def _live_ticket(self, upload_id: str) -> Ticket:
        """The ticket, if signed by us and unexpired; an expired one's staged object is removed on the way out."""
        import jwt  # lazily, as in gallery.services.credentials

        try:
            return self._ticket(upload_id)
        except jwt.ExpiredSignatureError:
            self.staging.delete(self._ticket(upload_id, verify_exp=False).name)
            raise errors.BadRequest("This upload has expired; start a new one") from None

    def receive(self, upload_id: str, stream: IO[bytes]) -> int:
        """The local backend's stand-in for S3's POST: store at most the ticket's cap under its staging name."""
        ticket = self._live_ticket(upload_id)
        if not self.staging.receives_posts:
            raise errors.NotFound()  # this backend's clients upload to S3, never here
        if not self.ledger.is_open(ticket.tenant_id, ticket.upload, int(time.time())):
            raise errors.BadRequest("This upload is finished; start a new one")
        return self.staging.store(ticket.name, stream, ticket.max_size)

    def finish_new(self, principal: Principal, upload_id: str, title: str | None, sub_type: str | None) -> ImageInfo:
        return self._finish(
            principal, upload_id, lambda name, data: self.images.upload(principal, name, data, title, sub_type)
        )

    def finish_update(self, principal: Principal, scope: Scope, key: str, upload_id: str) -> ImageInfo:
        return self._finish(
            principal, upload_id, lambda name, data: self.images.update_bytes(principal, scope, key, name, data)
        )

    def _finish(self, principal: Principal, upload_id: str, commit: Callable[[str, bytes], ImageInfo]) -> ImageInfo:
        principal.require(Action.MANAGE_IMAGES)
        ticket = self._live_ticket(upload_id)
        if ticket.tenant_id != principal.tenant_id:
            # Another tenant's upload: refuse, and leave its object alone for its owner.
            raise errors.PermissionDenied("This upload belongs to another tenant")
        try:
            data = self.staging.read(ticket.name, ticket.max_size)
            if not self.ledger.claim_upload(ticket.tenant_id, ticket.upload, int(time.time())):
                raise errors.Conflict("This upload was finished already")
            return commit(ticket.file_name, data)
        finally:
            # Committed or refused, the staged copy has served its purpose: a second finish finds nothing.
            self.staging.delete(ticket.name)

    @functools.cached_property
    def elsewhere(self) -> tuple[str, ...]:
        """The origin large uploads are posted to when it is not the API's own (S3's), for the pages' policy. A
        presigned form is computed locally: no request is made."""
        try:
            url, _ = self.staging.post_form("00000000-0000-0000-0000-000000000000/" + "0" * 32, 1, 60, "probe")
        except errors.GalleryError:  # no credentials yet, say: pages still load, and large uploads say why
            return ()
        parts = urlsplit(url)
        return (f"{parts.scheme}://{parts.netloc}",) if parts.scheme else ()

    def _sweep_tenant(self, tenant_id: str, now: int) -> None:
        """Before a tenant gets a new form, its staged objects that no open upload holds go: one posted again after
        its upload finished (S3 takes a form until it expires), one whose ticket expired. So what a tenant has
        staged stays near what its open uploads allow, whatever it does between two requests."""
        for name in list(self.staging.staged_before(now + 1, tenant_id)):
            if not self.ledger.is_open(tenant_id, name.split("/", 1)[1], now):
                self.staging.delete(name)

    def sweep(self) -> int:
        """Remove staged objects older than any live ticket (the lifecycle rule does this on S3 within a day)."""
        abandoned = list(self.staging.staged_before(time.time() - self._ttl))
        for name in abandoned:
            self.staging.delete(name)
        return len(abandoned)

    def sweep_in_background(self, stop: threading.Event) -> threading.Thread:
        """Sweep every few minutes until `stop` is set (what `gallery serve` runs, so no staged file outlives its
        ticket for long even when nobody runs `gallery gc`)."""

        def run() -> None:
            while not stop.wait(min(self._ttl, SWEEP_EVERY_SECONDS)):
                try:
                    self.sweep()
                except errors.GalleryError as exc:  # storage briefly away: try again next time
                    log.warning("sweeping staged uploads failed: %s", exc.message)

        thread = threading.Thread(target=run, name="staged-upload-sweeper", daemon=True)
        thread.start()
        return thread
