"""The local `BlobStore`: bytes in files named by their SHA-256, under a fixed fan-out that keeps directories small."""

from __future__ import annotations

import contextlib
import io
import os
import re
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from gallery.domain import errors
from gallery.files import remove_leftovers, write_atomically

_ETAG = re.compile(r"^[0-9a-f]{64}$")


class FileBlobStore:
    """Bytes at `<root>/aa/bb/<sha256>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def _path(self, etag: str) -> Path:
        # Addresses are computed by us, but a path is built from nothing unvalidated.
        if not _ETAG.match(etag):
            raise errors.NotFound()
        return self.root / etag[:2] / etag[2:4] / etag

    def put(self, etag: str, data: bytes) -> None:
        path = self._path(etag)
        if path.exists():
            return
        write_atomically(path, io.BytesIO(data), len(data))

    def open(self, etag: str) -> BinaryIO:
        try:
            return self._path(etag).open("rb")
        except FileNotFoundError as exc:
            raise errors.NotFound() from exc

    def exists(self, etag: str) -> bool:
        return self._path(etag).is_file()

    def delete(self, etag: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(etag).unlink()

    def etags(self) -> Iterator[str]:
        for path in self.root.glob("??/??/*"):
            if _ETAG.match(path.name):
                yield path.name

    def remove_leftovers(self, before: float) -> int:
        return remove_leftovers(self.root, "??/??", before)

    def download_url(self, etag: str, headers: Mapping[str, str], expires_in: int) -> str | None:
        return None  # no payload limit to dodge: the app streams the file itself

    def link(self, etag: str, target: Path) -> bool:
        # Content-addressed bytes never change in place, so a second name for them is as good as a copy, for the
        # cost of a directory entry (writing a 2 MB copy cost a tenth of a photo's rendering).
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".tmp-{uuid.uuid4().hex}-{target.name}")
        try:
            os.link(self._path(etag), temporary)
        except FileNotFoundError as exc:
            raise errors.NotFound() from exc
        except OSError:  # another file system, or links not allowed
            return False
        os.replace(temporary, target)
        return True
