"""The image rules: who may do what to which image, keys, limits, revisions, references and delete.

Views only parse and render; storage only stores. Every object check happens here, and the first invariant is
tenant isolation (`Principal.tenant_for`): a caller reaches its own tenant's images and, read-only unless it is the
system administrator, the system's. Bytes are the blob keeper's (`gallery.services.blobs`), downloads the download
service's, export and import the transfer service's.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

from gallery import imaging
from gallery.config import Settings
from gallery.domain import errors, fields, validation
from gallery.domain.access import Action, Principal
from gallery.domain.model import (
    SYSTEM_TENANT_ID,
    TB_IMAGE_PREFIX,
    UNLIMITED,
    Dashboard,
    FileLimits,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    Scope,
    SubType,
    images_path,
    now_ms,
)
from gallery.imaging import metadata
from gallery.services import etags
from gallery.services.blobs import BlobKeeper, Prepared
from gallery.services.etags import EtagCache
from gallery.storage.protocols import AccountCatalog, DashboardCatalog, ImageCatalog

_PUBLIC_KEY_ALPHABET = string.ascii_letters + string.digits
_MAX_KEY_ATTEMPTS = 10_000
MAX_REFERENCES = 10  # per entity type, as ThingsBoard reports them
MAX_BULK = 1000  # images one bulk delete may name
PUBLIC_KEY_LENGTH = 32  # ThingsBoard's: 62 ** 32 keys, beyond guessing
_PUBLIC_KEY = re.compile(r"[A-Za-z0-9]{1,64}")  # ASCII only: str.isalnum() takes any script's letters and digits


def new_public_key() -> str:
    return "".join(secrets.choice(_PUBLIC_KEY_ALPHABET) for _ in range(PUBLIC_KEY_LENGTH))


def is_public_key(text: str) -> bool:
    """A public key as we make them (or an export may carry): letters and digits, at most 64."""
    return bool(_PUBLIC_KEY.fullmatch(text))


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
class InfoChange:
    """What `PUT …/info` (or an export file) says of an image's texts; None leaves a field as it is, so a client
    that knows only ThingsBoard's `title` never clears the alt text, description or tags it does not send."""

    title: str | None = None
    alt_text: str | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, body: fields.JsonObject, with_title: bool = True) -> InfoChange:
        """The fields a body names, each checked; `title` only `with_title` (an export file's has its own rule)."""
        title = fields.optional_text(body, "title") if with_title else None
        alt_text = fields.optional_text(body, "altText")
        description = fields.optional_text(body, "description")
        tags = fields.optional_texts(body, "tags")
        return cls(
            title=None if title is None else validation.title(title),
            alt_text=None if alt_text is None else validation.alt_text(alt_text),
            description=None if description is None else validation.description(description),
            tags=None if tags is None else validation.tags(tags),
        )

    @property
    def empty(self) -> bool:
        return self == InfoChange()

    def applied(self, image: ImageInfo) -> ImageInfo:
        return replace(
            image,
            title=image.title if self.title is None else self.title,
            alt_text=image.alt_text if self.alt_text is None else self.alt_text,
            description=image.description if self.description is None else self.description,
            tags=image.tags if self.tags is None else self.tags,
        )


@dataclass(frozen=True)
class DeleteResult:
    success: bool
    references: dict[str, list[dict[str, Any]]] | None = None

    def to_json(self) -> dict[str, Any]:
        return {"success": self.success, "references": self.references}


@dataclass(frozen=True)
class BulkResult:
    """Each image's outcome, in the order asked: one in use, missing or forbidden does not stop the rest. `done`
    names the count of successes in the answer (`deleted`, `updated`)."""

    done: str
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def checked(cls, done: str, targets: Sequence[tuple[Scope, str]]) -> BulkResult:
        if not targets:
            raise errors.BadRequest("Name at least one image")
        if len(targets) > MAX_BULK:
            raise errors.BadRequest(f"At most {MAX_BULK} images can be named in one request")
        return cls(done)

    def to_json(self) -> dict[str, Any]:
        succeeded = sum(1 for outcome in self.outcomes if outcome["success"])
        return {"success": succeeded == len(self.outcomes), self.done: succeeded, "results": self.outcomes}


