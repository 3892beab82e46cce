"""Export and import in ThingsBoard's file format, both ways in one place: what `export_data` writes (the API's
export, the static site's Export JSON button), `ImportRequest.from_export` reads back — ThingsBoard's
`ResourceExportData` and the older 3.6.2 `ImageExportData` (`isPublic` instead of `public`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace
from typing import Any

from gallery.domain import errors, fields, validation
from gallery.domain.access import Action, Principal
from gallery.domain.model import ImageInfo, Scope, SubType
from gallery.services.images import (
    PUBLIC_KEY_LENGTH,
    ImageService,
    InfoChange,
    candidate_keys,
    is_public_key,
    new_public_key,
)


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
        # Ours, beside ThingsBoard's keys (its import ignores keys it does not know).
        "altText": image.alt_text,
        "description": image.description,
        "tags": list(image.tags),
    }


@dataclass(frozen=True)
class ImportRequest:
    data: bytes
    file_name: str
    title: str
    sub_type: SubType
    public: bool
    resource_key: str | None  # the key to write (an image there is overwritten); None: a free key from the name
    public_key: str | None  # the public key asked for; used only when it is the tenant's to use
    texts: InfoChange = field(default_factory=InfoChange)  # alt text, description, tags: what a file lacks stays

    @classmethod
    def from_export(cls, body: Any) -> ImportRequest:
        if not isinstance(body, dict):
            raise errors.BadRequest("Import body must be a JSON object")
        data = _decode_base64(body.get("data"))
        name = validation.file_name(fields.optional_text(body, "fileName"))
        title = validation.title(fields.optional_text(body, "title") or name)
        sub_type = validation.sub_type(fields.optional_text(body, "subType"))
        public = fields.flag(body, "public", fields.flag(body, "isPublic", False))
        key = fields.optional_text(body, "resourceKey") or None
        if key:
            validation.resource_key(key)
        public_key = fields.optional_text(body, "publicResourceKey") or None
        if public_key and not is_public_key(public_key):
            raise errors.BadRequest("publicResourceKey must be letters and digits only")
        return cls(data, name, title, sub_type, public, key, public_key, InfoChange.from_json(body, with_title=False))


class TransferService:
    def __init__(self, images: ImageService) -> None:
        self.images = images

    def export(self, principal: Principal, scope: Scope, key: str) -> dict[str, Any]:
        image = self.images.info(principal, scope, key)
        return export_data(image, self.images.keeper.read(image.etag))

    def import_image(self, principal: Principal, request: ImportRequest) -> ImageInfo:
        principal.require(Action.MANAGE_IMAGES)
        images = self.images
        limits = images.limits(principal.tenant_id)
        prepared = images.prepare(request.data, limits)
        key = request.resource_key
        existing = images.catalog.get_image(principal.tenant_id, key) if key else None
        public_key = self._usable_public_key(request.public_key, existing, principal.tenant_id)
        if existing is not None:
            updated = replace(
                request.texts.applied(existing),
                title=request.title,
                file_name=request.file_name,
                sub_type=request.sub_type,
                public=request.public,
                public_key=public_key,
                **prepared.fields,
            ).revised()
            return images.commit_revision(existing, updated, prepared, limits)
        draft = images.draft(
            principal.tenant_id,
            request.title,
            request.file_name,
            request.sub_type,
            request.public,
            public_key,
            prepared,
        )
        keys = [key] if key else candidate_keys(request.file_name)
        return images.commit_new(request.texts.applied(draft), prepared, keys, limits)

    def _usable_public_key(self, wanted: str | None, existing: ImageInfo | None, tenant_id: str) -> str:
        """The requested public key when it is this tenant's to use: never held by another tenant (a public link
        stays its tenant's after its image is gone, so an export cannot take over someone's embedded link), held
        by no other image, and as long as the keys we make (a short one is a guessable link). Otherwise the
        overwritten image keeps its own, or a new one is made."""
        catalog = self.images.catalog
        if wanted and len(wanted) >= PUBLIC_KEY_LENGTH and catalog.public_key_owner(wanted) in (None, tenant_id):
            holder = catalog.find_public_image(wanted)
            if holder is None or (existing is not None and holder.id == existing.id):
                return wanted
        return existing.public_key if existing is not None else new_public_key()


def _decode_base64(value: Any) -> bytes:
    if not isinstance(value, str) or not value:
        raise errors.BadRequest("Resource data should be specified")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise errors.BadRequest("'data' is not valid base64") from None
