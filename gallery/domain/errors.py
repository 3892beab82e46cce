"""One exception hierarchy for the whole product.

Every error a client can cause is a `GalleryError` carrying its HTTP status and ThingsBoard error code. The API
renders all of them through one handler (`gallery.web.errors`), and the CLI prints `message` and exits non-zero.
Storage adapters translate their library's exceptions into these at the edge, so nothing above them sees
`sqlite3` or `botocore`.
"""

from __future__ import annotations

import time
from typing import Any, ClassVar


class GalleryError(Exception):
    status: ClassVar[int] = 500
    error_code: ClassVar[int] = 2
    default_message: ClassVar[str] = "Internal server error"

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "errorCode": self.error_code,
            "timestamp": int(time.time() * 1000),
        }


class BadRequest(GalleryError):
    status = 400
    error_code = 31
    default_message = "Bad request"


class InvalidImage(BadRequest):
    default_message = "The file is not a supported image"


class LimitExceeded(BadRequest):
    """A tenant-profile limit; ThingsBoard answers these with 400 and errorCode 31."""


class AuthenticationFailed(GalleryError):
    status = 401
    error_code = 10
    default_message = "Authentication failed"


class TokenExpired(AuthenticationFailed):
    error_code = 11
    default_message = "Token has expired"


class PermissionDenied(GalleryError):
    status = 403
    error_code = 20
    default_message = "You don't have permission to perform this operation!"


class NotFound(GalleryError):
    status = 404
    error_code = 32
    default_message = "Requested item wasn't found!"


class MethodNotAllowed(GalleryError):
    status = 405
    error_code = 31
    default_message = "Request method is not supported"


class Conflict(GalleryError):
    status = 409
    error_code = 35
    default_message = "The item was changed by someone else; reload it and try again"


class AlreadyExists(Conflict):
    default_message = "Item with such key already exists!"


class KeyTaken(AlreadyExists):
    default_message = "Resource with such key already exists!"


class PayloadTooLarge(GalleryError):
    status = 413
    error_code = 31
    default_message = "Payload is too large"


class TooManyRequests(GalleryError):
    """Refused for now; `retry_after` seconds from now it may work (sent as Retry-After)."""

    status = 429
    error_code = 33
    default_message = "Too many requests; try again later"

    def __init__(self, message: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class InsufficientStorage(GalleryError):
    status = 507
    error_code = 2
    default_message = "The gallery's storage is full; nothing was saved"


class Unavailable(GalleryError):
    status = 503
    error_code = 2
    default_message = "Storage is temporarily unavailable; try again"


class ConfigError(GalleryError):
    """A setting is missing or malformed; raised at start-up, never per request."""


_UNITS = (
    ("EB", 1 << 60),
    ("PB", 1 << 50),
    ("TB", 1 << 40),
    ("GB", 1 << 30),
    ("MB", 1 << 20),
    ("KB", 1 << 10),
)


def display_size(size: int) -> str:
    """Bytes as ThingsBoard words them (Apache `byteCountToDisplaySize`: whole units, rounded down)."""
    for unit, factor in _UNITS:
        if size >= factor:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def resource_too_big(limit: int) -> LimitExceeded:
    return LimitExceeded(f"Resource exceeds the maximum size of {display_size(limit)}")


def resources_total_too_big(limit: int) -> LimitExceeded:
    return LimitExceeded(f"Resources total size exceeds the maximum of {display_size(limit)}")
