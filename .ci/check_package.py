"""Checks a Lambda zip built by `zappa package`: the entry point and settings are in, tests are out, it fits
Lambda's limits (50 MB zipped for a direct upload, 250 MB unzipped), and — unpacked, with nothing else on the path —
it imports Zappa's handler and builds the app, as a Lambda cold start would. Prints its size."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
REQUIRED = (
    "functions/api.py",
    "gallery/web/app.py",
    "gallery/storage/local/schema.sql",  # package data: a wheel without it cannot open the local backend
    "zappa_settings.py",
    "handler.py",
    "PIL/Image.py",
    "boto3/__init__.py",
    "botocore/docs/__init__.py",  # imported by botocore at start-up: an exclude named `docs` would drop it
)

COLD_START = """
import sys
sys.path.insert(0, sys.argv[1])
import handler, zappa_settings
from functions.api import app, lambda_handler
assert app.name and callable(lambda_handler)
import boto3, PIL.Image, flask
print("cold start ok")
"""


def main(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
        settings = archive.read("zappa_settings.py").decode()
    missing = [name for name in REQUIRED if name not in names]
    leaked = sorted({name.split("/")[0] for name in names if name.startswith(("tests/", ".venv", "benchmarks/"))})
    zipped = path.stat().st_size
    print(f"{path}: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped, {len(names)} files")
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if leaked:
        problems.append(f"should be excluded: {leaked}")
    if "APP_MODULE='functions.api'" not in settings or "BINARY_SUPPORT=True" not in settings:
        problems.append("zappa_settings.py does not name functions.api with binary support")
    if zipped > ZIPPED_LIMIT or unzipped > UNZIPPED_LIMIT:
        problems.append("too large for Lambda")
    if not problems:
        problems += _cold_start(path)
    if problems:
        sys.exit("; ".join(problems))


def _cold_start(path: Path) -> list[str]:
    """Import the app from the unpacked zip alone (`-S`: no site-packages, so a missing module cannot hide)."""
    with tempfile.TemporaryDirectory() as unpacked, zipfile.ZipFile(path) as archive:
        archive.extractall(unpacked)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GALLERY_BACKEND": "local",
            "GALLERY_DATA_DIR": str(Path(unpacked) / "data"),
            "GALLERY_JWT_SECRET": "cold-start-check-secret-of-32-bytes!",
        }
        done = subprocess.run(
            [sys.executable, "-S", "-c", COLD_START, unpacked], env=env, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        return [f"the package does not start: {done.stderr.strip().splitlines()[-1:]}"]
    print(done.stdout.strip())
    return []


if __name__ == "__main__":
    main(Path(sys.argv[1]))