class ImageService:
    def __init__(
        self,
        catalog: ImageCatalog,
        accounts: AccountCatalog,
        dashboards: DashboardCatalog,
        keeper: BlobKeeper,
        cache: EtagCache,
        settings: Settings,
    ) -> None:
        self.catalog = catalog
        self.accounts = accounts
        self.dashboards = dashboards
        self.keeper = keeper
        self.cache = cache
        self.decode_limits = imaging.DecodeLimits(settings.max_image_pixels, settings.max_image_frames)

    # --- access and limits --------------------------------------------------------------------------------------
    def _find(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        image = self.catalog.get_image(principal.tenant_for(scope), key)
        if image is None:
            raise errors.NotFound()
        return image

    def _writable(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        principal.require(Action.MANAGE_IMAGES)
        image = self._find(principal, scope, key)
        if image.tenant_id != principal.tenant_id:
            raise errors.PermissionDenied()
        return image

    def limits(self, tenant_id: str) -> FileLimits:
        """The tenant's file limits, from its profile; the system administrator's uploads are not limited."""
        if tenant_id == SYSTEM_TENANT_ID:
            return UNLIMITED
        tenant = self.accounts.get_tenant(tenant_id)
        if tenant is None:
            raise errors.BadRequest("Resource is referencing to non-existent tenant!")
        profile = self.accounts.get_profile(tenant.profile_id)
        return profile.limits if profile else UNLIMITED

    def caller_limits(self, principal: Principal) -> FileLimits:
        """The limits the caller's uploads meet, as the management page shows them (the upload dialog's largest
        file, the usage line's total); none for the system administrator."""
        return self.limits(principal.tenant_id)

    def usage(self, tenant_id: str) -> int:
        return self.catalog.usage(tenant_id)

    def image_count(self, tenant_id: str) -> int:
        """How many images a tenant (or the system) holds, of every sub type: a page of one each, for its total."""
        return sum(
            self.catalog.list_images(ImageQuery(tenant_id, sub_type), PageQuery(1, 0)).total_elements
            for sub_type in SubType
        )

    # --- reading ------------------------------------------------------------------------------------------------
    def info(self, principal: Principal, scope: Scope, key: str) -> ImageInfo:
        principal.require(Action.MANAGE_IMAGES)
        return self._find(principal, scope, key)

    def list_images(
        self,
        principal: Principal,
        page: PageQuery,
        sub_type: SubType,
        include_system: bool,
        tags: Sequence[str] = (),
    ) -> Page[ImageInfo]:
        principal.require(Action.MANAGE_IMAGES)
        query = self._query(principal, sub_type, include_system, tags)
        return self.catalog.list_images(query, page)

    def tag_counts(self, principal: Principal, sub_type: SubType, include_system: bool) -> dict[str, int]:
        """The tags the caller's list can filter by, each with how many of its images carry it, by name."""
        principal.require(Action.MANAGE_IMAGES)
        query = self._query(principal, sub_type, include_system, ())
        owners = [query.tenant_id, SYSTEM_TENANT_ID] if query.include_system else [query.tenant_id]
        counts: dict[str, int] = {}
        for owner in owners:
            for tag, count in self.catalog.tag_counts(owner, sub_type).items():
                counts[tag] = counts.get(tag, 0) + count
        return dict(sorted(counts.items()))

    @staticmethod
    def _query(principal: Principal, sub_type: SubType, include_system: bool, tags: Sequence[str]) -> ImageQuery:
        return ImageQuery(
            principal.tenant_id, sub_type, include_system and not principal.is_sysadmin, validation.tags(list(tags))
        )

    def every_image(self, tenant_id: str) -> Iterator[ImageInfo]:
        """Every image of one tenant (or of the system), sub type by sub type: for the operator's export, which has
        no caller and no paging."""
        for sub_type in SubType:
            yield from self.catalog.every_image(tenant_id, sub_type)

    # --- writing ------------------------------------------------------------------------------------------------
    def prepare(self, data: bytes, limits: FileLimits) -> Prepared:
        """The bytes checked against the size limit, then inspected (type, dimensions, preview)."""
        if not data:
            raise errors.BadRequest("Resource data should be specified")
        if limits.max_resource_size and len(data) > limits.max_resource_size:
            raise errors.resource_too_big(limits.max_resource_size)
        inspection = imaging.inspect(data, self.decode_limits)
        return Prepared(data, inspection, metadata.public_copy(data, inspection.original.media_type))

    def upload(
        self,
        principal: Principal,
        file_name: str | None,
        data: bytes,
        title: str | None,
        sub_type: str | None,
    ) -> ImageInfo:
        principal.require(Action.MANAGE_IMAGES)
        name = validation.file_name(file_name)
        chosen_title = validation.title(title if title and title.strip() else name)
        kind = validation.sub_type(sub_type)
        limits = self.limits(principal.tenant_id)
        prepared = self.prepare(data, limits)
        draft = self.draft(principal.tenant_id, chosen_title, name, kind, True, new_public_key(), prepared)
        return self.commit_new(draft, prepared, candidate_keys(name), limits)

    @staticmethod
    def draft(
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
            created_time=now,
            updated_time=now,
            **prepared.fields,
        )

    def commit_new(self, draft: ImageInfo, prepared: Prepared, keys: Iterable[str], limits: FileLimits) -> ImageInfo:
        """Store the bytes, then commit the row under the first free key; undo the bytes if nothing commits. Once
        the row commits, nothing turns the answer into a failure (a 503 must mean nothing was written)."""
        self.keeper.put(prepared, draft.tenant_id, draft.size, limits)
        try:
            image = self._insert_under_a_free_key(draft, keys, limits)
        except BaseException:
            self.keeper.release(prepared.original.etag, prepared.preview.etag)
            raise
        self.keeper.settle(prepared, ())
        return image

    def _insert_under_a_free_key(self, draft: ImageInfo, keys: Iterable[str], limits: FileLimits) -> ImageInfo:
        for key in keys:
            image = replace(draft, resource_key=validation.resource_key(key))
            if self.catalog.get_image(image.tenant_id, key) is not None:
                continue
            try:
                self.catalog.insert_image(image, limits.max_resources_in_bytes)
            except errors.KeyTaken:
                continue  # someone took it between our look and our write: try the next key
            return image
        raise errors.Conflict("No free resource key is left for this file name")

    def commit_revision(
        self, old: ImageInfo, new: ImageInfo, prepared: Prepared | None, limits: FileLimits
    ) -> ImageInfo:
        """Commit `new` over `old` (version-checked), keeping blobs and the ETag cache consistent; after the
        commit, only success."""
        if prepared is not None:
            self.keeper.put(prepared, old.tenant_id, new.size - old.size, limits)
        try:
            self.catalog.update_image(new, old.version, limits.max_resources_in_bytes)
        except BaseException:
            if prepared is not None:
                self.keeper.release(*(new.blob_refs - old.blob_refs))
            raise
        self.cache.evict(*etags.keys_of(old))
        self.keeper.settle(prepared, old.blob_refs - new.blob_refs)
        return new

    def update_bytes(
        self, principal: Principal, scope: Scope, key: str, file_name: str | None, data: bytes
    ) -> ImageInfo:
        image = self._writable(principal, scope, key)
        name = validation.file_name(file_name)
        limits = self.limits(image.tenant_id)
        prepared = self.prepare(data, limits)
        updated = replace(image, file_name=name, **prepared.fields).revised()
        return self.commit_revision(image, updated, prepared, limits)

    def update_info(self, principal: Principal, scope: Scope, key: str, change: InfoChange) -> ImageInfo:
        """ThingsBoard's rename, and our texts beside the title. A body naming nothing is refused as ThingsBoard
        refuses one without a title; one that changes nothing writes nothing."""
        if change.empty:
            validation.title(None)
        return self._revise(self._writable(principal, scope, key), change)

    def _revise(self, image: ImageInfo, change: InfoChange) -> ImageInfo:
        updated = change.applied(image)
        if updated == image:
            return image
        # The size is unchanged, so no limit can be passed: the tenant's profile is not read.
        return self.commit_revision(image, updated.revised(), None, UNLIMITED)

    def retag(
        self, principal: Principal, targets: Sequence[tuple[Scope, str]], add: Sequence[str], remove: Sequence[str]
    ) -> BulkResult:
        """Add and remove tags on many images, each on its own: the whole request is checked first, then one image
        that is missing, forbidden or would pass the tag limit does not stop the rest."""
        principal.require(Action.MANAGE_IMAGES)
        adding, removing = validation.tags(list(add)), validation.tags(list(remove))
        if not adding and not removing:
            raise errors.BadRequest("Name a tag to add or to remove")
        result = BulkResult.checked("updated", targets)
        for scope, key in targets:
            outcome: dict[str, Any] = {"type": scope.value, "key": key}
            try:
                image = self._writable(principal, scope, key)
                kept = [t for t in image.tags if t not in removing]
                self._revise(image, InfoChange(tags=validation.tags(kept + list(adding))))
                outcome["success"] = True
            except errors.GalleryError as error:
                outcome |= {"success": False, "error": error.to_json()}
            result.outcomes.append(outcome)
        return result

    def set_public(self, principal: Principal, scope: Scope, key: str, public: bool) -> ImageInfo:
        image = self._writable(principal, scope, key)
        if image.public == public:
            return image
        # The size is unchanged: no limit to pass.
        return self.commit_revision(image, replace(image, public=public).revised(), None, UNLIMITED)

    # --- deleting -----------------------------------------------------------------------------------------------
    def references(self, image: ImageInfo) -> dict[str, list[dict[str, Any]]]:
        """What refers to the image by `tb-image;<link>`: a tenant image within its tenant, a system image anywhere.

        A key with characters that links percent-encode is also looked for in the other spellings references are
        written in: raw (saved before links were encoded, or built from the key by a client) and as JavaScript's
        `encodeURIComponent` writes it (which leaves `!'()*` alone)."""
        tenant_id = None if image.is_system else image.tenant_id
        base = images_path(image.scope)
        key = image.resource_key
        links = dict.fromkeys([image.link, base + key, base + quote(key, safe="!'()*~")])
        found: dict[str, Dashboard] = {}
        for link in links:
            for dashboard in self.dashboards.dashboards_referring(TB_IMAGE_PREFIX + link, tenant_id, MAX_REFERENCES):
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
        self.release([removed])
        return DeleteResult(success=True)

    def delete_many(self, principal: Principal, targets: Sequence[tuple[Scope, str]], force: bool) -> BulkResult:
        """Each image deleted on its own, after the whole list was checked (the caller parsed it)."""
        principal.require(Action.MANAGE_IMAGES)
        result = BulkResult.checked("deleted", targets)
        for scope, key in targets:
            outcome: dict[str, Any] = {"type": scope.value, "key": key}
            try:
                outcome |= self.delete(principal, scope, key, force).to_json()
            except errors.GalleryError as error:
                outcome |= {"success": False, "references": None, "error": error.to_json()}
            result.outcomes.append(outcome)
        return result

    def release(self, removed: list[ImageInfo]) -> None:
        """Clean up after rows removed (here, or with a deleted tenant): caches and unreferenced bytes."""
        for image in removed:
            self.cache.evict(*etags.keys_of(image))
        self.keeper.settle(None, (etag for image in removed for etag in image.blob_refs))
