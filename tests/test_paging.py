"""The index's pages: blocks counted from the oldest, so adding images changes the first page only until the
newest block fills up."""

from __future__ import annotations

import pytest

from gallery.site.paging import index_pages


def cut(count: int, size: int) -> list[tuple[int, int | None, int, int]]:
    return [(p.number, p.block, p.start, p.end) for p in index_pages(count, size)]


@pytest.mark.parametrize(
    ("count", "size", "expected"),
    [
        (0, 4, [(1, None, 0, 0)]),
        (3, 4, [(1, None, 0, 3)]),
        (5, 4, [(1, None, 0, 5)]),  # never a first page of one: the newest card joins the block before it
        (8, 4, [(1, None, 0, 4), (2, 0, 4, 8)]),
        (10, 4, [(1, None, 0, 6), (2, 0, 6, 10)]),
        (12, 4, [(1, None, 0, 4), (2, 1, 4, 8), (3, 0, 8, 12)]),
    ],
)
def test_pages_cover_every_card_once_in_order(count: int, size: int, expected: list[object]) -> None:
    assert cut(count, size) == expected


@pytest.mark.parametrize("size", [1, 2, 4, 48])
def test_an_added_image_changes_the_first_page_only_until_a_block_fills(size: int) -> None:
    for count in range(1, 6 * size):
        before, after = index_pages(count, size), index_pages(count + 1, size)
        covered = [i for p in after for i in range(p.start, p.end)]
        assert covered == list(range(count + 1))  # every card once, newest first
        assert all(size <= p.end - p.start < 2 * size for p in after if count + 1 > size and p.block is None)
        if len(before) != len(after):
            continue  # the page count moved: once per `size` additions
        # every other page holds the same cards: the same oldest-first positions, one place later in the list
        old = {p.block: (p.start, p.end) for p in before if p.block is not None}
        new = {p.block: (p.start - 1, p.end - 1) for p in after if p.block is not None}
        assert old == new
        assert [p.url for p in before] == [p.url for p in after]
