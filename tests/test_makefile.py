"""`make` where a tool is missing: as a user without root and without sudo it says what to install and stops,
rather than fail on a `sudo` that is not there (a fresh machine as root, or with sudo, installs it from Debian)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_a_missing_tool_without_root_or_sudo_is_named(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("make", "sh"):
        found = shutil.which(tool)
        assert found
        os.symlink(found, bin_dir / tool)
    fake_id = bin_dir / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n")  # an ordinary user
    fake_id.chmod(0o755)
    missing = tmp_path / "nowhere" / "chromium"
    done = subprocess.run(
        [str(bin_dir / "make"), "-s", f"CHROMIUM={missing}", str(missing)],
        cwd=ROOT,
        env={"PATH": str(bin_dir), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert "make needs: chromium. Install it (Debian: apt-get install chromium), then run make again." in done.stderr
    assert "sudo" not in done.stderr
