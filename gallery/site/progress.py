"""A progress bar on stderr for long commands (image rendering, uploads): click draws it on a terminal and prints
just its label otherwise, so logs stay readable."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A `(done, total)` callback: the bar appears on the first call and closes when done reaches total."""
    bars: list[Any] = []

    def update(done: int, total: int) -> None:
        if not bars:
            bar: Any = click.progressbar(length=total, label=label, file=sys.stderr)
            bar.__enter__()
            bars.append(bar)
        bars[0].update(1)
        if done == total:
            bars[0].__exit__(None, None, None)

    return update
