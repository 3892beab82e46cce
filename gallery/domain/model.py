"""The domain's plain data, and its JSON shapes (ThingsBoard's `TbResourceInfo`, `ImageDescriptor`, `PageData`)."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from gallery.domain.errors import BadRequest

SYSTEM_TENANT_ID = "13814000-1dd2-11b2-8080-808080808080"
NULL_UUID = SYSTEM_TENANT_ID  # ThingsBoard's NULL UUID doubles as the system tenant and "no customer".


class Authority(enum.StrEnum):
    SYS_ADMIN = "SYS_ADMIN"
    TENANT_ADMIN = "TENANT_ADMIN"
    CUSTOMER_USER = "CUSTOMER_USER"


class SubType(enum.StrEnum):
    IMAGE = "IMAGE"
    SCADA_SYMBOL = "SCADA_SYMBOL"


class Scope(enum.StrEnum):
    """The `{type}` segment of an image URL."""

    TENANT = "tenant"
    SYSTEM = "system"


def entity_id(entity_type: str, value: str) -> dict[str, str]:
    return {"entityType": entity_type, "id": value}


@dataclass(frozen=True)
class Descriptor:
    """What the bytes are. `etag` is the lowercase hex SHA-256 of the bytes and doubles as their blob address."""

    media_type: str
    width: int
    height: int
    size: int
    etag: str

    def to_json(self) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "width": self.width,
            "height": self.height,
            "size": self.size,
            "etag": self.etag,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Descriptor:
        return cls(data["mediaType"], int(data["width"]), int(data["height"]), int(data["size"]), data["etag"])


@dataclass(frozen=True)
class ImageInfo:
    id: str
    tenant_id: str
    resource_key: str
    title: str
    file_name: str
    sub_type: SubType
    public: bool
    public_key: str
    original: Descriptor
    preview: Descriptor
    created_time: int
    updated_time: int
    version: int = 1
    # See-through pixels (an alpha channel or a transparent colour), found when the bytes were inspected; None for
    # an image stored before it was recorded. Not part of ThingsBoard's JSON: the static build reads it.
    has_alpha: bool | None = None
    # Ours, additive to ThingsBoard's JSON (`altText`, `description`, `tags`): what a screen reader says for the
    # picture, a longer text for its page, and short labels to find it by (`domain/validation.py` has the limits).
    alt_text: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    # What anyone without a sign-in gets: the original with its camera, place and people data taken out
    # (`imaging.metadata`), or the original itself when it carries none. None for an image stored before this was
    # kept: its public copy is then made when it is asked for. Not part of ThingsBoard's JSON.
    public_original: Descriptor | None = None

    @property
    def is_system(self) -> bool:
        return self.tenant_id == SYSTEM_TENANT_ID

    @property
    def scope(self) -> Scope:
        return Scope.SYSTEM if self.is_system else Scope.TENANT

    @property
    def etag(self) -> str:
        return self.original.etag

    @property
    def size(self) -> int:
        return self.original.size

    @property
    def link(self) -> str:
        return image_link(self.scope, self.resource_key)

    @property
    def public_link(self) -> str | None:
        return f"/api/images/public/{self.public_key}" if self.public else None

    @property
    def blob_refs(self) -> frozenset[str]:
        extra = {self.public_original.etag} if self.public_original else set()
        return frozenset({self.original.etag, self.preview.etag, *extra})

    @property
    def alt(self) -> str:
        """What an `<img alt>` says: the alt text, or the title while it has none."""
        return self.alt_text or self.title

    @property
    def search_text(self) -> str:
        """Everything `textSearch` matches, case-folded: title, alt text, description and tags, joined by a control
        character the other fields may not hold (a needle does not match across two of them)."""
        return FIELD_SEPARATOR.join([self.title, self.alt_text, self.description, *self.tags]).casefold()

    def revised(self) -> ImageInfo:
        """The next revision of this row (changed with `dataclasses.replace`): stamped now, one version on — what
        the catalog's update is checked against."""
        return replace(self, updated_time=now_ms(), version=self.version + 1)

    def to_json(self) -> dict[str, Any]:
        descriptor = self.original.to_json()
        descriptor["previewDescriptor"] = self.preview.to_json()
        return {
            "id": entity_id("TB_RESOURCE", self.id),
            "createdTime": self.created_time,
            "tenantId": entity_id("TENANT", self.tenant_id),
            "title": self.title,
            "resourceType": "IMAGE",
            "resourceSubType": self.sub_type.value,
            "resourceKey": self.resource_key,
            "public": self.public,
            "publicResourceKey": self.public_key,
            "etag": self.etag,
            "fileName": self.file_name,
            "descriptor": descriptor,
            "externalId": None,
            "name": self.title,
            "link": self.link,
            "publicLink": self.public_link,
            "altText": self.alt_text,
            "description": self.description,
            "tags": list(self.tags),
        }


def path_segment(text: str) -> str:
    """`text` as one URL path segment: every byte of its UTF-8 but RFC 3986's unreserved characters
    (`A-Z a-z 0-9 - . _ ~`) percent-encoded, as ThingsBoard's Python client encodes keys. A key then cannot end
    a path (`?`, `#`), an attribute (`"`, `'`) or a tag (`<`, `>`) wherever a link to it is pasted. The management
    page's `pathSegment` (assets/manage/format.js) is this rule again, and a test feeds both the same keys."""
    return quote(text, safe="")


def images_path(scope: Scope) -> str:
    """Where a scope's images are: an image's link is this and its key, encoded."""
    return f"/api/images/{scope.value}/"


def image_link(scope: Scope, key: str) -> str:
    return images_path(scope) + path_segment(key)


