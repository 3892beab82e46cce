"""The storage contract: catalogs of images, accounts and dashboards, an auth store, an upload ledger, blob stores
(bytes by SHA-256) and a staging area, bundled as `Storage`. Services see these protocols only; `open_storage`
(`gallery.storage`) picks the backend.

Both backends implement these protocols and one contract-test suite (`tests/test_storage_contract.py`) runs on each.
Every method raises only `gallery.domain.errors` exceptions. The rules (who may do what, keys, limits) live in the
services; the catalog only guarantees the atomicity the rules need: an image row and its tenant's usage change
together, a usage ceiling is checked inside the same write, and updates apply only to the version they were based on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, BinaryIO, Protocol

from gallery.domain.model import (
    Dashboard,
    ImageChanges,
    ImageInfo,
    ImageQuery,
    Page,
    PageQuery,
    SubType,
    Tenant,
    TenantProfile,
    User,
)


class ImageCatalog(Protocol):
    """Image rows, the tenant usage they add up to, public keys and blob reference counts."""

    def get_image(self, tenant_id: str, key: str) -> ImageInfo | None: ...

    def public_key_owner(self, public_key: str) -> str | None:
        """The tenant that holds or once held this public key (it is theirs for good), or None if nobody did.
        Writes enforce it too: an image of another tenant with this key raises `AlreadyExists`."""
        ...

    def find_public_image(self, public_key: str) -> ImageInfo | None:
        """The image with this public key, whether or not it is public now (the caller decides)."""
        ...

    def insert_image(self, image: ImageInfo, max_total: int) -> None:
        """Add the row and its size to the tenant's usage in one write.

        Raises `KeyTaken` if the tenant has the key, `AlreadyExists` if the public key is taken anywhere, and
        `LimitExceeded` (via `errors.resources_total_too_big`) if `max_total` > 0 and usage would exceed it.
        """
        ...

    def update_image(self, image: ImageInfo, expected_version: int, max_total: int) -> None:
        """Replace the row (same tenant and key) if its version is `expected_version`; usage moves by the size delta.

        Raises `NotFound`, `Conflict` (version moved on), `AlreadyExists` (public key taken by another image) or
        `LimitExceeded` when the delta is positive and would take usage past `max_total` (> 0).
        """
        ...

    def learn_has_alpha(self, image: ImageInfo, has_alpha: bool) -> bool:
        """Record whether `image` is see-through, when its row does not say yet and is still this very image (same
        id, same version). Nothing else moves: no version, usage, key or count. False when the row changed, went,
        or knew already."""
        ...

    def delete_image(self, tenant_id: str, key: str) -> ImageInfo | None:
        """Remove the row and release its size; returns what was removed, or None if nothing was there."""
        ...

    def list_images(self, scope: ImageQuery, page: PageQuery) -> Page[ImageInfo]:
        """A page of the images `scope` sees (with its `tags` all carried), matching `page.text_search` in any of
        their texts (`ImageInfo.search_text`), in the page's order; ties go by id the same way."""
        ...

    def tag_counts(self, tenant_id: str, sub_type: SubType) -> dict[str, int]:
        """Every tag one tenant's (or the system's) images of `sub_type` carry, with how many carry it: kept as
        the images are written, not counted when asked."""
        ...

    def every_image(self, tenant_id: str, sub_type: SubType) -> Iterator[ImageInfo]:
        """Every image of one tenant (or the system) and sub type, oldest first, read in one pass however many
        there are: no page numbers, no counting (the static build, the export)."""
        ...

    def blob_in_use(self, etag: str) -> bool:
        """Whether any image row refers to these bytes (as original or preview)."""
        ...

    def usage(self, tenant_id: str) -> int: ...

    def change_count(self) -> int | None:
        """A number that moves whenever an image is added, changed (but for what rendering learns) or removed, by
        any process: cheap enough to poll. None where the backend has no such number (DynamoDB: its stream says
        what changed instead)."""
        ...

    def change_cursor(self) -> int | None:
        """Where the change log ends now: read before reading the catalog, it is where `changes_since` takes up.
        None where the backend keeps no log (DynamoDB)."""
        ...

    def changes_since(self, cursor: int) -> ImageChanges | None:
        """Every image changed, added or removed (by any process) after `cursor`, but for what rendering learns.
        None when the log no longer reaches back that far (or there is none): the reader reads everything again."""
        ...


