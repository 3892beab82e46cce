"""The living gallery on the embedded default: `gallery serve` keeps `/` current after every change, rebuilding
only what changed into a new generation of the site and swapping it in whole; the management page ships with the
package."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from gallery.demo import as_principal
from gallery.domain.access import Principal
from gallery.domain.model import ImageInfo, Scope
from gallery.services.images import InfoChange
from gallery.site.build import builder_for, selection_for
from gallery.site.builder import SiteBuilder, SiteOptions, SiteState
from gallery.site.live import SHARED, Generations, LiveSite
from gallery.site.shell import manage_page
from gallery.site.templates import Templates
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET, Seed
from tests.helpers import png
from tests.live import live_server, sign_in, wait_for
from tests.site_fixtures import build

INDEX_FILES = {"index.html", "search/0.json", "gallery-version.json"}  # what any change to the list rewrites


@pytest.fixture
def live(tmp_path: Path, env: dict[str, str], uploaded: dict[str, ImageInfo], seed: Seed) -> Iterator[LiveSite]:
    gallery = Gallery.open()
    options = SiteOptions(selection_for(gallery, seed.tenants["A"].name, system=True))
    site = LiveSite(
        tmp_path / "out" / "site", builder_for(gallery, options, tmp_path / "cache"), gallery.site.change_count
    )
    first = site.rebuild()
    assert first.state is not None, first.error
    yield site
    site.close()


def served(live: LiveSite, relative: str = "index.html") -> str:
    return (live.generations.site / relative).read_text()


def site_files(folder: Path) -> list[Path]:
    """Every file a visitor can reach, through the links to the shared folders (not the build's dot files)."""
    found = os.walk(folder, followlinks=True)
    return [Path(top) / name for top, _, names in found for name in names if not name.startswith(".")]


def fingerprints(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in site_files(folder)}


def test_the_site_is_a_link_to_a_whole_generation(live: LiveSite, uploaded: dict[str, ImageInfo]) -> None:
    site = live.generations.site
    assert site.is_symlink()
    assert not Path(os.readlink(site)).is_absolute()  # the data folder can move
    assert "Sunset &amp; &lt;sea&gt;" in served(live)
    assert (site / "manage" / "index.html").is_file()
    assert (site / "images" / uploaded["photo"].id / "index.html").is_file()


def test_an_upload_writes_its_own_files_and_the_index_and_nothing_else(
    live: LiveSite, gallery: Gallery, seed: Seed
) -> None:
    admin = as_principal(seed.users["admin"])
    before = fingerprints(live.generations.site.resolve())
    new = gallery.images.upload(admin, "new.png", png(120, 90, (200, 20, 20)), "Brand new", None)
    outcome = live.rebuild()
    assert outcome.state is not None, outcome.error
    assert outcome.state.rendered == 1
    after = fingerprints(live.generations.site.resolve())
    own = set(after) - set(before)  # the new image's page, original and renditions
    assert f"images/{new.id}/index.html" in own
    assert {p.split("/")[0] for p in own} == {"images", "originals", "r"}
    assert set(outcome.state.written) == own | INDEX_FILES
    changed = {p for p in before if after[p] != before[p]}
    assert changed == INDEX_FILES
    assert outcome.state.removed == ()
    assert "Brand new" in served(live)


def test_a_rename_renders_nothing_and_a_delete_takes_its_files_away(
    live: LiveSite, gallery: Gallery, seed: Seed, uploaded: dict[str, ImageInfo]
) -> None:
    admin = as_principal(seed.users["admin"])
    logo = uploaded["logo"]
    gallery.images.update_info(admin, Scope.TENANT, logo.resource_key, InfoChange(title="Logo, renamed"))
    renamed = live.rebuild()
    assert renamed.state is not None
    assert renamed.state.rendered == 0
    assert not [w for w in renamed.state.written if w.startswith(("r/", "originals/"))]
    assert f"images/{logo.id}/index.html" in renamed.state.written
    assert "Logo, renamed" in served(live)

    before = fingerprints(live.generations.site.resolve())
    gallery.images.delete(admin, Scope.TENANT, logo.resource_key, force=True)
    deleted = live.rebuild()
    assert deleted.state is not None
    assert f"images/{logo.id}/index.html" in deleted.state.removed
    assert not (live.generations.site / "images" / logo.id).exists()
    assert set(deleted.state.written) == INDEX_FILES
    gone = set(before) - set(fingerprints(live.generations.site.resolve()))
    assert gone == set(deleted.state.removed)


def test_a_build_from_memory_makes_the_site_a_build_from_nothing_makes(
    live: LiveSite, gallery: Gallery, seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each kind of change the living site rebuilds from what it remembers (reading only the changed rows
    from the catalog's change log, never the whole catalog), and serves exactly what `gallery build` makes from
    nothing in another folder: same files, same bytes; its cache holds what the site uses, no more."""
    from gallery.services.site_source import SiteSource

    admin, sysadmin = as_principal(seed.users["admin"]), as_principal(seed.users["sysadmin"])
    other = as_principal(seed.users["other"])
    full_reads: list[object] = []
    reading = SiteSource.candidates

    def counted(self: SiteSource, selection: object) -> object:
        full_reads.append(selection)
        return reading(self, selection)  # type: ignore[arg-type]

    monkeypatch.setattr(SiteSource, "candidates", counted)
    images = gallery.images
    unreadable: dict[str, bytes] = {}

    def flaky_upload() -> None:
        made = images.upload(admin, "flaky.png", png(33, 22, (1, 2, 3)), "Flaky", None)
        blob = gallery.settings.data_dir / "blobs" / made.etag[:2] / made.etag[2:4] / made.etag
        unreadable[made.etag] = blob.read_bytes()
        blob.unlink()  # its rendering fails: the site goes on without it

    def bytes_back_and_another_change() -> None:
        for etag, data in unreadable.items():
            (gallery.settings.data_dir / "blobs" / etag[:2] / etag[2:4] / etag).write_bytes(data)
        images.update_info(admin, Scope.TENANT, "photo.jpg", InfoChange(title="Photo, renamed"))

    def texts(who: Principal, scope: Scope, key: str, **change: Any) -> Callable[[], object]:
        return lambda: images.update_info(who, scope, key, InfoChange(**change))

    changes: list[tuple[str, Callable[[], object]]] = [
        ("upload", lambda: images.upload(admin, "new.png", png(90, 60, (200, 20, 20)), "New one", None)),
        (
            "alt text, a description and tags",
            texts(admin, Scope.TENANT, "logo.png", alt_text="Green", description="Our\n\nlogo", tags=("brand", "g")),
        ),
        ("a second image with a tag", texts(admin, Scope.TENANT, "photo.jpg", tags=("g", "café"))),
        ("a tag taken away: its page goes", texts(admin, Scope.TENANT, "logo.png", tags=("g",))),
        ("a system image tagged", texts(sysadmin, Scope.SYSTEM, "system.png", tags=("g", "sys"))),
        ("the alt text cleared: the title again", texts(admin, Scope.TENANT, "logo.png", alt_text="")),
        ("rename", lambda: images.update_info(admin, Scope.TENANT, "new.png", InfoChange(title="New one, renamed"))),
        ("system image under a tenant key", lambda: images.upload(sysadmin, "new.png", png(70, 50), "Sys", None)),
        ("the tenant image that shadows it deleted", lambda: images.delete(admin, Scope.TENANT, "new.png", True)),
        ("made private", lambda: images.set_public(admin, Scope.TENANT, "logo.png", False)),
        ("made public", lambda: images.set_public(admin, Scope.TENANT, "private.png", True)),
        ("new bytes in place", lambda: images.update_bytes(admin, Scope.TENANT, "photo.jpg", "p.png", png(64, 48))),
        (
            "a system image renamed",
            lambda: images.update_info(sysadmin, Scope.SYSTEM, "system.png", InfoChange(title="System, renamed")),
        ),
        ("a tenant image over a system image's key", lambda: images.upload(admin, "system.png", png(5, 5), "M", None)),
        ("another tenant's upload", lambda: images.upload(other, "b.png", png(9, 9), "B", None)),
        ("deleted", lambda: images.delete(admin, Scope.TENANT, "spinner.gif", True)),
        ("an upload whose bytes cannot be read", flaky_upload),
        ("its bytes back and another image renamed: it is tried again", bytes_back_and_another_change),
    ]
    cache = tmp_path / "cache"  # the living site's
    for what, change in changes:
        change()
        outcome = live.rebuild()
        assert outcome.state is not None, (what, outcome.error)
        assert live.memory.dirty is not None, what  # it went by its memory
        failed = same_as_built_from_nothing(live, tmp_path, what).failures
        assert [i.title for i, _ in outcome.state.failures] == [i.title for i, _ in failed], what
        used = {p.name for p in site_files(live.generations.site.resolve()) if p.parent.name == "r"}
        assert {p.name for p in (cache / "r").iterdir()} == used, what  # nothing the site no longer uses
    assert full_reads == [request_selection(live)] * len(changes)  # the fresh builds' reads, the living site none
    assert "Flaky" in served(live)
    assert "café" in served(live, "tags/index.html")
    assert not (live.generations.site / "tags" / "brand").exists()  # went with the tag
    # What every page is made with changed (here the site's name; templates and code count the same): a build from
    # memory looks at every page again.
    live.builder = with_options(live.builder, site_name="Our pictures")
    outcome = live.rebuild()
    assert outcome.state is not None, outcome.error
    assert live.memory.dirty is not None
    same_as_built_from_nothing(live, tmp_path, "renamed site")
    assert "Our pictures" in served(live, f"images/{next(iter(live.memory.items))}/index.html")


def test_after_a_failed_build_or_another_process_build_the_memory_is_not_trusted(
    live: LiveSite, gallery: Gallery, seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that failed part-way (its new image's files never placed) and a build by another process (which
    swapped in a site this one did not make) each leave the site other than the memory says: the next build reads
    everything again, and the site is what a build from nothing makes."""
    from gallery.site import builder as builder_module

    admin = as_principal(seed.users["admin"])
    gallery.images.upload(admin, "late.png", png(44, 33, (5, 200, 5)), "Placed late", None)
    with monkeypatch.context() as patched:

        def refused(target: Path, source: Path) -> None:
            raise OSError(28, "No space left on device")

        patched.setattr(builder_module, "_place", refused)
        assert live.rebuild().state is None
    gallery.images.update_info(admin, Scope.TENANT, "logo.png", InfoChange(title="Logo, again"))
    assert live.rebuild().state is not None
    assert live.memory.dirty is None  # read everything
    same_as_built_from_nothing(live, tmp_path, "after a failed build")

    other = LiveSite(live.generations.site, live.builder, live.change_count)
    gallery.images.upload(admin, "elsewhere.png", png(20, 20), "Built by the other", None)
    assert other.rebuild().state is not None
    gallery.images.delete(admin, Scope.TENANT, "elsewhere.png", force=True)
    assert live.rebuild().state is not None
    assert live.memory.dirty is None
    same_as_built_from_nothing(live, tmp_path, "after another process built")
    gallery.images.update_info(admin, Scope.TENANT, "logo.png", InfoChange(title="Logo, once more"))
    assert live.rebuild().state is not None
    assert live.memory.dirty is not None  # its own site again: by memory
    same_as_built_from_nothing(live, tmp_path, "by memory again")


def test_tag_changes_on_paged_lists_make_what_a_build_from_nothing_makes(
    live: LiveSite, gallery: Gallery, seed: Seed, tmp_path: Path
) -> None:
    """Tags' pages are paged like the index, in blocks from the oldest: adding and taking tags from memory moves
    cards between blocks, pages come and go, and the site stays what a build from nothing makes."""
    admin = as_principal(seed.users["admin"])
    images = gallery.images
    live.builder = with_options(live.builder, page_size=2)
    tagged = ["photo.jpg", "logo.png", "spinner.gif", "icon.svg"]
    for n, key in enumerate(tagged):
        images.update_info(admin, Scope.TENANT, key, InfoChange(tags=("all", f"n{n % 2}")))
        outcome = live.rebuild()
        assert outcome.state is not None, outcome.error
        same_as_built_from_nothing(live, tmp_path, f"tagged {key}")
    assert (live.generations.site / "tags" / "all" / "page" / "1" / "index.html").is_file()
    for key in tagged[:3]:
        images.update_info(admin, Scope.TENANT, key, InfoChange(tags=()))
        outcome = live.rebuild()
        assert outcome.state is not None, outcome.error
        assert live.memory.dirty is not None
        same_as_built_from_nothing(live, tmp_path, f"untagged {key}")
    assert not (live.generations.site / "tags" / "all" / "page").exists()
    assert not (live.generations.site / "tags" / "n0").exists()
    images.delete(admin, Scope.TENANT, "icon.svg", force=True)  # the last tagged image
    outcome = live.rebuild()
    assert outcome.state is not None, outcome.error
    assert {p for p in outcome.state.removed if p.startswith("tags/")} == {
        "tags/all/index.html",
        "tags/n1/index.html",
    }
    same_as_built_from_nothing(live, tmp_path, "no tags left")
    assert "No image carries a tag yet." in served(live, "tags/index.html")


def test_an_upload_rewrites_a_few_list_files_however_many_pages_there_are(
    live: LiveSite, gallery: Gallery, seed: Seed, tmp_path: Path
) -> None:
    """A page names its neighbours and the ends, never every page, and the search index is cut in shards of blocks:
    an upload rewrites the first page, at most the two pages beside a block that gets a page of its own, and the
    newest shard; never every page (with one card a page, every upload adds one)."""
    admin = as_principal(seed.users["admin"])
    live.builder = with_options(live.builder, page_size=1)
    assert live.rebuild().state is not None
    for n in range(14):
        gallery.images.upload(admin, f"n{n}.png", png(20 + n, 20), f"Number {n}", None)
        outcome = live.rebuild()
        assert outcome.state is not None, outcome.error
        lists = {p for p in outcome.state.written if not p.startswith(("images/", "r/", "originals/"))}
        pages = {p for p in lists if p.startswith("page/")}
        assert len(pages) <= 2, pages
        head = json.loads(served(live, "gallery.json"))
        assert lists - pages <= {"index.html", "gallery-version.json", "gallery.json", head["shards"][0]}, lists
    assert len(list((live.generations.site / "page").iterdir())) >= 14
    assert len(json.loads(served(live, "gallery.json"))["shards"]) == 2
    same_as_built_from_nothing(live, tmp_path, "fourteen uploads")


def with_options(builder: SiteBuilder, **changed: object) -> SiteBuilder:
    """The same builder with other options (`page_size=2`: a handful of images make several pages)."""
    options = replace(builder.options, **changed)  # type: ignore[arg-type]
    return SiteBuilder(builder.source, builder.blobs, options, builder.templates, builder.cache.root)


@pytest.mark.parametrize("who", ["this process", "another process"])
def test_what_a_failed_build_wrote_into_shared_index_pages_does_not_outlive_it(
    live: LiveSite, gallery: Gallery, seed: Seed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    """The index's pages after the first are shared by every generation, so a build that fails after writing them
    has already changed them. Undone, a change brings back the very cards (and fingerprint) the page had before: the
    next build, whichever process makes it, renders every index page again rather than trust it, so a title from
    the failed build, or the card of an image made private again, does not stay."""
    from gallery.site import builder as builder_module

    admin = as_principal(seed.users["admin"])
    images = gallery.images
    live.builder = with_options(live.builder, page_size=2)
    for n in range(3):  # private.png's block off the first page
        images.upload(admin, f"pad-{n}.png", png(11 + n, 11), f"Pad {n}", None)
    assert live.rebuild().state is not None
    builder = live if who == "this process" else LiveSite(live.generations.site, live.builder, live.change_count)
    images.update_info(admin, Scope.TENANT, "photo.jpg", InfoChange(title="Renamed in a failed build"))
    images.set_public(admin, Scope.TENANT, "private.png", True)
    with monkeypatch.context() as patched:

        def refused(target: Path, source: Path) -> None:
            raise OSError(28, "No space left on device")

        patched.setattr(builder_module, "_place", refused)
        assert builder.rebuild().state is None
    index_pages = [p for p in site_files(live.generations.site.resolve()) if "page" in p.parts]
    assert any("Renamed in a failed build" in p.read_text() for p in index_pages)  # shared: served already
    images.update_info(admin, Scope.TENANT, "photo.jpg", InfoChange(title="Sunset & <sea>"))  # undone
    images.set_public(admin, Scope.TENANT, "private.png", False)
    outcome = live.rebuild()
    assert outcome.state is not None, outcome.error
    same_as_built_from_nothing(live, tmp_path, "undone")
    served = live.generations.site.resolve()
    shown = [p for p in site_files(served) if p.suffix == ".html"]
    assert not [p for p in shown if "Private one" in p.read_text() or "Renamed in a failed" in p.read_text()]
    assert len(outcome.state.removed) == len(set(outcome.state.removed))  # each file once
    assert not live.generations.unfinished.exists()


def same_as_built_from_nothing(live: LiveSite, tmp_path: Path, name: str) -> SiteState:
    """`gallery build` of the living site's catalog and options into a folder and cache of its own: the living site
    must serve the very same files, byte for byte."""
    fresh = tmp_path / "fresh" / name
    builder = live.builder
    state = SiteBuilder(
        builder.source, builder.blobs, builder.options, builder.templates, tmp_path / "fresh-cache"
    ).build(fresh)
    assert fingerprints(live.generations.site.resolve()) == fingerprints(fresh), name
    return state


def request_selection(live: LiveSite) -> object:
    assert live.memory.frame is not None
    return live.memory.frame.selection


def test_a_rebuild_with_no_change_writes_nothing(live: LiveSite) -> None:
    outcome = live.rebuild()
    assert outcome.state is not None
    assert (outcome.state.written, outcome.state.removed, outcome.state.rendered) == ((), (), 0)


def test_the_generation_being_served_is_never_written_through(live: LiveSite, gallery: Gallery, seed: Seed) -> None:
    """The new generation shares files with the old one by hard links, and the per-image folders with every
    generation: every write must be a new file, so no file a visitor may be reading changes under them. The old
    generation's own files (the index, gallery.json) stay exactly as they were; in the shared folders a changed page
    is a new file renamed over the old one, and nothing the old index links to goes before the swap."""
    old = live.generations.site.resolve()
    own = [p for p in site_files(old) if p.relative_to(old).parts[0] not in SHARED]
    before = {p: (p.stat().st_ino, p.read_bytes()) for p in own}
    shared_before = {p: (p.stat().st_ino, p.read_bytes()) for p in site_files(old) if p not in before}
    admin = as_principal(seed.users["admin"])
    gallery.images.upload(admin, "another.png", png(60, 40), "Another", None)
    gallery.images.update_info(admin, Scope.TENANT, "logo.png", InfoChange(title="Logo again"))
    outcome = live.rebuild()
    assert outcome.state is not None
    assert outcome.state.written
    assert live.generations.site.resolve() != old
    assert {p: (p.stat().st_ino, p.read_bytes()) for p in own} == before  # not even rewritten (a write is a new inode)
    renamed_in = 0
    for path, (inode, content) in shared_before.items():
        assert path.exists(), path  # nothing the old generation shows is gone (nothing was deleted)
        if path.stat().st_ino == inode:
            assert path.read_bytes() == content, path  # the same file: never written through
        else:
            renamed_in += 1
    assert renamed_in == 1  # the renamed image's page, a new file in its place


def test_a_failed_build_leaves_the_site_as_it_was(live: LiveSite, tmp_path: Path) -> None:
    current = live.generations.site.resolve()
    before = fingerprints(current)
    broken = tmp_path / "broken-theme" / "gallery"
    broken.mkdir(parents=True)
    (broken / "index.html").write_text("{% if %}")  # a template that does not compile
    live.builder = SiteBuilder(
        live.builder.source, live.builder.blobs, live.builder.options, Templates(broken.parent), live.builder.cache.root
    )
    outcome = live.rebuild()
    assert outcome.state is None
    assert outcome.error
    assert "Could not update the static gallery" in outcome.describe()
    assert live.generations.site.resolve() == current
    assert fingerprints(current) == before
    assert sorted(p.name for p in live.generations.root.iterdir() if not p.name.startswith(".")) == [current.name]


def test_pages_a_failed_build_left_in_the_shared_folders_go_when_their_image_does(
    live: LiveSite, gallery: Gallery, seed: Seed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that fails after writing an image's page (into the folder every generation shares) leaves a page no
    fingerprint lists; if that image then goes private, the next build must still take its page away."""
    from gallery.site import builder as builder_module

    admin = as_principal(seed.users["admin"])
    secret = gallery.images.upload(admin, "plan.png", png(50, 40, (9, 9, 9)), "Soon private", None)

    def broken(self: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr(builder_module._Manifest, "save", broken)
        assert live.rebuild().state is None  # failed after the page was written
    page = live.generations.site / "images" / secret.id / "index.html"
    assert page.is_file()  # shared: the served generation shows it already (its image was public then)
    gallery.images.set_public(admin, Scope.TENANT, "plan.png", False)
    outcome = live.rebuild()
    assert outcome.state is not None, outcome.error
    assert not page.exists()
    assert f"images/{secret.id}/index.html" in outcome.state.removed


def test_a_visitor_never_finds_a_half_built_site(live: LiveSite, gallery: Gallery, seed: Seed) -> None:
    """Rebuilds swap generations while a reader keeps opening the index and an image page through the link."""
    admin = as_principal(seed.users["admin"])
    misses: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            root = live.generations.site.resolve()  # as `gallery serve` does, once per request
            for relative in ("index.html", "gallery.json", "manage/index.html"):
                try:
                    data = (root / relative).read_bytes()
                except OSError as exc:
                    misses.append(f"{relative}: {exc}")
                    continue
                if not data:
                    misses.append(f"{relative}: empty")

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(6):
            gallery.images.upload(admin, f"burst-{n}.png", png(30 + n, 20), f"Burst {n}", None)
            outcome = live.rebuild()
            assert outcome.state is not None, outcome.error
    finally:
        done.set()
        reader.join()
    assert misses == []
    assert "Burst 5" in served(live)
    generations = [p for p in live.generations.root.iterdir() if p.name.isdigit()]
    assert len(generations) == 2  # the one served and the one before it


def test_a_site_built_by_hand_is_adopted_as_it_is(tmp_path: Path, env: dict[str, str], seed: Seed) -> None:
    out = tmp_path / "plain" / "site"
    code, output = build(out, "--tenant", seed.tenants["A"].name)
    assert code == 0, output
    before = fingerprints(out)
    generations = Generations(out)
    # what a living site that used this folder before left beside it: not this site's
    stray = generations.shared / "images" / "gone" / "index.html"
    stray.parent.mkdir(parents=True)
    stray.write_text("an older site's page")
    generations.adopt()
    assert out.is_symlink()
    assert fingerprints(out.resolve()) == before
    fresh = generations.prepare()  # the first rebuild's generation: the adopted folders become the shared ones
    assert fingerprints(fresh) == before
    assert not (fresh / "images" / "gone").exists()


def test_changes_from_any_process_start_one_debounced_build(
    live: LiveSite, gallery: Gallery, seed: Seed, env: dict[str, str]
) -> None:
    """The loop notices a change made by another process (the catalog's change count), waits for the burst to
    end, and builds once for all of it."""
    live.quiet, live.poll, live.patience = 0.3, 0.05, 5.0
    stop = threading.Event()
    live.built_for = live.change_count()
    builds = live.builds
    thread = threading.Thread(target=live.run, args=(stop,))
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while live.builds == builds and time.monotonic() < deadline:  # the build at start
            time.sleep(0.05)
        builds = live.builds
        script = (
            "import sys\n"
            "from gallery.demo import as_principal\n"
            "from gallery.wiring import Gallery\n"
            "from tests.helpers import png\n"
            "g = Gallery.open()\n"
            "admin = g.accounts.get_user(sys.argv[1])\n"
            "for n in range(3):\n"
            "    g.images.upload(as_principal(admin), f'other-{n}.png', png(50 + n, 20), f'From elsewhere {n}', None)\n"
        )
        subprocess.run(
            [sys.executable, "-c", script, seed.users["admin"].id],
            check=True,
            env={**os.environ, **env},
            cwd=Path(__file__).resolve().parent.parent,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while "From elsewhere 2" not in served(live) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert "From elsewhere 2" in served(live)
    assert live.builds - builds == 1


def test_the_packaged_management_page_is_the_built_one(tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "site"
    code, output = build(out)
    assert code == 0, output
    assert manage_page() == (out / "manage" / "index.html").read_bytes()


def upload(url: str, token: str, name: str, title: str) -> None:
    boundary = "gallery-test-boundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\n{title}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + png(80, 60, (30, 160, 90))
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}/api/image",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "X-Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def test_gallery_serve_keeps_the_gallery_current_with_no_build_step(tmp_path: Path) -> None:
    """What a newcomer's `make serve` does: from a folder that is not the repository, `/manage/` answers at once,
    `/` is built in the background, and an upload shows on `/` without anyone running anything. The terminal shows
    what the gallery did, not MkDocs' internals."""
    folder = tmp_path / "somewhere"
    folder.mkdir()
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(folder / "site")}
    with live_server(tmp_path / "data", extra, args=("--demo",), cwd=folder, rebuild=True) as live:
        with urllib.request.urlopen(f"{live.url}/manage/") as response:
            assert "Sign in to manage images" in response.read().decode()
            assert "default-src" in response.headers["Content-Security-Policy"]
        wait_for(f"{live.url}/", 'class="card')
        token = sign_in(live.url, "tenant@thingsboard.org", "tenant")
        upload(live.url, token, "fresh.png", "Fresh from the API")
        index = wait_for(f"{live.url}/", "Fresh from the API")
        assert ">Logo<" in index  # the demo's, still there
        output = live.wait_for_output("Static gallery updated")
    assert (folder / "site").is_symlink()
    for noise in ("dirty", "Building documentation", "Documentation built", "Traceback", "DEBUG"):
        assert noise not in output, output
    lines = output.splitlines()
    assert len(lines) == len(set(lines)), output  # nothing said twice


def processes_of(data_dir: Path) -> list[int]:
    """The processes whose environment names `data_dir`: a server's, and every process it started."""
    marker = f"GALLERY_DATA_DIR={data_dir}\0".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass  # gone meanwhile, or not ours to read
    return found


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["stopped", "killed"])
def test_the_render_processes_end_with_the_server(tmp_path: Path, how: signal.Signals) -> None:
    """The living site's render pool outlives each build, not the server: its workers, waiting for their next
    image, would never learn of a killed server by themselves (and keep their forkserver alive with them)."""
    data = tmp_path / "data"
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(tmp_path / "site")}
    with live_server(data, extra, args=("--demo",), cwd=tmp_path, rebuild=True) as live:
        live.wait_for_output("Static gallery updated")
        started = processes_of(data)
        assert len(started) >= 3, started  # the server, the forkserver, its render workers
        os.kill(live.pid, how)
    # Out of `live_server`, the server has been waited for (a process not yet reaped still counts as alive).
    deadline = time.monotonic() + 15
    while (left := processes_of(data)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"still running after the server ended: {left}"


def test_gallery_serve_without_a_site_still_manages(tmp_path: Path) -> None:
    """`--no-rebuild` and no site at all: `/manage/` and its assets come from the package; `/` is a 404."""
    extra = {"GALLERY_JWT_SECRET": JWT_SECRET, "GALLERY_SITE_DIR": str(tmp_path / "nothing")}
    with live_server(tmp_path / "data", extra) as live:
        with urllib.request.urlopen(f"{live.url}/manage/") as response:
            assert b'id="manage"' in response.read()
        with urllib.request.urlopen(f"{live.url}/assets/manage/app.js") as response:
            assert response.headers["Content-Type"].startswith("text/javascript")
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(f"{live.url}/")
        missing.value.close()
        assert missing.value.code == 404
        with pytest.raises(urllib.error.HTTPError) as template:
            urllib.request.urlopen(f"{live.url}/main.html")  # the shell is the page and its assets, not the theme
        template.value.close()
        assert template.value.code == 404
    assert not (tmp_path / "nothing").exists()
