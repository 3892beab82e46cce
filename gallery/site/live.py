"""The static gallery kept current by `gallery serve`: after any change to the catalog, by this process or another
(an upload through the API, `gallery import`, a tenant deleted with the CLI), the site at `/` is rebuilt in the
background.

- **Noticed by polling** the catalog's change count (`ImageCatalog.change_count`: one row of SQLite, moved by
  triggers), so every writer is covered, whatever process it runs in; nothing in the API waits for a build.
- **Debounced:** a build starts once the count has been still for `quiet` seconds (a bulk delete or an import is
  one build), or after `patience` seconds of steady changes; one build at a time, and a change made during a
  build starts the next one.
- **Incremental:** the build is `gallery build`'s (`SiteBuilder`: renditions come from the content-keyed cache;
  files are written only when their bytes change), and it remembers what it made (`memory.py`): the next build
  reads from the catalog's change log which images changed, and plans, renders and checks only those.
- **Swapped whole:** the site folder (`GALLERY_SITE_DIR`) is a symbolic link to a generation in a folder beside
  it. A build clones the current generation with hard links, rebuilds the clone (every write is a new file renamed
  into place, so the generation being served is never written through) and then points the link at it with one
  atomic rename. A visitor sees the old index or the new one, never half of one. The previous generation is kept
  until the next swap, for requests still reading it.
- **What is per image is shared:** renditions, originals and image pages (`SHARED`, nearly every file of a large
  gallery) live once in `.shared/`, linked into every generation, so a clone is a few hundred files however many
  images there are. A new file there is a new name (or, for a changed image's page, a new file renamed over the
  old: a visitor gets one or the other); what no page refers to any more is removed only after the swap.
- **A slow render delays nothing else:** renders run in a pool that outlives builds (`renderer.py`); a build waits
  for its own only until the catalog moves, so an image made private meanwhile leaves `/` as fast as ever while
  another image is still rendering, which joins the site once made.
- **A failed build** is logged; the site being served stays as it was, and the next change tries again.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from gallery.domain import errors, site_layout
from gallery.site.builder import BuildRun, SiteBuilder, SiteState, remove_files
from gallery.site.memory import SiteMemory
from gallery.site.renderer import BackgroundRenders

log = logging.getLogger("gallery.site")

QUIET_SECONDS = 0.2  # how long the catalog must be still before a build starts
PATIENCE_SECONDS = 2.0  # the longest a build waits for changes to stop
POLL_SECONDS = 0.2
# Folders of the site holding a file or folder per image (or per block of the index), shared by all generations.
SHARED = (site_layout.RENDITIONS, site_layout.ORIGINALS, site_layout.IMAGE_PAGES, site_layout.INDEX_PAGES)
# What a build sweeps itself; the shared folders' leftovers go only after the swap (`LiveSite.rebuild`).
SWEPT = tuple(folder for folder in site_layout.MANAGED if folder not in SHARED)


@dataclass(frozen=True)
class Generations:
    """The site's folder as a link to one of the numbered generations beside it, in `.<name>.d/`."""

    site: Path

    @property
    def root(self) -> Path:
        return self.site.parent / f".{self.site.name}.d"

    def current(self) -> Path | None:
        """The generation being served, or None when there is no site yet."""
        if self.site.is_symlink():
            target = self.site.resolve()
            return target if target.is_dir() else None
        return None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """One build of this site at a time, across processes (two `gallery serve` on one data folder)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def adopt(self) -> None:
        """A site folder made by `gallery build` becomes the first generation (the link replaces it)."""
        if self.site.is_symlink() or not self.site.exists():
            return
        if not self.site.is_dir():
            raise errors.ConfigError(f"{self.site} is not a folder")
        # Moved into `.<name>.d/` and replaced by a link: only what a build made, never a folder of anything else
        # (a GALLERY_SITE_DIR set to a home or project folder by mistake).
        if any(self.site.iterdir()) and not (self.site / "index.html").is_file():
            raise errors.ConfigError(
                f"GALLERY_SITE_DIR ({self.site}) holds files but no built gallery: name an empty or a built folder"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        # Shared folders left by a living site this one replaces are not this site's: its own become them.
        shutil.rmtree(self.shared, ignore_errors=True)
        first = self._next()
        os.rename(self.site, first)
        self._point_at(first)

    @property
    def shared(self) -> Path:
        return self.root / ".shared"

    @property
    def unfinished(self) -> Path:
        """Present while the shared folders may hold what a failed build wrote (its generation was discarded)."""
        return self.root / ".unfinished"

    def prepare(self) -> Path:
        """A new generation: a hard-link clone of the current one (or an empty folder), its shared folders links."""
        self.root.mkdir(parents=True, exist_ok=True)
        fresh = self._next()
        current = self.current()
        fresh.mkdir()
        for name in SHARED:
            shared = self.shared / name
            shared.mkdir(parents=True, exist_ok=True)
            (fresh / name).symlink_to(Path("..") / self.shared.name / name, target_is_directory=True)
        if current is not None:
            _clone(current, fresh, skip=frozenset(SHARED))
        return fresh

    def swap(self, fresh: Path) -> None:
        """Serve `fresh` from now on; keep the generation it replaces (requests may still be reading it), drop the
        older ones."""
        previous = self.current()
        self._point_at(fresh)
        keep = {fresh.name, previous.name if previous else ""}
        for old in self.root.iterdir():
            if old.name not in keep and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def discard(self, fresh: Path) -> None:
        shutil.rmtree(fresh, ignore_errors=True)

    def _point_at(self, generation: Path) -> None:
        link = self.site.parent / f".{self.site.name}.link"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        link.symlink_to(generation.relative_to(self.site.parent), target_is_directory=True)
        os.replace(link, self.site)  # atomic: the old link or the new one, never none

    def _next(self) -> Path:
        numbers = [int(p.name) for p in self.root.iterdir() if p.name.isdigit()] if self.root.is_dir() else []
        return self.root / str(max(numbers, default=0) + 1)


def _clone(source: Path, target: Path, skip: frozenset[str] = frozenset()) -> None:
    """`cp -al`: the same files under a new tree of folders; a copy where the file system refuses links. Top-level
    entries named in `skip` are left out."""
    for folder, folders, names in os.walk(source):
        relative = Path(folder).relative_to(source)
        if folder == str(source):
            folders[:] = [f for f in folders if f not in skip]
            names = [n for n in names if n not in skip]
        (target / relative).mkdir(parents=True, exist_ok=True)
        for name in names:
            try:
                os.link(Path(folder) / name, target / relative / name)
            except OSError:
                shutil.copy2(Path(folder) / name, target / relative / name)


@dataclass
class LiveBuild:
    """One background build: what it did (None when it failed, and why), for the log and for tests."""

    state: SiteState | None
    seconds: float
    error: str | None = None

    def describe(self) -> str:
        if self.state is None:
            return f"Could not update the static gallery: {self.error}"
        state = self.state
        text = (
            f"Static gallery updated in {self.seconds:.1f} s: {state.images} image(s), {state.rendered} "
            f"rendered, {len(state.written)} file(s) written, {len(state.removed)} removed"
        )
        if state.deferred:
            text += f", {len(state.deferred)} still rendering (shown once made)"
        return text + "".join(f"\n  skipped {i.title} ({i.resource_key}): {why}" for i, why in state.failures)


class LiveSite:
    """Keeps `site` (the folder `gallery serve` serves at `/`) built from the catalog, in a background thread."""

    def __init__(
        self,
        site: Path,
        builder: SiteBuilder,
        change_count: Callable[[], int | None],
        *,
        quiet: float = QUIET_SECONDS,
        patience: float = PATIENCE_SECONDS,
        poll: float = POLL_SECONDS,
    ) -> None:
        self.generations = Generations(site)
        self.memory = SiteMemory()
        self.renders = BackgroundRenders()
        self.builder = builder
        self.change_count = change_count
        self.quiet, self.patience, self.poll = quiet, patience, poll
        self.builds = 0
        self.last: LiveBuild | None = None
        self.on_built: Callable[[LiveBuild], None] | None = None  # told of every build (the server's metrics)
        self.built_for: int | None = None  # the change count the served site was built from

    def rebuild(self) -> LiveBuild:
        """One build into a new generation, swapped in if it completes; the served site is untouched otherwise."""
        started = time.perf_counter()
        # Renders wait only while the catalog stays as this build found it; one finishing later asks for a build.
        found = self.change_count()
        self.renders.interrupted = lambda: self.change_count() != found
        self.renders.finished.clear()
        with self.generations.locked():
            current = self.generations.current()
            unfinished = self.generations.unfinished.exists()
            if unfinished or current is None or current.name != self.memory.generation:
                # What it remembers may not be the site's: another process swapped its own in, or a build (ours or
                # another process's) failed part-way after writing into the shared folders.
                self.memory.forget()
            # After a failed build, every shared folder is read and every index page rendered again.
            run = BuildRun(
                start_method="forkserver",  # never forked from a process full of server threads
                walk_pages=unfinished,
                sweep=SWEPT,
                memory=self.memory,
                renders=self.renders,
            )
            fresh = self.generations.prepare()
            try:
                state = self.builder.build(fresh, run).placed()
            except Exception as exc:  # a bug must not end the thread that keeps the site current
                self.generations.discard(fresh)
                self.memory.forget()
                if not isinstance(exc, errors.GalleryError):
                    log.exception("The static gallery's build failed")
                why = exc.message if isinstance(exc, errors.GalleryError) else f"{type(exc).__name__}: {exc}"
                outcome = LiveBuild(None, time.perf_counter() - started, why)
                # It may have written pages into the shared folders that no fingerprint lists: whoever builds next
                # looks at them all.
                self.generations.unfinished.touch()
            else:
                self.generations.swap(fresh)
                self.generations.unfinished.unlink(missing_ok=True)
                self.memory.generation = fresh.name
                if self.memory.dirty is None:  # it read the whole catalog: what it keeps lives as long as we do
                    _out_of_the_collectors_way()
                # What no page of the served generation refers to any more, out of the shared folders only now.
                removed = remove_files(fresh, list(state.leftovers))
                state = replace(state, removed=state.removed + tuple(removed), leftovers=())
                outcome = LiveBuild(state, time.perf_counter() - started)
        self.builds += 1
        self.last = outcome
        return outcome

    def run(self, stop: threading.Event) -> None:
        """Build now, then again after each change, until `stop` is set."""
        self.generations.adopt()
        seen = self.change_count()
        self._build(seen)
        while not stop.wait(self.poll):
            count = self.change_count()
            if count == self.built_for and not self.renders.finished.is_set():
                continue
            count = self._settle(count, stop)
            if stop.is_set():
                return
            self._build(count)

    def first_build(self) -> str | None:
        """While no build has finished: "building"; after a first build that failed, why; then None. What `/`
        says while the site has no page to show (`gallery.web.site`)."""
        if self.builds == 0:
            return "building"
        if self.last is not None and self.last.state is None and self.generations.current() is None:
            return self.last.error or "the build failed"
        return None

    def close(self) -> None:
        """Stop the render processes (what they were rendering is rendered again when next asked)."""
        self.renders.close()

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name="gallery-site", daemon=True)
        thread.start()
        return thread

    def _settle(self, count: int | None, stop: threading.Event) -> int | None:
        """Wait until the count stays still for `quiet` seconds, or `patience` runs out; the count to build for."""
        deadline = time.monotonic() + self.patience
        while not stop.wait(self.quiet) and time.monotonic() < deadline:
            latest = self.change_count()
            if latest == count:
                break
            count = latest
        return count

    def _build(self, count: int | None) -> None:
        outcome = self.rebuild()
        if self.on_built is not None:
            self.on_built(outcome)
        # Failed or not, this count has had its try: the next change tries again (a failing build is not retried
        # in a loop that would fill the log).
        self.built_for = count
        if outcome.state is None:
            log.error(outcome.describe())
        else:
            log.info(outcome.describe())


def _out_of_the_collectors_way() -> None:
    """What the memory of a whole gallery holds (a dozen objects per image) stays for the life of the process.
    Python's cyclic collector walks every object it tracks on each full pass, and builds make one every few: at
    10,000 images a pass took a tenth of a second, longer than the rebuild itself. Frozen (`gc.freeze`), those
    objects are left out of the passes; garbage is collected first so that none is kept, and a frozen object no
    longer referred to is still freed (by reference counting: none of them is in a cycle)."""
    gc.collect()
    gc.freeze()
