"""The in-memory ETag cache: answers `If-None-Match` without a catalog read.

Entries expire a fixed time after they were stored — not after their last use: a process that keeps being asked
must still learn, within the TTL, of a change another process made (two `gallery serve`s on one data folder, Lambda
containers). The cache holds at most a byte budget (an estimate per entry), dropping the least recently used first.
A budget of 0 turns it off; revalidation still works, from the catalog. The image service evicts this process's
entries whenever bytes, the public flag or the image itself change; the keys are made here only, so what is put
and what is evicted cannot drift apart.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from gallery.domain.model import ImageInfo


@dataclass(frozen=True)
class CachedTag:
    etag: str
    system: bool  # decides the browser TTL without reading the row


CacheKey = tuple[Hashable, ...]


def image_key(tenant_id: str, resource_key: str, preview: bool) -> CacheKey:
    """An authenticated link's tag: the image's bytes, or its preview's."""
    return ("image", tenant_id, resource_key, preview)


def public_key(key: str) -> CacheKey:
    """A public link's tag (always the original's bytes)."""
    return ("public", key)


def keys_of(image: ImageInfo) -> tuple[CacheKey, ...]:
    """Every entry that may hold a tag of this image."""
    return (
        image_key(image.tenant_id, image.resource_key, False),
        image_key(image.tenant_id, image.resource_key, True),
        public_key(image.public_key),
    )


_ENTRY_OVERHEAD = 200  # dict slot, tuple, dataclass and timestamps, measured roughly with sys.getsizeof


def _entry_size(key: CacheKey, tag: CachedTag) -> int:
    return _ENTRY_OVERHEAD + sum(sys.getsizeof(part) for part in key) + sys.getsizeof(tag.etag)


class EtagCache:
    def __init__(self, ttl_seconds: float, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[CacheKey, tuple[CachedTag, float, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._max_bytes > 0 and self._ttl > 0

    def get(self, key: CacheKey) -> CachedTag | None:
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            tag, stored_at, _ = entry
            if now - stored_at > self._ttl:
                self._drop(key)
                return None
            self._entries.move_to_end(key)  # recently used, for the byte budget; its age is unchanged
            return tag

    def put(self, key: CacheKey, tag: CachedTag) -> None:
        if not self.enabled:
            return
        size = _entry_size(key, tag)
        with self._lock:
            self._drop(key)
            self._entries[key] = (tag, self._clock(), size)
            self._bytes += size
            while self._bytes > self._max_bytes and self._entries:
                self._drop(next(iter(self._entries)))

    def evict(self, *keys: CacheKey) -> None:
        with self._lock:
            for key in keys:
                self._drop(key)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self._bytes -= entry[2]

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes
