"""What a batch of the table's DynamoDB stream records says, as Lambda delivers them: which tenants' images
changed in a way a published site may show. The keys (`dynamodb.Keys`, in DynamoDB's typed JSON) name the image; a
record that has none is unreadable, reported by the caller and never retried. The table's stream carries the item
before and after (`NEW_AND_OLD_IMAGES`), which spares the publisher a rebuild for what no site shows: an image that
is private before and after (a site shows public images only), and what a build itself learnt by decoding an
older image (`has_alpha`, the only attribute changed). A record without them counts as a change."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gallery.storage.aws import keys

CHANGES = frozenset({"INSERT", "MODIFY", "REMOVE"})


@dataclass
class ImageChanges:
    tenants: set[str] = field(default_factory=set)  # whose images were added, changed or removed
    keys: set[tuple[str, str]] = field(default_factory=set)  # (tenant, resource key) of each
    others: int = 0  # records of other items (sessions, users, counters…)
    unseen: int = 0  # records of images no site shows, before or after, or changed in nothing a site shows
    unreadable: list[str] = field(default_factory=list)  # what could be said of each record that made no sense


def image_changes(records: Iterable[Any]) -> ImageChanges:
    found = ImageChanges()
    for number, record in enumerate(records):
        key = _key(record)
        if key is None:
            found.unreadable.append(_describe(number, record))
            continue
        owner = keys.image_owner(key)
        if owner is None:
            found.others += 1
        elif _unseen(record["dynamodb"]):
            found.unseen += 1
        else:
            found.tenants.add(owner)
            found.keys.add((owner, keys.resource_key(key)))
    return found


LEARNT = "has_alpha"  # what a build writes back of what it learnt (`SiteSource.record_alpha`)


def _unseen(change: dict[str, Any]) -> bool:
    old, new = change.get("OldImage"), change.get("NewImage")
    images = [image for image in (old, new) if isinstance(image, dict)]
    if not images:
        return False  # keys alone: it may be anything
    if not any(image.get("public") == {"BOOL": True} for image in images):
        return True
    if isinstance(old, dict) and isinstance(new, dict):
        return {k: v for k, v in old.items() if k != LEARNT} == {k: v for k, v in new.items() if k != LEARNT}
    return False


def _key(record: Any) -> keys.Key | None:
    if not isinstance(record, dict) or record.get("eventName") not in CHANGES:
        return None
    item_keys = (record.get("dynamodb") or {}).get("Keys") if isinstance(record.get("dynamodb"), dict) else None
    if not isinstance(item_keys, dict):
        return None
    pk, sk = item_keys.get("pk"), item_keys.get("sk")
    if not (isinstance(pk, dict) and isinstance(sk, dict)):
        return None
    if not (isinstance(pk.get("S"), str) and isinstance(sk.get("S"), str)):
        return None
    return keys.Key(pk["S"], sk["S"])


def _describe(number: int, record: Any) -> str:
    """Enough to find the record in the logs, never its content (it may hold an image's fields)."""
    if isinstance(record, dict):
        return f"record {number} (eventID {str(record.get('eventID', '?'))[:64]}, {str(record.get('eventName'))[:16]})"
    return f"record {number} ({type(record).__name__})"
