"""SQLite rows to domain objects and back, for every table of the catalog: one place knows each column, and a
store that reads another concept's rows (a tenant's delete returns its images) converts them the same way."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from gallery.domain.model import Authority, Dashboard, Descriptor, ImageInfo, SubType, Tenant, TenantProfile, User

IMAGE_COLUMNS = [
    "id",
    "tenant_id",
    "resource_key",
    "title",
    "file_name",
    "sub_type",
    "public",
    "public_key",
    "media_type",
    "width",
    "height",
    "size",
    "etag",
    "preview_media_type",
    "preview_width",
    "preview_height",
    "preview_size",
    "preview_etag",
    "created_time",
    "updated_time",
    "version",
    "has_alpha",
    "title_fold",
    "alt_text",
    "description",
    "tags",
    "search_fold",
    "public_size",
    "public_etag",
]


def image_from_row(row: sqlite3.Row) -> ImageInfo:
    return ImageInfo(
        id=row["id"],
        tenant_id=row["tenant_id"],
        resource_key=row["resource_key"],
        title=row["title"],
        file_name=row["file_name"],
        sub_type=SubType(row["sub_type"]),
        public=bool(row["public"]),
        public_key=row["public_key"],
        original=Descriptor(row["media_type"], row["width"], row["height"], row["size"], row["etag"]),
        preview=Descriptor(
            row["preview_media_type"],
            row["preview_width"],
            row["preview_height"],
            row["preview_size"],
            row["preview_etag"],
        ),
        created_time=row["created_time"],
        updated_time=row["updated_time"],
        version=row["version"],
        has_alpha=None if row["has_alpha"] is None else bool(row["has_alpha"]),
        alt_text=row["alt_text"],
        description=row["description"],
        tags=() if row["tags"] == "[]" else tuple(json.loads(row["tags"])),  # most carry none: no parse for them
        public_original=None
        if row["public_etag"] is None
        else Descriptor(row["media_type"], row["width"], row["height"], row["public_size"], row["public_etag"]),
    )


def image_params(image: ImageInfo) -> dict[str, Any]:
    return {
        "title_fold": image.title.casefold(),  # the order and the search by title read this, indexed
        "id": image.id,
        "tenant_id": image.tenant_id,
        "resource_key": image.resource_key,
        "title": image.title,
        "file_name": image.file_name,
        "sub_type": image.sub_type.value,
        "public": int(image.public),
        "public_key": image.public_key,
        "media_type": image.original.media_type,
        "width": image.original.width,
        "height": image.original.height,
        "size": image.original.size,
        "etag": image.original.etag,
        "preview_media_type": image.preview.media_type,
        "preview_width": image.preview.width,
        "preview_height": image.preview.height,
        "preview_size": image.preview.size,
        "preview_etag": image.preview.etag,
        "created_time": image.created_time,
        "updated_time": image.updated_time,
        "version": image.version,
        "has_alpha": None if image.has_alpha is None else int(image.has_alpha),
        "alt_text": image.alt_text,
        "description": image.description,
        "tags": json.dumps(list(image.tags)),
        "search_fold": image.search_text,
        "public_size": image.public_original.size if image.public_original else None,
        "public_etag": image.public_original.etag if image.public_original else None,
    }


def dashboard_from_row(row: sqlite3.Row) -> Dashboard:
    return Dashboard(
        id=row["id"],
        tenant_id=row["tenant_id"],
        title=row["title"],
        image=row["image"],
        configuration=json.loads(row["configuration"]),
        created_time=row["created_time"],
    )


def profile_from_row(row: sqlite3.Row) -> TenantProfile:
    return TenantProfile(
        id=row["id"],
        name=row["name"],
        max_resource_size=row["max_resource_size"],
        max_resources_in_bytes=row["max_resources_in_bytes"],
        is_default=bool(row["is_default"]),
        created_time=row["created_time"],
        public_metadata=bool(row["public_metadata"]),
    )


def tenant_from_row(row: sqlite3.Row) -> Tenant:
    return Tenant(id=row["id"], name=row["name"], profile_id=row["profile_id"], created_time=row["created_time"])


def user_from_row(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        authority=Authority(row["authority"]),
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        password_hash=row["password_hash"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        created_time=row["created_time"],
        token_generation=row["token_generation"],
        enabled=bool(row["enabled"]),
    )
