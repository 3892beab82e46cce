"""Whole scopes moved at once: `gallery export` writes every image of a tenant (or the system's) into one zip of
ThingsBoard export JSON files — the format `GET /api/images/{type}/{key}/export` returns, one file per image — with a
manifest; `gallery import` reads such zips, folders of export files, single files, or a ThingsBoard server's REST API
(`remote.py`), and writes them through the same rules as `PUT /api/image/import` (`TransferService`).

Streaming both ways: one image is in memory at a time (its bytes and their base64), whatever the scope's size.
Idempotent: an image whose key already holds the same bytes is skipped, so a run stopped halfway is finished by
running it again, and a second run changes nothing.
"""

from __future__ import annotations

import functools
import json
import os
import stat
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any

from gallery.domain import errors, json_text
from gallery.domain.access import Principal
from gallery.imaging.formats import etag_of
from gallery.services.images import ImageService
from gallery.services.transfer import ImportRequest, TransferService, export_data

MANIFEST = "manifest.json"
# The largest export file read: a 190 MB image in base64. A zip from elsewhere may claim anything: a member is read a
# megabyte at a time and refused once it has unpacked beyond this, whatever its header declares (Python's zipfile
# trusts the declared size only to cut what it has already inflated: one read of a member declaring 100 bytes
# inflated 2 GiB first). A file on disk is read the same way, so neither a growing file nor a device named
# `x.json` is read past it.
MAX_FILE = 256 * 1024 * 1024
READ_BLOCK = 1024 * 1024
FORMAT = "image-gallery-export/1"
Progress = Callable[[int, int], None]


def tool_version() -> str:
    try:
        return metadata.version("image-gallery")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass
class ExportSummary:
    count: int = 0
    bytes: int = 0

    def describe(self, out: Path) -> str:
        return f"exported {self.count} image(s), {self.bytes / 2**20:.1f} MiB of image bytes, to {out}"


def export_archive(
    images: ImageService, tenant_id: str, scope: str, out: Path, progress: Progress | None = None
) -> ExportSummary:
    """Every image of `tenant_id` into the zip `out` (written beside it, then renamed: never half a file), with a
    `manifest.json` listing each file's key and ETag. `scope` names it in the manifest (a tenant's name, or
    "system")."""
    rows = list(images.every_image(tenant_id))  # rows only (no bytes): small even for a large tenant
    summary = ExportSummary()
    listed = []
    # A name of our own choosing, made exclusively (never through a link planted in its place) and readable by the
    # operator alone: the zip holds private images.
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    except OSError as exc:
        raise errors.BadRequest(f"cannot write beside {out} ({exc.strerror})") from None
    partial = Path(temporary)
    try:
        with (
            os.fdopen(handle, "wb") as file,
            zipfile.ZipFile(file, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive,
        ):
            for done, image in enumerate(rows, start=1):
                name = f"images/{image.id}.json"
                data = images.keeper.read(image.etag)
                entry = zipfile.ZipInfo(name, date_time=datetime.now().timetuple()[:6])
                entry.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(entry, "w") as member:
                    member.write(json.dumps(export_data(image, data)).encode())
                listed.append({"file": name, "resourceKey": image.resource_key, "etag": image.etag, "size": len(data)})
                summary.count += 1
                summary.bytes += len(data)
                if progress:
                    progress(done, len(rows))
            manifest = {
                "format": FORMAT,
                "tool": f"image-gallery {tool_version()}",
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "scope": scope,
                "count": summary.count,
                "bytes": summary.bytes,
                "images": listed,
            }
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1))
        os.replace(partial, out)  # a link at `out` is replaced, not followed
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise errors.BadRequest(f"cannot write {out} ({exc.strerror or exc})") from None
        raise
    return summary


@dataclass(frozen=True)
class Entry:
    """One export file to import: where it came from (for the report) and how to read it when its turn comes."""

    label: str
    read: Callable[[], Any]  # the parsed JSON; raises GalleryError when it cannot be read


def entries(sources: Iterable[Path]) -> Iterator[Entry]:
    """Every export file in `sources`: zips (their JSON members but the manifest, each member once, however many
    share its name), folders (their `*.json`, at any depth) and single files, in a stable order. A source that is
    none of these, or cannot be listed, is one refused entry."""
    for source in sources:
        try:
            if source.is_dir():
                files = sorted(path for path in source.rglob("*.json") if path.name != MANIFEST)
                yield from [Entry(str(path), _file_reader(path)) for path in files]
            elif zipfile.is_zipfile(source):
                yield from _members(source)
            elif source.is_file():
                yield Entry(str(source), _file_reader(source))
            else:
                yield Entry(str(source), _refused("no such file or folder"))
        except (OSError, zipfile.BadZipFile, ValueError) as exc:
            yield Entry(str(source), _refused(f"cannot be read ({getattr(exc, 'strerror', None) or exc})"))


def _members(source: Path) -> list[Entry]:
    """A zip's JSON members, by their directory: two members of one name are two entries (a zip may hold both;
    reading by name would read the second twice and never the first)."""
    with zipfile.ZipFile(source) as archive:
        members = [i for i in archive.infolist() if i.filename.endswith(".json") and Path(i.filename).name != MANIFEST]
    members.sort(key=lambda info: info.filename)
    named, seen = Counter(info.filename for info in members), Counter[str]()
    found = []
    for info in members:
        seen[info.filename] += 1
        copies = named[info.filename]
        label = f"{source}:{info.filename}" + (f" (copy {seen[info.filename]} of {copies})" if copies > 1 else "")
        found.append(Entry(label, _member_reader(source, info)))
    return found


