"""The image rules: who may do what, keys, limits, ETags, import/export and delete.

Views only parse and render; storage only stores. Every object check happens here, and the first invariant is
tenant isolation: a caller's `tenant` scope is always the tenant in its token, and `system` is the only other
tenant anyone can reach (read-only for tenants and customers).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import string
import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

from gallery import imaging
from gallery.config import Settings
from gallery.domain import errors, validation
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    TB_IMAGE_PREFIX,
    Dashboard,
    Descriptor,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    Scope,
    SubType,
    TenantProfile,
    now_ms,
)
from gallery.services.auth import Principal
from gallery.services.etags import CachedTag, EtagCache
from gallery.storage.protocols import Storage, read_blob

_PUBLIC_KEY_ALPHABET = string.ascii_letters + string.digits
_MAX_KEY_ATTEMPTS = 10_000
MAX_REFERENCES = 10  # per entity type, as ThingsBoard reports them


# Long enough for a slow client to start the transfer, short enough that a leaked URL soon stops working.
DOWNLOAD_URL_TTL = 300


PUBLIC_KEY_LENGTH = 32  # ThingsBoard's: 62 ** 32 keys, beyond guessing
_PUBLIC_KEY = re.compile(r"[A-Za-z0-9]{1,64}")  # ASCII only: str.isalnum() takes any script's letters and digits


def new_public_key() -> str:
    return "".join(secrets.choice(_PUBLIC_KEY_ALPHABET) for _ in range(PUBLIC_KEY_LENGTH))


def candidate_keys(file_name: str) -> Iterable[str]:
    """`logo.png`, `logo_(1).png`, `logo_(2).png`, … (ThingsBoard's unique-key rule)."""
    yield file_name
    base, dot, ext = file_name.rpartition(".")
    if not dot:
        base, ext = file_name, ""
    suffix = f".{ext}" if dot else ""
    for n in range(1, _MAX_KEY_ATTEMPTS):
        yield f"{base}_({n}){suffix}"


@dataclass(frozen=True)
class Content:
    """Bytes ready to send: what they are and where to read them."""

    descriptor: Descriptor
    file_name: str
    system: bool
    open: Callable[[], BinaryIO]
    # A short-lived URL serving the bytes with the given response headers, when the store can make one.
    link: Callable[[Mapping[str, str]], str | None]


@dataclass(frozen=True)
class Prepared:
    """Inspected bytes on their way into storage."""

    data: bytes
    inspection: imaging.Inspection

    @property
    def original(self) -> Descriptor:
        return self.inspection.original

    @property
    def preview(self) -> Descriptor:
        return self.inspection.preview

    def blobs(self) -> tuple[tuple[str, bytes], ...]:
        return ((self.original.etag, self.data), (self.preview.etag, self.inspection.preview_bytes))


@dataclass(frozen=True)
class DeleteResult:
    success: bool
    references: dict[str, list[dict[str, Any]]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"success": self.success, "references": self.references}


class ImageService:
    def __init__(self, storage: Storage, settings: Settings) -> None:
        self.catalog = storage.catalog
        self.blobs = storage.blobs
        self.settings = settings
        self.limits = imaging.Limits(settings.max_image_pixels, settings.max_image_frames)
        self.etags = EtagCache(settings.etag_cache_ttl * 60, settings.etag_cache_max_bytes)

    # --- access -------------------------------------------------------------------------------------------------
    @staticmethod
    def tenant_of(principal: Principal, scope: Scope) -> str:
        return SYSTEM_TENANT_ID if scope is Scope.SYSTEM else principal.tenant_id

    def _find(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        image = self.catalog.get_image(self.tenant_of(principal, scope), key)
        if image is None:
            raise errors.NotFound()
        return image

    @staticmethod
    def require_admin(principal: Principal) -> None:
        if not principal.can_write:
            raise errors.PermissionDenied()

    def _writable(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        self.require_admin(principal)
        image = self._find(principal, scope, key)
        if image.tenant_id != principal.tenant_id:
            raise errors.PermissionDenied()
        return image

    def _profile(self, tenant_id: str) -> TenantProfile | None:
        if tenant_id == SYSTEM_TENANT_ID:
            return None  # the system administrator's uploads are not limited
        tenant = self.catalog.get_tenant(tenant_id)
        if tenant is None:
            raise errors.BadRequest("Resource is referencing to non-existent tenant!")
        return self.catalog.get_profile(tenant.profile_id)

    def max_resource_size(self, tenant_id: str) -> int:
        profile = self._profile(tenant_id)
        return profile.max_resource_size if profile else 0

    # --- reading ------------------------------------------------------------------------------------------------
    def info(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        self.require_admin(principal)
        return self._find(principal, scope, key)

    def list_images(
        self, principal: Principal, page: PageQuery, sub_type: SubType, include_system: bool
    ) -> Page[ImageInfo]:
        self.require_admin(principal)
        query = ImageQuery(principal.tenant_id, sub_type, include_system and not principal.is_sysadmin)
        return self.catalog.list_images(query, page)

    def current_tag(self, principal: Principal, scope: Scope, key: str, preview: bool) -> CachedTag:
        """The ETag a download would carry, from the cache when it can: no blob is read to answer a 304."""
        tenant_id = self.tenant_of(principal, scope)
        cache_key: tuple[Hashable, ...] = ("image", tenant_id, key, preview)
        tag = self.etags.get(cache_key)
        if tag is None:
            image = self._find(principal, scope, key)
            tag = CachedTag((image.preview if preview else image.original).etag, image.is_system)
            self.etags.put(cache_key, tag)
        return tag

    def current_public_tag(self, public_key: str) -> CachedTag:
        cache_key: tuple[Hashable, ...] = ("public", public_key)
        tag = self.etags.get(cache_key)
        if tag is None:
            image = self._public_image(public_key)
            tag = CachedTag(image.etag, image.is_system)
            self.etags.put(cache_key, tag)
        return tag

    def _public_image(self, public_key: str) -> ImageInfo:
        image = self.catalog.find_public_image(public_key)
        if image is None or not image.public:
            raise errors.NotFound()
        return image

    def content(self, principal: Principal, scope: Scope, key: str, preview: bool) -> Content:
        image = self._find(principal, scope, key)
        return self._content(image, preview)

    def public_content(self, public_key: str) -> Content:
        return self._content(self._public_image(public_key), preview=False)

    def _content(self, image: ImageInfo, preview: bool) -> Content:
        descriptor = image.preview if preview else image.original
        return Content(
            descriptor,
            image.file_name,
            image.is_system,
            lambda: self.blobs.open(descriptor.etag),
            lambda headers: self.blobs.download_url(descriptor.etag, headers, DOWNLOAD_URL_TTL),
        )

    def export(self, principal: Principal, scope: Scope, key: str) -> dict[str, Any]:
        image = self.info(principal, scope, key)
        return export_data(image, read_blob(self.blobs, image.etag))

    # --- writing ------------------------------------------------------------------------------------------------
    def _inspect(self, tenant_id: str, data: bytes) -> Prepared:
        if not data:
            raise errors.BadRequest("Resource data should be specified")
        limit = self.max_resource_size(tenant_id)
        if limit and len(data) > limit:
            raise errors.resource_too_big(limit)
        return Prepared(data, imaging.inspect(data, self.limits))

    def _max_total(self, tenant_id: str) -> int:
        profile = self._profile(tenant_id)
        return profile.max_resources_in_bytes if profile else 0

    def ensure_room(self, tenant_id: str, incoming: int) -> None:
        """A cheap check before any bytes are sent: a tenant at its total limit gets no upload form. The write
        itself still checks, atomically, when the image commits."""
        limit = self._max_total(tenant_id)
        if limit and self.catalog.usage(tenant_id) + max(incoming, 1) > limit:
            raise errors.resources_total_too_big(limit)

    def upload(
        self,
        principal: Principal,
        file_name: str | None,
        data: bytes,
        title: str | None,
        sub_type: str | None,
    ) -> ImageInfo:
        self.require_admin(principal)
        name = validation.file_name(file_name)
        chosen_title = validation.title(title if title and title.strip() else name)
        kind = validation.sub_type(sub_type)
        inspection = self._inspect(principal.tenant_id, data)
        draft = _new_image(principal.tenant_id, chosen_title, name, kind, True, new_public_key(), inspection)
        return self._create(draft, inspection, candidate_keys(name))

    def _create(self, draft: ImageInfo, inspection: Prepared, keys: Iterable[str]) -> ImageInfo:
        """Store the bytes, then commit the row under the first free key; undo the bytes if nothing commits."""
        max_total = self._max_total(draft.tenant_id)
        self._put_blobs(inspection)
        try:
            for key in keys:
                image = draft.evolve(resource_key=validation.resource_key(key))
                if self.catalog.get_image(image.tenant_id, key) is not None:
                    continue
                try:
                    self.catalog.insert_image(image, max_total)
                except errors.KeyTaken:
                    continue  # someone took it between our look and our write: try the next key
                self._confirm_blobs(inspection)
                return image
            raise errors.Conflict("No free resource key is left for this file name")
        except BaseException:
            self._release_blobs(inspection.original.etag, inspection.preview.etag)
            raise

    def update_bytes(
        self, principal: Principal, scope: Scope, key: str, file_name: str | None, data: bytes
    ) -> ImageInfo:
        image = self._writable(principal, scope, key)
        name = validation.file_name(file_name)
        inspection = self._inspect(image.tenant_id, data)
        updated = image.revised(file_name=name, original=inspection.original, preview=inspection.preview)
        return self._replace(image, updated, inspection)

    def _replace(self, old: ImageInfo, new: ImageInfo, inspection: Prepared | None) -> ImageInfo:
        """Commit `new` over `old` (version-checked), keeping blobs and the ETag cache consistent."""
        max_total = self._max_total(old.tenant_id)
        if inspection is not None:
            self._put_blobs(inspection)
        try:
            self.catalog.update_image(new, old.version, max_total)
        except BaseException:
            if inspection is not None:
                self._release_blobs(*(new.blob_refs - old.blob_refs))
            raise
        if inspection is not None:
            self._confirm_blobs(inspection)
        self._forget(old)
        self._release_blobs(*(old.blob_refs - new.blob_refs))
        return new

    def rename(self, principal: Principal, scope: Scope, key: str, title: str | None) -> ImageInfo:
        image = self._writable(principal, scope, key)
        updated = image.revised(title=validation.title(title))
        return self._replace(image, updated, None)

    def set_public(self, principal: Principal, scope: Scope, key: str, public: bool) -> ImageInfo:
        image = self._writable(principal, scope, key)
        if image.public == public:
            return image
        updated = image.revised(public=public)
        return self._replace(image, updated, None)

    def references(self, image: ImageInfo) -> dict[str, list[dict[str, Any]]]:
        """What refers to the image by `tb-image;<link>`: a tenant image within its tenant, a system image anywhere.

        A key with characters that links percent-encode is also looked for in the other spellings references are
        written in: raw (saved before links were encoded, or built from the key by a client) and as JavaScript's
        `encodeURIComponent` writes it (which leaves `!'()*` alone)."""
        tenant_id = None if image.is_system else image.tenant_id
        base = f"/api/images/{image.scope.value}/"
        key = image.resource_key
        links = dict.fromkeys([image.link, base + key, base + quote(key, safe="!'()*~")])
        found: dict[str, Dashboard] = {}
        for link in links:
            for dashboard in self.catalog.dashboards_referring(TB_IMAGE_PREFIX + link, tenant_id, MAX_REFERENCES):
                found.setdefault(dashboard.id, dashboard)
        listed = sorted(found.values(), key=lambda d: (d.created_time, d.id))[:MAX_REFERENCES]
        return {"DASHBOARD": [d.info_json() for d in listed]} if listed else {}

    def delete(self, principal: Principal, scope: Scope, key: str, force: bool) -> DeleteResult:
        image = self._writable(principal, scope, key)
        if not force:
            references = self.references(image)
            if references:
                return DeleteResult(success=False, references=references)
        removed = self.catalog.delete_image(image.tenant_id, image.resource_key)
        if removed is None:
            raise errors.NotFound()
        self._forget(removed)
        self._release_blobs(*removed.blob_refs)
        return DeleteResult(success=True)

    def import_image(self, principal: Principal, body: Any) -> ImageInfo:
        """Accept ThingsBoard's `ResourceExportData` (and the older 3.6.2 `ImageExportData`)."""
        self.require_admin(principal)
        if not isinstance(body, dict):
            raise errors.BadRequest("Import body must be a JSON object")
        data = _decode_base64(body.get("data"))
        name = validation.file_name(validation.optional_str(body, "fileName"))
        chosen_title = validation.title(validation.optional_str(body, "title") or name)
        kind = validation.sub_type(validation.optional_str(body, "subType"))
        public = _optional_bool(body, "public", _optional_bool(body, "isPublic", False))
        key = validation.optional_str(body, "resourceKey")
        if key:
            validation.resource_key(key)
        wanted_public_key = validation.optional_str(body, "publicResourceKey")
        if wanted_public_key and not _PUBLIC_KEY.fullmatch(wanted_public_key):
            raise errors.BadRequest("publicResourceKey must be letters and digits only")
        inspection = self._inspect(principal.tenant_id, data)
        existing = self.catalog.get_image(principal.tenant_id, key) if key else None
        public_key = self._usable_public_key(wanted_public_key, existing, principal.tenant_id)
        if existing is not None:
            updated = existing.revised(
                title=chosen_title,
                file_name=name,
                sub_type=kind,
                public=public,
                public_key=public_key,
                original=inspection.original,
                preview=inspection.preview,
            )
            return self._replace(existing, updated, inspection)
        draft = _new_image(principal.tenant_id, chosen_title, name, kind, public, public_key, inspection)
        return self._create(draft, inspection, [key] if key else candidate_keys(name))

    def _usable_public_key(self, wanted: str | None, existing: ImageInfo | None, tenant_id: str) -> str:
        """The requested public key when it is this tenant's to use: never held by another tenant (a public link
        stays its tenant's after its image is gone, so an export cannot take over someone's embedded link), held
        by no other image, and as long as the keys we make (a short one is a guessable link). Otherwise the
        overwritten image keeps its own, or a new one is made."""
        if wanted and len(wanted) >= PUBLIC_KEY_LENGTH and self.catalog.public_key_owner(wanted) in (None, tenant_id):
            holder = self.catalog.find_public_image(wanted)
            if holder is None or (existing is not None and holder.id == existing.id):
                return wanted
        return existing.public_key if existing is not None else new_public_key()

    # --- blobs and caches ---------------------------------------------------------------------------------------
    def _put_blobs(self, prepared: Prepared) -> None:
        for etag, data in prepared.blobs():
            self.blobs.put(etag, data)

    def _confirm_blobs(self, prepared: Prepared) -> None:
        """After the row commits, make sure a concurrent release did not take the bytes it refers to."""
        for etag, data in prepared.blobs():
            if not self.blobs.exists(etag):
                self.blobs.put(etag, data)

    def _release_blobs(self, *etags: str) -> None:
        """Delete bytes no row refers to. Content addressing shares bytes between images, so a concurrent upload of
        the same bytes may commit a row right after our check; we re-check after deleting and put the bytes back."""
        for etag in set(etags):
            if self.catalog.blob_in_use(etag) or not self.blobs.exists(etag):
                continue
            data = read_blob(self.blobs, etag)
            self.blobs.delete(etag)
            if self.catalog.blob_in_use(etag):
                self.blobs.put(etag, data)

    def _forget(self, image: ImageInfo) -> None:
        self.etags.evict(
            ("image", image.tenant_id, image.resource_key, False),
            ("image", image.tenant_id, image.resource_key, True),
            ("public", image.public_key),
        )

    def release(self, removed: list[ImageInfo]) -> None:
        """Clean up after rows removed elsewhere (a deleted tenant): caches and unreferenced bytes."""
        for image in removed:
            self._forget(image)
        self._release_blobs(*(etag for image in removed for etag in image.blob_refs))

    def collect_garbage(self) -> list[str]:
        """Remove blobs no row refers to (left by a crash between writing bytes and committing a row)."""
        orphans = [etag for etag in self.blobs.etags() if not self.catalog.blob_in_use(etag)]
        self._release_blobs(*orphans)
        return [etag for etag in orphans if not self.blobs.exists(etag)]

    def usage(self, tenant_id: str) -> int:
        return self.catalog.usage(tenant_id)


def export_data(image: ImageInfo, data: bytes) -> dict[str, Any]:
    """ThingsBoard's `ResourceExportData`: what `PUT /api/image/import` takes back."""
    return {
        "link": image.link,
        "title": image.title,
        "type": "IMAGE",
        "subType": image.sub_type.value,
        "resourceKey": image.resource_key,
        "fileName": image.file_name,
        "publicResourceKey": image.public_key,
        "public": image.public,
        "mediaType": image.original.media_type,
        "data": base64.b64encode(data).decode("ascii"),
    }


def _new_image(
    tenant_id: str, title: str, file_name: str, sub_type: SubType, public: bool, public_key: str, prepared: Prepared
) -> ImageInfo:
    """A row not yet stored; its key is chosen when it is committed."""
    now = now_ms()
    return ImageInfo(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        resource_key="",
        title=title,
        file_name=file_name,
        sub_type=sub_type,
        public=public,
        public_key=public_key,
        original=prepared.original,
        preview=prepared.preview,
        created_time=now,
        updated_time=now,
    )


def _optional_bool(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise errors.BadRequest(f"'{name}' must be true or false")
    return value


def _decode_base64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise errors.BadRequest("Resource data should be specified")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BadRequest("'data' is not valid base64") from None
