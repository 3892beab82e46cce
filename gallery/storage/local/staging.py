"""The local `Staging`: large uploads land in `<root>/<tenant>/<upload>`. The client POSTs the same form it would
send to S3, to the gallery's own endpoint, which checks the signed ticket and hands the file to `store`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gallery.domain import errors
from gallery.files import remove_leftovers, write_atomically
from gallery.storage.staging_names import checked_staging_name, is_staging_name, nothing_staged


class FileStaging:
    receives_posts = True

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        return self.root / checked_staging_name(name)

    def post_form(self, name: str, max_size: int, expires_in: int, ticket: str) -> tuple[str, dict[str, str]]:
        return "", {"ticket": ticket}

    def store(self, name: str, stream: IO[bytes], max_size: int) -> int:
        return write_atomically(self._path(name), stream, max_size)

    def read(self, name: str, limit: int) -> bytes:
        path = self._path(name)
        try:
            with path.open("rb") as staged:
                data = staged.read(limit + 1)
        except FileNotFoundError:
            raise nothing_staged() from None
        if len(data) > limit:
            raise errors.resource_too_big(limit)
        return data

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(name).unlink()

    def remove_leftovers(self, before: float) -> int:
        return remove_leftovers(self.root, "*", before)

    def staged_before(self, cutoff: float, tenant_id: str | None = None) -> Iterator[str]:
        if tenant_id is not None and not is_staging_name(f"{tenant_id}/{'0' * 32}"):
            return  # a tenant id is a UUID: anything else names no folder of ours
        for path in self.root.glob(f"{tenant_id or '*'}/*"):
            name = f"{path.parent.name}/{path.name}"
            with contextlib.suppress(FileNotFoundError):
                if is_staging_name(name) and path.stat().st_mtime < cutoff:
                    yield name
