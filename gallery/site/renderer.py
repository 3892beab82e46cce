"""The living site's renders: a pool of processes that outlives each build, so that no change waits behind an image
that takes long to render.

A build hands over the images it needs rendered and waits for them only until the catalog moves. Then it goes on
without those still rendering (an image already on the site keeps its previous version there, a new one is left
out), and the change that moved the catalog — an image made private, say — gets its own build at once: that build
does not wait for renders an earlier build started, however long they take. A render that finishes later asks for
a build of its own (`finished`), which finds its result here, or its files in the cache. Without changes
meanwhile, a build waits for all it started: what it shows is then exactly what a build from nothing shows.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from gallery.domain.model import ImageInfo
from gallery.imaging import DecodeLimits
from gallery.site import render
from gallery.site.render import BlobOpener, Rendering

Key = tuple[str, render.Options, DecodeLimits, Path]  # the bytes (ETag), what is made of them, the limits, the cache
POLL_SECONDS = 0.05  # how often a waiting build asks whether the catalog moved


class BackgroundRenders:
    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._pool: ProcessPoolExecutor | None = None
        self._pool_for: tuple[BlobOpener, Path] | None = None
        self._futures: dict[Key, Rendering] = {}
        self._lock = threading.Lock()
        self.finished = threading.Event()  # set when a render finishes; a build clears it before it asks
        self.interrupted: Callable[[], bool] = lambda: False  # whether a waiting build should go on without

    def submit(
        self, image: ImageInfo, options: render.Options, limits: DecodeLimits, blobs: BlobOpener, cache_root: Path
    ) -> tuple[Rendering, bool]:
        """The render of `image`, and whether it is new: a render under way (or finished and not yet taken) was
        asked for by an earlier build, and the build asking again does not wait for it."""
        key = (image.etag, options, limits, cache_root)
        with self._lock:
            future = self._futures.get(key)
            if future is not None:
                return future, False
            future = self._start(image, options, limits, blobs, cache_root)
            future.add_done_callback(lambda _: self.finished.set())
            self._futures[key] = future
            return future, True

    def _start(
        self, image: ImageInfo, options: render.Options, limits: DecodeLimits, blobs: BlobOpener, cache_root: Path
    ) -> Rendering:
        for attempt in (1, 2):
            pool = self._pool_of(blobs, cache_root)
            try:
                return pool.submit(render.work, image, options, limits)
            except BrokenProcessPool:  # a worker died (out of memory, say): the pool is done for, a new one is made
                self._pool = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _pool_of(self, blobs: BlobOpener, cache_root: Path) -> ProcessPoolExecutor:
        if self._pool is None or self._pool_for != (blobs, cache_root):
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            # Started fresh (forkserver), never forked from a process full of server threads.
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                self.workers,
                context,
                initializer=render.start_pool_worker,
                initargs=(blobs, cache_root, os.getpid()),
            )
            self._pool_for = blobs, cache_root
        return self._pool

    def wait(self, futures: list[Rendering]) -> None:
        """Until every one is done, or the catalog moves (`interrupted`)."""
        pending = {future for future in futures if not future.done()}
        while pending and not self.interrupted():
            _, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)

    def taken(
        self,
        asked: list[Rendering],
        used: set[Rendering],
    ) -> None:
        """After a build: forget the results it used, and those finished that it did not ask for (of images gone
        since); keep those it asked for and did not use (under way, or finished since it stopped waiting)."""
        with self._lock:
            for key, future in list(self._futures.items()):
                if future in used or (future.done() and future not in asked):
                    del self._futures[key]
            if not any(future.done() for future in self._futures.values()):
                self.finished.clear()  # every finished render is in this build: none asks for another

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self._futures.clear()
