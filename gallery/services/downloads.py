"""Downloads, in the order HTTP needs them: first the tag (enough to answer 304), then — only if the client's copy
is stale — the content. A tag from the ETag cache costs no catalog read; a tag read from the catalog brings the
row along, so the content that follows does not read it again.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO

from gallery.domain import errors
from gallery.domain.access import Action, Principal
from gallery.domain.model import Descriptor, ImageInfo, Scope
from gallery.services import etags
from gallery.services.etags import CachedTag, CacheKey, EtagCache
from gallery.services.privacy import Served, public_bytes
from gallery.storage.protocols import AccountCatalog, BlobStore, ImageCatalog

# Long enough for a slow client to start the transfer, short enough that a leaked URL soon stops working.
DOWNLOAD_URL_TTL = 300


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
class Download:
    etag: str
    system: bool  # decides the browser TTL
    _content: Callable[[], Content]

    def content(self) -> Content:
        return self._content()


class DownloadService:
    def __init__(self, catalog: ImageCatalog, accounts: AccountCatalog, blobs: BlobStore, cache: EtagCache) -> None:
        self.catalog = catalog
        self.accounts = accounts
        self.blobs = blobs
        self.cache = cache

    def image(self, principal: Principal, scope: Scope, key: str, preview: bool) -> Download:
        """The signed-in download: the bytes as uploaded (or the preview)."""
        principal.require(Action.VIEW_IMAGES)
        tenant_id = principal.tenant_for(scope)

        def stored(image: ImageInfo) -> Served:
            return Served(image.preview if preview else image.original)

        return self._download(etags.image_key(tenant_id, key, preview), lambda: self._image(tenant_id, key), stored)

    def public(self, public_key: str) -> Download:
        """The public link: the original without its camera, place and people data (`services.privacy`)."""
        return self._download(
            etags.public_key(public_key),
            lambda: self._public_image(public_key),
            lambda image: public_bytes(image, self.accounts, self.blobs),
        )

    def _download(
        self, cache_key: CacheKey, find: Callable[[], ImageInfo], choose: Callable[[ImageInfo], Served]
    ) -> Download:
        tag = self.cache.get(cache_key)
        if tag is not None:
            return Download(tag.etag, tag.system, lambda: self._content(find(), choose))
        image = find()
        chosen = choose(image)
        self.cache.put(cache_key, CachedTag(chosen.descriptor.etag, image.is_system))
        return Download(chosen.descriptor.etag, image.is_system, lambda: self._content(image, lambda _: chosen))

    def _image(self, tenant_id: str, key: str) -> ImageInfo:
        image = self.catalog.get_image(tenant_id, key)
        if image is None:
            raise errors.NotFound()
        return image

    def _public_image(self, public_key: str) -> ImageInfo:
        image = self.catalog.find_public_image(public_key)
        if image is None or not image.public:
            raise errors.NotFound()
        return image

    def _content(self, image: ImageInfo, choose: Callable[[ImageInfo], Served]) -> Content:
        chosen = choose(image)
        descriptor, made = chosen.descriptor, chosen.data
        if made is not None:  # made just now: served from memory, never from a link to the store
            return Content(descriptor, image.file_name, image.is_system, lambda: io.BytesIO(made), lambda _: None)
        return Content(
            descriptor,
            image.file_name,
            image.is_system,
            lambda: self.blobs.open(descriptor.etag),
            lambda headers: self.blobs.download_url(descriptor.etag, headers, DOWNLOAD_URL_TTL),
        )
