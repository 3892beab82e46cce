"""Work that is not pixels: the structural pieces of a file that a header walk, or Pillow's own Python, visits one
at a time — chunks, marker segments, sub-blocks, directory entries, runs. A file can be made of millions of
them for a few megabytes, and each costs a Python step whatever the picture's size, so each walk spends from a
budget fixed before it starts and the file is refused, before anything is decoded, once the budget is spent."""

from __future__ import annotations

from gallery.domain.errors import InvalidImage


class Steps:
    def __init__(self, budget: int, refusal: str) -> None:
        self.left = budget
        self.refusal = refusal

    def take(self, count: int = 1) -> None:
        self.left -= count
        if self.left < 0:
            raise InvalidImage(self.refusal)


def sized_budget(size: int, per: int, floor: int) -> int:
    """A budget that grows with the file: one step per `per` bytes, and `floor` for small files. Real encoders
    write pieces of kilobytes (a PNG's IDAT, a GIF's 255-byte sub-blocks); a hostile file writes them a few bytes
    each, and spends the budget long before its end."""
    return size // per + floor