class DashboardCatalog(Protocol):
    """Dashboards, and which of them refer to an image (so an image in use is not deleted by mistake)."""

    def save_dashboard(self, dashboard: Dashboard) -> None:
        """Insert or replace by id within the dashboard's tenant."""
        ...

    def get_dashboard(self, tenant_id: str, dashboard_id: str) -> Dashboard | None: ...

    def list_dashboards(self, tenant_id: str, page: PageQuery) -> Page[Dashboard]: ...

    def delete_dashboard(self, tenant_id: str, dashboard_id: str) -> bool: ...

    def dashboards_referring(self, reference: str, tenant_id: str | None, limit: int) -> list[Dashboard]:
        """Dashboards whose `image` is `reference` or whose configuration holds it as a JSON string (quoted),
        compared case-insensitively, in one tenant or (None) in all; at most `limit`."""
        ...


class AccountCatalog(Protocol):
    """Tenant profiles, tenants and users."""

    def insert_profile(self, profile: TenantProfile) -> None: ...

    def update_profile(self, profile: TenantProfile) -> None: ...

    def get_profile(self, profile_id: str) -> TenantProfile | None: ...

    def default_profile(self) -> TenantProfile | None: ...

    def list_profiles(self, page: PageQuery) -> Page[TenantProfile]: ...

    def delete_profile(self, profile_id: str) -> bool:
        """False if it did not exist. Raises `Conflict` if a tenant still uses it."""
        ...

    def insert_tenant(self, tenant: Tenant) -> None: ...

    def update_tenant(self, tenant: Tenant) -> None: ...

    def get_tenant(self, tenant_id: str) -> Tenant | None: ...

    def find_tenant(self, name: str) -> Tenant | None: ...

    def list_tenants(self, page: PageQuery) -> Page[Tenant]: ...

    def delete_tenant(self, tenant_id: str) -> list[ImageInfo]:
        """Remove the tenant with its images, dashboards and users; returns the removed images (whose bytes the
        caller releases). Not one write on every backend: the local one is a single transaction; on DynamoDB each
        image, dashboard and user goes in a transaction of its own and the tenant last, so an interrupted delete
        leaves a tenant with less in it, never orphans, and running it again finishes it."""
        ...

    def insert_user(self, user: User) -> None:
        """Raises `AlreadyExists` when the e-mail (case-insensitive) is taken."""
        ...

    def change_user(
        self, user_id: str, *, password_hash: str | None = None, enabled: bool | None = None
    ) -> User | None:
        """Set what is given and bump the user's token generation, in one atomic write (so concurrent changes never
        undo each other); returns the user as changed, or None if there is none."""
        ...

    def get_user(self, user_id: str) -> User | None: ...

    def find_user(self, email: str) -> User | None: ...

    def list_users(self, tenant_id: str | None, page: PageQuery) -> Page[User]: ...

    def delete_user(self, user_id: str) -> bool: ...

    def has_users(self) -> bool: ...


