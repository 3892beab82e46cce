"""The embedded default's files: only the gallery's own user can read them (the catalog holds password hashes),
interrupted writes do not pile up, and opening the stores never endangers a database other processes are writing.
What `gallery export` writes is the operator's alone, and made where no planted link can redirect it."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

from click.testing import CliRunner

from gallery.cli import main
from gallery.config import Settings
from gallery.files import TEMPORARY_PREFIX
from gallery.wiring import Gallery
from tests import test_archive
from tests.conftest import JWT_SECRET
from tests.test_archive import Shell


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_folder_and_catalog_are_private(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    gallery = Gallery.open(Settings.from_env({}, data_dir=data))
    gallery.accounts.create_tenant("Acme")  # a write: the journal files exist now
    gallery.close()
    assert mode(data) == 0o700
    assert mode(data / "catalog.sqlite3") == 0o600
    assert mode(data / "jwt-secret") == 0o600
    for journal in data.glob("catalog.sqlite3-*"):
        assert mode(journal) & 0o077 == 0, journal


def test_an_older_open_data_folder_is_closed_on_open(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "catalog.sqlite3").touch(mode=0o644)
    data.chmod(0o755)
    Gallery.open(Settings.from_env({}, data_dir=data, jwt_secret=JWT_SECRET)).close()
    assert mode(data) == 0o700
    assert mode(data / "catalog.sqlite3") == 0o600


def test_gc_removes_interrupted_writes_and_leaves_fresh_ones(tmp_path: Path) -> None:
    data = tmp_path / "gc"
    Gallery.open(Settings.from_env({}, data_dir=data, jwt_secret=JWT_SECRET)).close()
    folders = [data / "blobs" / "ab" / "cd", data / "staging" / "0c5c8a5e-4a60-4c5c-9f0e-5d1b0a7e2f11"]
    old, fresh = [], []
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
        left = folder / f"{TEMPORARY_PREFIX}crashed"
        left.write_bytes(b"half a file")
        hour_ago = time.time() - 7200
        os.utime(left, (hour_ago, hour_ago))
        old.append(left)
        writing = folder / f"{TEMPORARY_PREFIX}writing"
        writing.write_bytes(b"in progress")
        fresh.append(writing)
    result = CliRunner().invoke(main, ["gc"], env={"GALLERY_DATA_DIR": str(data), "GALLERY_JWT_SECRET": JWT_SECRET})
    assert result.exit_code == 0, result.output
    assert "removed 2 interrupted write(s)" in result.output
    assert not any(path.exists() for path in old)
    assert all(path.exists() for path in fresh)


WRITER = """
import sys
from pathlib import Path
from gallery.config import Settings
from gallery.wiring import Gallery
gallery = Gallery.open(Settings.from_env({}, data_dir=Path(sys.argv[1]), jwt_secret="x" * 40))
for n in range(5):
    gallery.accounts.create_tenant(f"{sys.argv[2]} {n}")
gallery.close()
"""


def test_short_lived_processes_beside_a_long_lived_one_keep_the_database_whole(tmp_path: Path) -> None:
    """`gallery serve` writing while `gallery tenants create` and friends open, write and close, as in a real
    deployment. Opening a store must never open and close the database file itself: closing any descriptor of a
    file drops every POSIX lock the process holds on it, a short-lived process then takes itself for the last one
    and resets the write-ahead log under the long-lived one, and the database is corrupt within seconds (this
    test found it so, every time, when a store did that)."""
    data = tmp_path / "shared"
    server = Gallery.open(Settings.from_env({}, data_dir=data, jwt_secret=JWT_SECRET))
    stop, failures, written = threading.Event(), [], [0]

    def serve() -> None:
        while not stop.is_set():
            try:
                server.accounts.create_tenant(f"Server {written[0]}")
            except Exception as exc:  # any failure at all is the finding
                failures.append(repr(exc))
                return
            written[0] += 1

    thread = threading.Thread(target=serve)
    thread.start()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    for k in range(12):
        done = subprocess.run(
            [sys.executable, "-c", WRITER, str(data), f"Writer {k}"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            failures.append(done.stderr.strip().splitlines()[-1])
    stop.set()
    thread.join()
    server.close()
    conn = sqlite3.connect(data / "catalog.sqlite3")
    integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    writers = conn.execute("SELECT count(*) FROM tenants WHERE name LIKE 'Writer %'").fetchone()[0]
    conn.close()
    assert (integrity, failures) == ("ok", [])
    assert writers == 60
    assert written[0] > 0


# --- what `gallery export` writes ------------------------------------------------------------------------------------
source = test_archive.source  # a fixture: tenant Plant, with one of its images private


def test_export_never_writes_through_a_link_planted_at_its_temporary_name(source: Shell, tmp_path: Path) -> None:
    """The zip was written to `.<name>.partial`, a name anyone with the folder could predict, following a link
    planted there: the link's target (here the operator's own file) was overwritten with the tenant's images."""
    folder = tmp_path / "out"
    folder.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("the operator's notes")
    (folder / ".plant.zip.partial").symlink_to(victim)
    source("export", "--tenant", "Plant", "--out", str(folder / "plant.zip"))
    assert victim.read_text() == "the operator's notes"
    assert (folder / ".plant.zip.partial").is_symlink()  # left as it was, not used
    assert sorted(p.name for p in folder.iterdir()) == [".plant.zip.partial", "plant.zip"]


def test_the_exported_zip_is_the_operators_alone(source: Shell, tmp_path: Path) -> None:
    out = tmp_path / "plant.zip"
    before = os.umask(0o022)  # a usual umask, which the command inherits: files made with open() would be 0644
    try:
        source("export", "--tenant", "Plant", "--out", str(out))
    finally:
        os.umask(before)
    assert mode(out) == 0o600  # it holds private images
    with zipfile.ZipFile(out) as made:
        assert "images/" in made.namelist()[0]


def test_a_link_at_the_output_itself_is_replaced_not_followed(source: Shell, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "plant.zip"
    out.symlink_to(victim)
    source("export", "--tenant", "Plant", "--out", str(out))
    assert victim.read_text() == "keep me"
    assert not out.is_symlink()
    assert zipfile.is_zipfile(out)


def test_an_export_into_a_missing_folder_says_so_in_one_line(source: Shell, tmp_path: Path) -> None:
    done = source("export", "--tenant", "Plant", "--out", str(tmp_path / "nowhere" / "plant.zip"), check=1)
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert "cannot write beside" in done.stderr
    assert "Traceback" not in done.stderr
