"""Substring search on DynamoDB: every three-character piece (trigram) of an image's texts has a posting, an item
naming the image, in a partition of its own per tenant, sub type and trigram. A needle of three characters or more
is looked for among the images posted under the rarest of its trigrams, then checked against each one's text, so a
search costs what the rarest trigram's images cost, whatever the size of the gallery.

Postings cannot share the image's transaction (a description alone may have thousands of trigrams; a transaction
takes 100 actions), so they are written around it, in the one order that never loses a match: the new text's
trigrams before the image's transaction, the old text's that went after it. A crash between leaves postings that
name an image not (or no longer) holding the trigram, which the check against the text drops; never an image
missing from its postings. Each posting carries the image's id and the version it was written for, and is removed
only by a writer newer than that (or, the image deleted, only while it is that image's), so a slow writer never
takes away what a newer text needs. Why this rather than a
managed search engine: `docs/architecture.md`, "Search on DynamoDB".
"""

from __future__ import annotations

from typing import Any

from gallery.domain import errors
from gallery.domain.model import FIELD_SEPARATOR, ImageInfo, SubType
from gallery.storage.aws import keys
from gallery.storage.aws.errors import translated
from gallery.storage.aws.table import Table, dump, dump_key, load

SIZE = 3  # characters in a gram: a needle shorter than this is looked for by reading the tenant's images
MOST_LOOKED_UP = 6  # grams of a needle read at most: spread over it, the rarest of them decides
_FIRST_PAGE, _LAST_PAGE = 50, 1000  # postings read of each gram per round: doubling from the first to the last


def grams(text: str) -> set[str]:
    """Every piece of `SIZE` characters of each field of a folded search text (never across two fields)."""
    return {field[i : i + SIZE] for field in text.split(FIELD_SEPARATOR) for i in range(len(field) - SIZE + 1)}


def looked_up(needle: str) -> list[str]:
    """The grams of a (folded) needle to read: all of them, or `MOST_LOOKED_UP` spread from its start to its end."""
    found = list(dict.fromkeys(needle[i : i + SIZE] for i in range(len(needle) - SIZE + 1)))
    if len(found) <= MOST_LOOKED_UP:
        return found
    step = (len(found) - 1) / (MOST_LOOKED_UP - 1)
    return list(dict.fromkeys(found[round(n * step)] for n in range(MOST_LOOKED_UP)))


def posting(image: ImageInfo, gram: str) -> dict[str, Any]:
    """The item saying that `image` has `gram`, with the id and version it was written for."""
    key = keys.posting(image.tenant_id, image.sub_type, gram, image.resource_key)
    return {**key._asdict(), "v": image.version, "i": image.id}


def _posted(image: ImageInfo | None) -> set[tuple[SubType, str]]:
    return set() if image is None else {(image.sub_type, gram) for gram in grams(image.search_text)}


class Postings:
    def __init__(self, table: Table) -> None:
        self.table = table

    def before(self, old: ImageInfo | None, new: ImageInfo) -> None:
        """Before the image's transaction: the postings its new text adds."""
        added = sorted(gram for _, gram in _posted(new) - _posted(old))
        self.table.batch_write([{"PutRequest": {"Item": dump(posting(new, gram))}} for gram in added])

    def after(self, old: ImageInfo, new: ImageInfo | None) -> None:
        """After the image's transaction: the postings its old text had and its new one has not, each only while
        it was written for a version older than the one now stored; the image deleted, each only while it is that
        image's (another uploaded under its key meanwhile has written its own)."""
        gone = sorted(_posted(old) - _posted(new))
        condition = "i = :i" if new is None else "v < :v"
        values: dict[str, Any] = {":i": old.id} if new is None else {":v": new.version}
        for sub, gram in gone:
            try:
                with translated():
                    self.table.client.delete_item(
                        TableName=self.table.name,
                        Key=dump_key(keys.posting(old.tenant_id, sub, gram, old.resource_key)),
                        ConditionExpression=condition,
                        ExpressionAttributeValues=dump(values),
                    )
            except errors.Conflict:
                continue  # a newer text, or a newer image, has it

    def candidates(self, tenant_id: str, sub_type: SubType, needle: str) -> list[str] | None:
        """The resource keys posted under the rarest of the needle's grams (a superset of the images whose text
        holds it), or None for a needle too short to have grams. Every gram's postings are read in rounds, a page
        of each per round, pages doubling, until a round reads one through; the shortest read through wins. What
        is read is at most about twice the looked-up grams times the rarest's postings."""
        wanted = looked_up(needle)
        if not wanted:
            return None
        read: dict[str, list[str]] = {gram: [] for gram in wanted}
        starts: dict[str, Any] = dict.fromkeys(wanted)
        page = _FIRST_PAGE
        while True:
            done = []
            for gram in wanted:
                keys_read, starts[gram] = self._page(keys.gram_partition(tenant_id, sub_type, gram), page, starts[gram])
                read[gram] += keys_read
                if starts[gram] is None:
                    done.append(gram)
            if done:
                return read[min(done, key=lambda gram: len(read[gram]))]
            page = min(2 * page, _LAST_PAGE)

    def _page(self, partition: str, limit: int, start: Any) -> tuple[list[str], Any]:
        """One request's postings (their resource keys), and where the next starts (None: none left)."""
        request: Any = {
            "TableName": self.table.name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": dump({":pk": partition}),
            "ProjectionExpression": "pk, sk",
            "Limit": limit,
        }
        if start is not None:
            request["ExclusiveStartKey"] = start
        with translated():
            answer = self.table.client.query(**request)
        found = [load(raw)["sk"] for raw in answer.get("Items", [])]
        return found, answer.get("LastEvaluatedKey")
