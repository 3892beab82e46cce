"""A published site's state, kept in the table beside the catalog, so that the publisher's work for one change is
bounded whatever the gallery's size (`gallery/incremental.py` uses it; its keys are in `keys.py`).

- **Lists in blocks that stay put.** The index and each tag are lists of cards in numbered blocks of at most a page
  each. An image joining a list goes to its newest block (a new block once that one is full); one leaving takes its
  card out of its block, which is left short (and dropped when empty). So a block's page changes only with its own
  cards, and a page's neighbours only when a block is added or emptied.
- **Each image's record:** the lists it is in (block and rank), its card, its page's fingerprint and the
  content-named files its page uses; each resource key names the image the site shows for it; each file has an
  item per image using it (a logo under 10,000 keys would not fit one item), so a file goes when its last user does.
- **What waits to be rendered** (`dirty`, on the site item): written in the same transaction as the change it comes
  from, removed once rendered, so a run that stops in between leaves it for the next.
- Writes are transactions conditioned on each list's `seq`, moved by every change of the list: two runs at once
  cannot both put a card in the last free place of a block (the loser reads again).

Nothing here is an image's bytes; every item is small. Reads are eventually consistent but for what a change is
decided on (a list's head and newest block, an image's record).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from gallery.domain import errors
from gallery.storage.aws import keys
from gallery.storage.aws.table import Item, Table, dump
from gallery.storage.aws.transactions import Transaction

INDEX = "*"  # the index's list (a tag, a list's other name, is letters, digits and `-_.`: never `*`)
RANK_BASE = 10**13  # ranks sort newest first: RANK_BASE - created time (ms), zero-padded


def rank_of(created_time: int, image_id: str) -> str:
    return keys.site_rank(RANK_BASE - created_time, image_id)


@dataclass(frozen=True)
class Place:
    block: int
    rank: str


@dataclass
class Record:
    """An image as the site shows it."""

    image_id: str
    key: str  # its resource key
    system: bool
    lists: dict[str, Place]
    card: str  # its card's JSON text
    page: str  # its page's fingerprint
    files: list[str]  # the content-named site paths its page uses
    version: str = ""  # what its cards say of the row and the page they were made from (`Member.version`)

    def item(self, site_id: str) -> Item:
        return {
            **keys.site_image(site_id, self.image_id)._asdict(),
            "v": self.version,
            "k": self.key,
            "s": self.system,
            "l": {name: [place.block, place.rank] for name, place in self.lists.items()},
            "c": self.card,
            "p": self.page,
            "f": self.files,
        }

    @classmethod
    def load(cls, image_id: str, item: Item) -> Record:
        lists = {}
        for name, (block, rank) in item.get("l", {}).items():
            lists[name] = Place(int(block), str(rank))
        files = list(item.get("f", []))
        return cls(image_id, item["k"], bool(item["s"]), lists, item["c"], item["p"], files, str(item.get("v", "")))


@dataclass(frozen=True)
class ListHead:
    name: str
    count: int = 0
    system: int = 0
    top: int = -1  # its newest block (-1: none yet)
    seq: int = 0


@dataclass(frozen=True)
class Card:
    block: int
    rank: str
    image_id: str
    text: str


@dataclass(frozen=True)
class Member:
    """What a list holds of an image: its card, and what the daily pass compares with the catalog."""

    image_id: str
    key: str
    version: str
    system: bool
    text: str

    def item(self, key: keys.Key) -> Item:
        return {**key._asdict(), "i": self.image_id, "k": self.key, "v": self.version, "s": self.system, "c": self.text}


@dataclass
class SiteHead:
    dirty: set[str] = field(default_factory=set)
    full_at: int = 0  # when the last full pass ended (epoch seconds)
    failed: set[str] = field(default_factory=set)  # resource keys whose change could not be published
    owed: bool = False  # the CDN is owed a wildcard for the whole site, by the first run of a later hour
    wildcard_hour: int = 0  # the hour (epoch hours) the last wildcard was asked in


class SiteState:
    def __init__(self, table: Table, site_id: str) -> None:
        self.table = table
        self.site_id = site_id

    # --- reads ---------------------------------------------------------------------------------------------------
    def head(self) -> SiteHead:
        item = self.table.get(keys.site(self.site_id))
        if item is None:
            return SiteHead()
        return SiteHead(
            set(item.get("d", set())),
            int(item.get("full_at", 0)),
            set(item.get("x", set())),
            bool(item.get("io", False)),
            int(item.get("iw", 0)),
        )

    def record(self, image_id: str) -> Record | None:
        item = self.table.get(keys.site_image(self.site_id, image_id))
        return None if item is None else Record.load(image_id, item)

    def shown_at(self, resource_key: str) -> str | None:
        item = self.table.get(keys.site_key(self.site_id, resource_key))
        return None if item is None else str(item["i"])

    def list_head(self, name: str) -> ListHead:
        item = self.table.get(keys.site_list(self.site_id, name))
        return _head(name, item) if item is not None else ListHead(name)

    def lists(self) -> list[ListHead]:
        """Every list with a card (for the tags' page: as many as there are tags)."""
        found = self.table.partition(keys.site_partition(self.site_id), keys.SITE_LISTS, consistent=False)
        heads = [_head(keys.listed_site_list(item["sk"]), item) for item in found]
        return [head for head in heads if head.count > 0]

    def block_size(self, name: str, block: int) -> int:
        item = self.table.get(keys.site_block(self.site_id, name, block))
        return 0 if item is None else int(item["n"])

    def blocks(self, name: str, *, below: int | None = None, above: int | None = None, limit: int = 2) -> list[int]:
        """Up to `limit` blocks holding cards: the newest below `below`, the oldest above `above`, or the newest."""
        lowest, highest = keys.SITE_BLOCKS, keys.SITE_BLOCKS + "~"
        if below is not None:
            if below <= 0:
                return []
            highest = keys.site_block(self.site_id, name, below - 1).sk
        if above is not None:
            lowest = keys.site_block(self.site_id, name, above + 1).sk
        found = self.table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :lo AND :hi",
            ExpressionAttributeValues=dump(
                {":pk": keys.site_blocks(self.site_id, name), ":lo": lowest, ":hi": highest}
            ),
            ScanIndexForward=above is not None,
            Limit=limit,
            ConsistentRead=False,
        )
        return [keys.block_number(item["sk"]) for item in itertools.islice(found, limit)]

    def cards(self, name: str, first: int, last: int) -> list[Card]:
        """The cards of blocks `first` to `last`, newest block first, each block's cards newest first."""
        found = self.table.query(
            KeyConditionExpression="pk = :pk AND sk BETWEEN :from AND :to",
            ExpressionAttributeValues=dump(
                {
                    ":pk": keys.site_blocks(self.site_id, name),
                    ":from": keys.site_member_prefix(first),
                    ":to": keys.site_member_prefix(last) + "~",
                }
            ),
            ConsistentRead=False,
        )
        by_block: dict[int, list[Card]] = {}
        for item in found:
            block = keys.block_number(item["sk"])
            rank = item["sk"][len(keys.site_member_prefix(block)) :]
            by_block.setdefault(block, []).append(Card(block, rank, str(item["i"]), str(item["c"])))
        return [card for block in sorted(by_block, reverse=True) for card in by_block[block]]

    def shards(self) -> dict[int, str]:
        """The search index's shards holding cards (what `gallery.json` names), each with its digest."""
        item = self.table.get(keys.site(self.site_id))
        return {int(n): str(digest) for n, digest in (item or {}).get("sd", {}).items()}

    def set_shards(self, shards: dict[int, str]) -> None:
        self.table.update(keys.site(self.site_id), "SET sd = :sd", {":sd": {str(n): d for n, d in shards.items()}})

    def index(self) -> Iterator[tuple[str, str, str, str]]:
        """(resource key, image id, version, card) of every image the site shows, from the index's cards (the full
        pass: a Query of one partition, where the images' records would take a Scan of the table)."""
        found = self.table.partition(keys.site_blocks(self.site_id, INDEX), keys.SITE_MEMBERS, consistent=False)
        for item in found:
            yield str(item["k"]), str(item["i"]), str(item["v"]), str(item["c"])

    # --- writes ------------------------------------------------------------------------------------------------------
    def change(self) -> SiteChange:
        return SiteChange(self)

    def mark(self, dirty: Iterable[str], failed: Iterable[str] = ()) -> None:
        """Note what waits to be rendered (and keys whose change failed), outside a change."""
        change = self.change()
        change.dirty.update(dirty)
        change.failed.update(failed)
        change.commit()

    def rendered(self, done: set[str], full_at: int | None = None) -> None:
        """Take what was rendered off what waits (a mark made again meanwhile is the same string, and goes too:
        the run that made it renders it after this one)."""
        parts: list[str] = []
        values: dict[str, Any] = {}
        if full_at is not None:
            parts.append("SET full_at = :f")
            values[":f"] = full_at
        if done:
            parts.append("DELETE d :done")
            values[":done"] = done
        if parts:
            transaction = Transaction(self.table)
            transaction.update(keys.site(self.site_id), " ".join(parts), values)
            transaction.commit()

    def forget_failed(self, resource_keys: set[str]) -> None:
        if resource_keys:
            transaction = Transaction(self.table)
            transaction.update(keys.site(self.site_id), "DELETE x :k", {":k": resource_keys})
            transaction.commit()

    def spend(self, paths: int, hour: int, budget: int) -> bool:
        """Take `paths` invalidation paths from the hour's `budget`; False, and nothing taken, when they do not fit
        (counted on the site item: the publisher's runs of one hour share it)."""
        if paths > budget:
            return False
        site = keys.site(self.site_id)
        same_hour = ("SET ip = ip + :n", "ih = :h AND ip <= :room", {":h": hour, ":room": budget - paths, ":n": paths})
        if self.table.update_if(site, *same_hour) is not None:
            return True
        new_hour = "attribute_not_exists(ih) OR ih < :h"
        if self.table.update_if(site, "SET ih = :h, ip = :n", new_hour, {":h": hour, ":n": paths}) is not None:
            return True
        return self.table.update_if(site, *same_hour) is not None  # another run opened the hour meanwhile

    def owe(self) -> None:
        """Note the wildcard owed for invalidations that had no room in an hour that had its wildcard already, or
        that CloudFront did not take."""
        self.table.update(keys.site(self.site_id), "SET io = :t", {":t": True})

    def claim_wildcard(self, hour: int) -> bool:
        """The hour's one wildcard for the whole site taken; False when it was taken already."""
        open_hour = "attribute_not_exists(iw) OR iw < :h"
        return self.table.update_if(keys.site(self.site_id), "SET iw = :h", open_hour, {":h": hour}) is not None

    def settled(self) -> None:
        """A wildcard asked of the CDN: nothing is owed any more."""
        self.table.update(keys.site(self.site_id), "REMOVE io", {})

    def use_files(self, image_id: str, paths: Iterable[str]) -> None:
        self.table.batch_write(
            [{"PutRequest": {"Item": dump(keys.site_file_user(self.site_id, p, image_id)._asdict())}} for p in paths]
        )

    def release_files(self, image_id: str, paths: Iterable[str]) -> list[str]:
        """Take the image off each file's users; returns the files nobody uses any more. (The publisher runs one
        at a time: nobody takes a file up between the look and the answer.)"""
        paths = list(paths)
        self.table.batch_write(
            [{"DeleteRequest": {"Key": dump(keys.site_file_user(self.site_id, p, image_id)._asdict())}} for p in paths]
        )
        return [path for path in paths if not self._used(path)]

    def _used(self, path: str) -> bool:
        found = self.table.query(
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=dump({":pk": keys.site_file_users(self.site_id, path)}),
            Limit=1,
            ConsistentRead=True,
        )
        return next(found, None) is not None


