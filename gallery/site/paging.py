"""The index's pages, newest first, cut so that a new image changes one page, not all of them.

Cards are grouped in blocks of `size` counted from the oldest image: block 0 holds the oldest `size`, block 1 the
next, and the newest block the remainder. Each full block is a page of its own at `page/<block + 1>/`, so a page
keeps its cards while images are added; the first page (`/`) shows the newest block together with the block before
it while the newest is not full, so it holds between `size` and `2 × size - 1` cards (never a page of one). An
upload changes the first page only, until the newest block fills up; then the page count moves by one and every
page's pager with it: once every `size` uploads. (Paging by position from the newest, every card moved one place on
every upload and every page was rewritten: 209 pages at 10,000 images.)
"""

from __future__ import annotations

from dataclasses import dataclass

from gallery.domain import site_layout


@dataclass(frozen=True)
class IndexPage:
    number: int  # its place counted from the newest: 1 is the first page
    block: int | None  # None for the first page
    start: int  # its cards, a slice of the newest-first list
    end: int

    @property
    def source(self) -> str:
        """Its MkDocs source."""
        return "index.md" if self.block is None else f"{site_layout.INDEX_PAGES}/{self.block + 1}.md"

    @property
    def url(self) -> str:
        """Its path from the list's folder ("" for the first page)."""
        return block_url(self.block)


def block_url(block: int | None) -> str:
    """The page of a block of a list, from the list's folder ("" for the first page)."""
    return "" if block is None else f"{site_layout.INDEX_PAGES}/{block + 1}/"


def index_pages(count: int, size: int) -> list[IndexPage]:
    """The pages for `count` cards, newest first, in blocks of `size`."""
    if count <= size:
        return [IndexPage(1, None, 0, count)]
    blocks = -(-count // size)
    newest = count - (blocks - 1) * size  # cards in the newest block, 1 to size
    on_first = 2 if newest < size else 1  # blocks the first page shows
    first = newest + (on_first - 1) * size
    pages = [IndexPage(1, None, 0, first)]
    for block in range(blocks - 1 - on_first, -1, -1):
        end = count - block * size
        pages.append(IndexPage(len(pages) + 1, block, end - size, end))
    return pages


SHARD_BLOCKS = 16  # blocks per shard of the search index and of the sitemap


@dataclass(frozen=True)
class Shard:
    """A run of `SHARD_BLOCKS` blocks counted from the oldest, as the search index (`search/<number>.json`) and the
    sitemap (`sitemaps/<number>.xml`) are cut: like a block, it keeps its images while images are added, so one
    upload rewrites the newest shard alone (one file of a few hundred cards), never a file of every card."""

    number: int
    start: int  # its cards, a slice of the newest-first list
    end: int


def shards(count: int, size: int) -> list[Shard]:
    """The shards of `count` cards in blocks of `size`, newest first (none for no card)."""
    span = size * SHARD_BLOCKS
    found = []
    for number in range(-(-count // span) - 1, -1, -1):
        end = count - number * span
        found.append(Shard(number, max(0, end - span), end))
    return found


def shard_of_block(block: int) -> int:
    return block // SHARD_BLOCKS
