"""The names a staging store accepts: `<tenant id>/<upload id>`, as the uploads service makes them, never a
client's choice. Shared by both staging stores, so a forged name is refused the same way on each."""

from __future__ import annotations

import re

from gallery.domain import errors

_STAGING_NAME = re.compile(r"^[0-9a-f-]{36}/[0-9a-f]{32}$")


def is_staging_name(name: str) -> bool:
    """`<tenant id>/<upload id>`, as the uploads service makes them: the only names a staging store accepts."""
    return bool(_STAGING_NAME.match(name))


def checked_staging_name(name: str) -> str:
    if not is_staging_name(name):
        raise errors.NotFound("No such upload")
    return name


def nothing_staged() -> errors.NotFound:
    return errors.NotFound("Nothing is staged for this upload (not uploaded yet, or finished already)")