class SiteChange:
    """One transaction of the site's state: cards into and out of lists, an image's record, a key's image, and
    what waits to be rendered."""

    def __init__(self, state: SiteState) -> None:
        self.state = state
        self.transaction = Transaction(state.table)
        self.dirty: set[str] = set()
        self.failed: set[str] = set()
        self.heads: dict[str, tuple[ListHead, int, int, int]] = {}  # name → (read, Δcount, Δsystem, top)

    def _head(self, head: ListHead) -> None:
        self.heads.setdefault(head.name, (head, 0, 0, head.top))

    def join(self, head: ListHead, place: Place, card: Member) -> None:
        self._head(head)
        read, count, sys_count, top = self.heads[head.name]
        self.heads[head.name] = (read, count + 1, sys_count + card.system, max(top, place.block))
        site = self.state.site_id
        self.transaction.put(card.item(keys.site_member(site, head.name, place.block, place.rank)))
        self.transaction.update(keys.site_block(site, head.name, place.block), "ADD n :one", {":one": 1})

    def recard(self, name: str, place: Place, card: Member) -> None:
        self.transaction.put(card.item(keys.site_member(self.state.site_id, name, place.block, place.rank)))

    def leave(self, head: ListHead, place: Place, system: bool, emptied: bool) -> None:
        self._head(head)
        read, count, sys_count, top = self.heads[head.name]
        self.heads[head.name] = (read, count - 1, sys_count - system, top)
        site = self.state.site_id
        self.transaction.delete(keys.site_member(site, head.name, place.block, place.rank))
        block = keys.site_block(site, head.name, place.block)
        if emptied:
            self.transaction.delete(block)
        else:
            self.transaction.update(block, "ADD n :minus", {":minus": -1})

    def record(self, record: Record) -> None:
        self.transaction.put(record.item(self.state.site_id))

    def drop_record(self, image_id: str) -> None:
        self.transaction.delete(keys.site_image(self.state.site_id, image_id))

    def show(self, resource_key: str, image_id: str | None) -> None:
        key = keys.site_key(self.state.site_id, resource_key)
        if image_id is None:
            self.transaction.delete(key)
        else:
            self.transaction.put({**key._asdict(), "i": image_id})

    def commit(self) -> None:
        site = self.state.site_id
        for name, (read, count, system, top) in self.heads.items():
            key = keys.site_list(site, name)
            values: dict[str, Any] = {":n": count, ":s": system, ":top": top, ":one": 1, ":seq": read.seq}
            self.transaction.update(
                key,
                "ADD n :n, sys :s, seq :one SET top = :top",
                values,
                condition="attribute_not_exists(seq) OR seq = :seq",
                failure=errors.Conflict("The site's list changed meanwhile"),
            )
        parts = []
        values = {}
        if self.dirty:
            parts.append("d :d")
            values[":d"] = self.dirty
        if self.failed:
            parts.append("x :x")
            values[":x"] = self.failed
        if parts:
            self.transaction.update(keys.site(site), "ADD " + ", ".join(parts), values)
        self.transaction.commit()


def _head(name: str, item: Item) -> ListHead:
    return ListHead(
        name, int(item.get("n", 0)), int(item.get("sys", 0)), int(item.get("top", -1)), int(item.get("seq", 0))
    )