class Catalog(ImageCatalog, DashboardCatalog, AccountCatalog, Protocol):
    """The three catalogs in one store, as both backends keep them (one database, one table)."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class Failures:
    """Failed sign-ins counted under one key (an account, a client address)."""

    count: int
    last: float  # epoch seconds of the latest
    previous: float | None = None  # of the one before it (None: the latest is the first)


class AuthStore(Protocol):
    """What signing in keeps besides users: sessions, whose refresh token is usable once, and failed sign-ins."""

    def start_session(self, session_id: str, user_id: str, jti: str, expires_at: int) -> None: ...

    def rotate_session(self, session_id: str, spent_jti: str, new_jti: str, expires_at: int) -> bool:
        """Give the session a new refresh token if `spent_jti` is its current one, atomically (of two refreshes with
        one token, one wins). False when it is not: the token was spent before, or the session has ended."""
        ...

    def end_session(self, session_id: str) -> None: ...

    def failures(self, key: str) -> Failures | None: ...

    def add_failure(self, key: str, now: float, forget_after: float) -> Failures:
        """Count one more, atomically: of many at once, each gets a count of its own. The count starts again when
        the last one is older than `forget_after` s. Returns the count with this one, and when the one before was."""
        ...

    def forgive_failure(self, key: str) -> None:
        """Take one back (an attempt counted ahead that then succeeded); never below zero."""
        ...

    def clear_failures(self, key: str) -> None: ...

    def close(self) -> None: ...


class UploadLedger(Protocol):
    """The large uploads a tenant has open: how many (they are bounded) and which were finished (once each)."""

    def open_upload(self, tenant_id: str, upload: str, expires_at: int, most: int, now: int) -> bool:
        """Record a new upload unless the tenant already has `most` open ones (unfinished and unexpired)."""
        ...

    def is_open(self, tenant_id: str, upload: str, now: int) -> bool: ...

    def claim_upload(self, tenant_id: str, upload: str, now: int) -> bool:
        """Mark it finished if it is open, atomically: of two finishes of one upload, one is True."""
        ...

    def close(self) -> None: ...


class BlobStore(Protocol):
    def put(self, etag: str, data: bytes) -> None:
        """Store `data` at its SHA-256 address; a no-op when it is already there."""
        ...

    def open(self, etag: str) -> BinaryIO:
        """A readable stream of the bytes. Raises `NotFound`."""
        ...

    def exists(self, etag: str) -> bool: ...

    def delete(self, etag: str) -> None:
        """Remove the bytes; a no-op when absent."""
        ...

    def etags(self) -> Iterator[str]:
        """Every stored address (for garbage collection)."""
        ...

    def remove_leftovers(self, before: float) -> int:
        """Remove half-written files a crash left (begun before `before`, epoch seconds); returns how many."""
        ...

    def download_url(self, etag: str, headers: Mapping[str, str], expires_in: int) -> str | None:
        """A short-lived URL that serves the bytes with these response headers, or None if the store cannot
        hand out one (then the app streams the bytes itself)."""
        ...

    def link(self, etag: str, target: Path) -> bool:
        """Give the stored bytes a second name at `target` (the static site's copy of an original): a hard link,
        where the store is a folder on the same file system. False where it cannot (S3, another file system): the
        caller writes the bytes. Raises `NotFound`."""
        ...


class SiteBucket(Protocol):
    """Where a built static site is published (an S3 bucket behind a CDN). Keys are site paths ("index.html",
    "r/<name>"): the bucket adds its own prefix. What a publish compares, uploads and invalidates."""

    def objects(self) -> dict[str, str]:
        """Every object of the site with the MD5 of its bytes, the manifest aside."""
        ...

    def read_manifest(self) -> dict[str, str]:
        """What the last publish recorded of each object's headers (empty when it recorded nothing)."""
        ...

    def write_manifest(self, manifest: Mapping[str, str]) -> None: ...

    def put(self, key: str, path: Path, md5: str, headers: Mapping[str, str]) -> None:
        """Upload the file with these HTTP headers (those the store keeps: type, caching, disposition)."""
        ...

    def restamp(self, key: str, headers: Mapping[str, str]) -> None:
        """Give an object already there new headers, its bytes unchanged."""
        ...

    def delete(self, keys: list[str]) -> None: ...

    def invalidate(self, paths: list[str]) -> None:
        """Drop these site paths ("*": all of them) from the CDN's caches, if there is one."""
        ...


class Staging(Protocol):
    """Where a large upload lands, straight from the client, before it is inspected and committed.

    `name` is always `<tenant id>/<upload id>`, made by us; a client never chooses it.
    """

    # True: the client posts the form to the gallery's own endpoint, which hands the file to `store` (the URL is the
    # gallery's to say, so `post_form`'s is empty). False: the client posts to `post_form`'s URL (S3), never to us.
    receives_posts: bool

    def post_form(self, name: str, max_size: int, expires_in: int, ticket: str) -> tuple[str, dict[str, str]]:
        """The URL and form fields of a multipart POST that stores at most `max_size` bytes under `name` until
        `expires_in` seconds from now. `ticket` is our signed upload id, for a store that checks it itself."""
        ...

    def store(self, name: str, stream: IO[bytes], max_size: int) -> int:
        """Write a posted form's file (a store that `receives_posts`); returns its size. Raises `LimitExceeded`
        (writing nothing) past `max_size`, and `NotFound` on a store that never receives posts."""
        ...

    def read(self, name: str, limit: int) -> bytes:
        """The staged bytes. Raises `NotFound` if nothing is staged, `LimitExceeded` if there are more than `limit`."""
        ...

    def delete(self, name: str) -> None:
        """Remove the staged object; a no-op when absent."""
        ...

    def remove_leftovers(self, before: float) -> int:
        """Remove half-written files a crash left (begun before `before`); returns how many."""
        ...

    def staged_before(self, cutoff: float, tenant_id: str | None = None) -> Iterator[str]:
        """Names of objects staged before `cutoff` (a Unix time), of one tenant or of all."""
        ...


def read_blob(blobs: BlobStore, etag: str) -> bytes:
    with blobs.open(etag) as stream:
        return stream.read()


@dataclass(frozen=True)
class Storage:
    catalog: Catalog
    auth: AuthStore
    uploads: UploadLedger
    blobs: BlobStore
    staging: Staging

    def close(self) -> None:
        self.catalog.close()
        self.auth.close()
        self.uploads.close()
