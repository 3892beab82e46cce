"""Files written whole or not at all, for every file the local backend writes (blobs, staged uploads) and for the
static site's files and its build cache: a temporary file in the target's folder, fsync, then a rename over the
target, so a reader never sees half a file and a crash leaves only a temporary file, which `remove_leftovers` sweeps
later. A layer of its own below storage and the site, not a backend: the site writes through it on whichever backend
the catalog is."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path
from typing import IO

from gallery.domain import errors

TEMPORARY_PREFIX = ".tmp-"  # a file being written; an old one was left by a crash (`gallery gc` removes it)


def write_atomically(path: Path, stream: IO[bytes], limit: int, *, durable: bool = True) -> int:
    """Copy `stream` to `path`; returns how many bytes. Raises `LimitExceeded` if the stream holds more than
    `limit` bytes and `InsufficientStorage` when the disk is full, writing nothing (no temporary file either).
    `durable=False` skips the fsync: still whole or absent for every reader, but what a power cut may lose — right
    for what can be made again (the site's cache), wrong for what cannot (stored images)."""
    try:
        return _write(path, stream, limit, durable)
    except OSError as exc:  # ENOSPC, wherever the disk fills up, is a 507
        if exc.errno == errno.ENOSPC:
            raise errors.InsufficientStorage() from exc
        raise


def _write(path: Path, stream: IO[bytes], limit: int, durable: bool) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMPORARY_PREFIX)
    try:
        with os.fdopen(fd, "wb") as out:
            written = 0
            while chunk := stream.read(1 << 20):
                written += len(chunk)
                if written > limit:
                    raise errors.resource_too_big(limit)
                out.write(chunk)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return written


def remove_leftovers(root: Path, folders: str, before: float) -> int:
    """Remove the temporary files that writes into `root`/`folders` (a glob) left, begun before `before` (epoch
    seconds); returns how many."""
    removed = 0
    for path in root.glob(f"{folders}/{TEMPORARY_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < before:  # a newer one may be a write in progress
                path.unlink()
                removed += 1
    return removed
