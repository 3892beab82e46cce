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

# The publisher builds the site with MkDocs, the theme and the plugin (found by their entry points), in the zip.
PUBLISHER_REQUIRED = (
    "functions/publisher.py",
    "gallery/site/publisher.py",
    "gallery/site/theme/manage.html",
    "gallery/site/default/mkdocs.yml",
    "mkdocs/__init__.py",
    "zappa_settings.py",
    "handler.py",
    "boto3/__init__.py",
)
PUBLISHER_COLD_START = """
import sys
sys.path.insert(0, sys.argv[1])
import handler, zappa_settings
from functions.publisher import on_stream, reconcile
assert "functions.publisher.on_stream" in str(zappa_settings.AWS_EVENT_MAPPING)
from mkdocs.plugins import get_plugins
from mkdocs.theme import Theme
assert "gallery" in get_plugins()
Theme(name="gallery")
print("publisher cold start ok")
"""


def main(path: Path, publisher: bool = False) -> None:
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
        settings = archive.read("zappa_settings.py").decode()
    missing = [name for name in (PUBLISHER_REQUIRED if publisher else REQUIRED) if name not in names]
    leaked = sorted(
        {name.split("/")[0] for name in names if name.startswith(("tests/", ".venv", "benchmarks/", "node_modules/"))}
    )
    zipped = path.stat().st_size
    print(f"{path}: {zipped / 2**20:.1f} MiB zipped, {unzipped / 2**20:.1f} MiB unzipped, {len(names)} files")
    problems = []
    if missing:
        problems.append(f"missing {missing}")
    if leaked:
        problems.append(f"should be excluded: {leaked}")
    if publisher:
        if "APP_MODULE='functions.publisher'" not in settings:
            problems.append("zappa_settings.py does not name functions.publisher")
    elif "APP_MODULE='functions.api'" not in settings or "BINARY_SUPPORT=True" not in settings:
        problems.append("zappa_settings.py does not name functions.api with binary support")
    if zipped > ZIPPED_LIMIT or unzipped > UNZIPPED_LIMIT:
        problems.append("too large for Lambda")
    if not problems:
        problems += _cold_start(path, PUBLISHER_COLD_START if publisher else COLD_START)
    if problems:
        sys.exit("; ".join(problems))


def _cold_start(path: Path, script: str) -> list[str]:
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
            [sys.executable, "-S", "-c", script, unpacked], env=env, capture_output=True, text=True, check=False
        )
    if done.returncode != 0:
        return [f"the package does not start: {done.stderr.strip().splitlines()[-1:]}"]
    print(done.stdout.strip())
    return []


if __name__ == "__main__":
    arguments = sys.argv[1:]
    main(Path(arguments[-1]), publisher="--publisher" in arguments)
