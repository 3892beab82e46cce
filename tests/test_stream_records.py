"""Which stream records wake the publisher (`gallery.storage.aws.stream.image_changes`): the table's stream carries
each item before and after, so a change no site can show costs no rebuild."""

from __future__ import annotations

from typing import Any

from gallery.storage.aws import keys
from gallery.storage.aws.stream import image_changes
from gallery.storage.aws.table import dump, dump_key

TENANT = "t-1"


def record(name: str, old: dict[str, Any] | None = None, new: dict[str, Any] | None = None) -> dict[str, Any]:
    change: dict[str, Any] = {"Keys": dump_key(keys.image(TENANT, "a.png"))}
    if old is not None:
        change["OldImage"] = dump(old)
    if new is not None:
        change["NewImage"] = dump(new)
    return {"eventName": name, "eventID": "1", "dynamodb": change}


PUBLIC = {"title": "A", "public": True, "has_alpha": False}
PRIVATE = {"title": "A", "public": False}


def woken(*records: dict[str, Any]) -> bool:
    return TENANT in image_changes(records).tenants


def test_a_change_a_site_may_show_wakes_the_publisher() -> None:
    assert woken(record("INSERT", new=PUBLIC))
    assert woken(record("REMOVE", old=PUBLIC))
    assert woken(record("MODIFY", old=PUBLIC, new={**PUBLIC, "title": "B"}))
    assert woken(record("MODIFY", old=PUBLIC, new=PRIVATE))  # it leaves the site
    assert woken(record("MODIFY", old=PRIVATE, new=PUBLIC))  # it joins it
    assert woken(record("MODIFY"))  # keys alone: anything may have changed


def test_what_no_site_shows_does_not() -> None:
    found = image_changes(
        [
            record("INSERT", new=PRIVATE),
            record("MODIFY", old=PRIVATE, new={**PRIVATE, "title": "B"}),
            record("REMOVE", old=PRIVATE),
            record("MODIFY", old={**PUBLIC, "has_alpha": None}, new=PUBLIC),  # what a build learnt
            record("MODIFY", old=PUBLIC, new={k: v for k, v in PUBLIC.items() if k != "has_alpha"}),
        ]
    )
    assert (found.tenants, found.unseen) == (set(), 5)
    assert woken(record("INSERT", new=PRIVATE), record("INSERT", new=PUBLIC))  # one shown is enough