def _too_large(size: int) -> errors.GalleryError:
    return errors.BadRequest(
        f"{errors.display_size(size)} is more than an export file holds ({errors.display_size(MAX_FILE)})"
    )


def read_bounded(read: Callable[[int], bytes], most: int, too_much: Callable[[], errors.GalleryError]) -> bytes:
    """What `read` gives, a block at a time, until it gives nothing; `too_much()` is raised once there are more than
    `most` bytes, so that what a source declares (a zip header, a Content-Length) never decides what is held."""
    blocks, total = [], 0
    while block := read(READ_BLOCK):
        total += len(block)
        if total > most:
            raise too_much()
        blocks.append(block)
    return b"".join(blocks)


def _bounded(stream: IO[bytes]) -> bytes:
    """At most `MAX_FILE` bytes of `stream`; refused once there are more, whatever it declares."""
    return read_bounded(
        stream.read,
        MAX_FILE,
        lambda: errors.BadRequest(
            f"unpacks to more than an export file holds ({errors.display_size(MAX_FILE)}), whatever it declares"
        ),
    )


def _parsed(raw: bytes) -> Any:
    return json_text.parse(raw, "the file")


def _file_reader(path: Path) -> Callable[[], Any]:
    def read() -> Any:
        try:
            # Without blocking, so that a named pipe is refused rather than waited on.
            handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            with os.fdopen(handle, "rb") as stream:
                status = os.fstat(stream.fileno())
                if not stat.S_ISREG(status.st_mode):
                    raise errors.BadRequest("is not a regular file")
                if status.st_size > MAX_FILE:
                    raise _too_large(status.st_size)
                raw = _bounded(stream)
        except OSError as exc:
            raise errors.BadRequest(f"cannot be read ({exc.strerror})") from None
        return _parsed(raw)

    return read


@functools.lru_cache(maxsize=1)
def _opened(source: Path, stamp: tuple[int, int]) -> zipfile.ZipFile:
    """The zip being read, kept open from one member to the next: opening it again for each would read its whole
    directory each time (quadratic in its members). `stamp` (size, mtime) makes a rewritten zip a new one."""
    return zipfile.ZipFile(source)


# What reading one member raises when the member, not the zip, is bad: a method zipfile cannot unpack (deflate64,
# say: NotImplementedError), a password (RuntimeError), damaged data (zlib.error, EOFError), a bad CRC.
_BAD_MEMBER = (OSError, zipfile.BadZipFile, NotImplementedError, RuntimeError, zlib.error, EOFError, ValueError)


def _member_reader(source: Path, info: zipfile.ZipInfo) -> Callable[[], Any]:
    def read() -> Any:
        if info.file_size > MAX_FILE:
            raise _too_large(info.file_size)
        try:
            status = source.stat()
            archive = _opened(source, (status.st_size, status.st_mtime_ns))
            with archive.open(info) as stream:
                raw = _bounded(stream)
        except _BAD_MEMBER as exc:
            raise errors.BadRequest(f"cannot be read from the zip ({exc})") from None
        return _parsed(raw)

    return read


def _refused(why: str) -> Callable[[], Any]:
    def read() -> Any:
        raise errors.BadRequest(why)

    return read


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (label, why)
    bytes: int = 0

    def describe(self, dry_run: bool) -> str:
        verb = "would import" if dry_run else "imported"
        lines = [
            f"{verb} {len(self.imported)} image(s) ({self.bytes / 2**20:.1f} MiB), {len(self.unchanged)} already "
            f"there with the same bytes, {len(self.refused)} refused"
        ]
        lines += [f"  refused {label}: {why}" for label, why in self.refused]
        return "\n".join(lines)


def import_entries(
    transfer: TransferService,
    principal: Principal,
    found: Iterable[Entry],
    *,
    overwrite: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    total: int = 0,
) -> ImportReport:
    """Import each entry as `PUT /api/image/import` would for `principal`; a refused one is reported and the rest
    go on. An image whose key holds the same bytes and texts already is left alone (other texts are written over
    the same bytes); one whose key holds other bytes is replaced only with `overwrite`. With `dry_run`, every check
    runs (the file, the image, the size limit) and nothing is written."""
    report = ImportReport()
    images = transfer.images
    for done, entry in enumerate(found, start=1):
        try:
            request = ImportRequest.from_export(entry.read())
            existing = (
                images.catalog.get_image(principal.tenant_id, request.resource_key) if request.resource_key else None
            )
            same_bytes = existing is not None and existing.etag == etag_of(request.data)
            if existing is not None and same_bytes and request.texts.applied(existing) == existing:
                report.unchanged.append(entry.label)
            elif existing is not None and not same_bytes and not overwrite:
                raise errors.AlreadyExists(
                    f"the key {request.resource_key!r} holds other bytes already (--overwrite replaces them)"
                )
            else:
                if dry_run:
                    images.prepare(request.data, images.limits(principal.tenant_id))
                else:
                    transfer.import_image(principal, request)
                report.imported.append(entry.label)
                report.bytes += len(request.data)
        except errors.GalleryError as exc:
            report.refused.append((entry.label, exc.message))
        if progress and total:
            progress(done, total)
    return report
