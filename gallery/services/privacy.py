"""What anyone who has not signed in may read of an image: the public links, the static site and the published
bucket give the original without its camera, place and people data (`imaging.metadata`), unless the tenant's
profile says to give the original as uploaded. The signed-in download and the export keep the original bytes, as
ThingsBoard's do.

The copy is made once, at upload, and kept beside the original (`ImageInfo.public_original`). An image stored
before copies were kept has none: its copy is made when it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass

from gallery.domain.model import SYSTEM_TENANT_ID, Descriptor, ImageInfo
from gallery.imaging import etag_of, metadata
from gallery.storage.protocols import AccountCatalog, BlobStore, read_blob


def publishes_metadata(accounts: AccountCatalog, tenant_id: str) -> bool:
    """Whether the tenant's profile gives visitors the bytes as uploaded (the system's images: never)."""
    tenant = accounts.get_tenant(tenant_id) if tenant_id != SYSTEM_TENANT_ID else None
    profile = accounts.get_profile(tenant.profile_id) if tenant else None
    return bool(profile and profile.public_metadata)


@dataclass(frozen=True)
class Served:
    """The bytes a download sends: kept in the blob store under `descriptor.etag`, or made just now (`data`)."""

    descriptor: Descriptor
    data: bytes | None = None


def public_bytes(image: ImageInfo, accounts: AccountCatalog, blobs: BlobStore) -> Served:
    """The profile is read only for an image whose original carries something to take out."""
    copy = image.public_original
    if copy is not None and copy.etag == image.original.etag:
        return Served(image.original)
    if publishes_metadata(accounts, image.tenant_id):
        return Served(image.original)
    if copy is not None:
        return Served(copy)
    data = read_blob(blobs, image.original.etag)
    made = metadata.public_copy(data, image.original.media_type)
    if made is None:
        return Served(image.original)
    return Served(
        Descriptor(image.original.media_type, image.original.width, image.original.height, len(made), etag_of(made)),
        made,
    )