# Joins an image's texts for search.
FIELD_SEPARATOR = "\x1f"


# ThingsBoard keeps byte counts in Java longs, and SQLite in 64-bit integers: no count of bytes goes beyond.
MAX_BYTES = 2**63 - 1


@dataclass(frozen=True)
class FileLimits:
    """A tenant's limits on one image's size and on all its images' bytes; 0 is unlimited (the system tenant's)."""

    max_resource_size: int = 0
    max_resources_in_bytes: int = 0

    def __post_init__(self) -> None:
        for limit in (self.max_resource_size, self.max_resources_in_bytes):
            if not 0 <= limit <= MAX_BYTES:
                raise BadRequest(f"Limits must be 0 (unlimited) or a number of bytes up to {MAX_BYTES:,}")


UNLIMITED = FileLimits()


@dataclass(frozen=True)
class TenantProfile:
    id: str
    name: str
    max_resource_size: int = 0
    max_resources_in_bytes: int = 0
    is_default: bool = False
    created_time: int = 0
    # Whether the public links and the static site give the original bytes as uploaded, camera and place data and
    # all, rather than the copy without them (the default, off). Ours: `publicImageMetadata` in the configuration.
    public_metadata: bool = False

    @property
    def limits(self) -> FileLimits:
        return FileLimits(self.max_resource_size, self.max_resources_in_bytes)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": entity_id("TENANT_PROFILE", self.id),
            "createdTime": self.created_time,
            "name": self.name,
            "default": self.is_default,
            "profileData": {
                "configuration": {
                    "type": "DEFAULT",
                    "maxResourceSize": self.max_resource_size,
                    "maxResourcesInBytes": self.max_resources_in_bytes,
                    "publicImageMetadata": self.public_metadata,
                }
            },
        }


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    profile_id: str
    created_time: int = 0

    def to_json(self, usage_bytes: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": entity_id("TENANT", self.id),
            "createdTime": self.created_time,
            "title": self.name,
            "name": self.name,
            "tenantProfileId": entity_id("TENANT_PROFILE", self.profile_id),
        }
        if usage_bytes is not None:
            body["resourcesInBytes"] = usage_bytes
        return body


@dataclass(frozen=True)
class User:
    id: str
    email: str
    authority: Authority
    tenant_id: str
    password_hash: str = field(repr=False, default="")
    first_name: str = ""
    last_name: str = ""
    customer_id: str = NULL_UUID
    created_time: int = 0
    # Every token carries the generation it was issued under; bumping it (password change or reset, disabling,
    # sign-out) ends every session at once.
    token_generation: int = 0
    enabled: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "id": entity_id("USER", self.id),
            "createdTime": self.created_time,
            "tenantId": entity_id("TENANT", self.tenant_id),
            "customerId": entity_id("CUSTOMER", self.customer_id),
            "email": self.email,
            "name": self.email,
            "authority": self.authority.value,
            "firstName": self.first_name or None,
            "lastName": self.last_name or None,
            "additionalInfo": {"userCredentialsEnabled": self.enabled},
        }


TB_IMAGE_PREFIX = "tb-image;"


@dataclass(frozen=True)
class Dashboard:
    """A ThingsBoard-style dashboard: here it exists so images can be referenced (`tb-image;<link>`) and protected."""

    id: str
    tenant_id: str
    title: str
    image: str | None
    configuration: dict[str, Any]
    created_time: int = 0

    def info_json(self) -> dict[str, Any]:
        return {
            "id": entity_id("DASHBOARD", self.id),
            "createdTime": self.created_time,
            "tenantId": entity_id("TENANT", self.tenant_id),
            "title": self.title,
            "name": self.title,
            "image": self.image,
        }

    def to_json(self) -> dict[str, Any]:
        return {**self.info_json(), "configuration": self.configuration}


# Sort properties a list call may name, mapped by each backend to its own columns.
SORT_PROPERTIES = frozenset(
    {
        "createdTime",
        "title",
        "name",
        "resourceKey",
        "fileName",
        "resourceType",
        "resourceSubType",
        "tenantId",
        "size",
    }
)


def now_ms() -> int:
    """ThingsBoard's timestamps: milliseconds since the epoch."""
    return int(time.time() * 1000)


class SortOrder(enum.StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True)
class PageQuery:
    page_size: int
    page: int
    text_search: str = ""
    sort_property: str | None = None
    sort_order: SortOrder = SortOrder.ASC

    @property
    def offset(self) -> int:
        return self.page * self.page_size


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    data: Sequence[T]
    total_elements: int
    query: PageQuery

    @property
    def total_pages(self) -> int:
        return -(-self.total_elements // self.query.page_size)

    @property
    def has_next(self) -> bool:
        return self.total_elements > self.query.offset + len(self.data)

    def to_json(self, item: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        return {
            "data": [item(x) for x in self.data],
            "totalPages": self.total_pages,
            "totalElements": self.total_elements,
            "hasNext": self.has_next,
        }


@dataclass(frozen=True)
class ImageQuery:
    """Which images a list call may see; the service builds it from the caller and the request."""

    tenant_id: str
    sub_type: SubType = SubType.IMAGE
    include_system: bool = False
    tags: tuple[str, ...] = ()  # images carrying every one of these (validated, folded, without repeats)


@dataclass(frozen=True)
class ImageChanges:
    """What changed in the catalog since a reader's cursor (`ImageCatalog.changes_since`): the rows of the images
    changed or added as they are now, and the ids of those removed; `cursor` is where the next read starts."""

    cursor: int
    changed: tuple[ImageInfo, ...]
    removed: frozenset[str]
