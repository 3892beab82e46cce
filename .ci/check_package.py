"""Checks a Lambda zip built by `zappa package`: the entry point and settings are in, tests are out, and it fits
Lambda's limits (50 MB zipped for a direct upload, 250 MB unzipped). Prints its size."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
REQUIRED = (
    "functions/api.py",
    "gallery/app.py",
    "zappa_settings.py",
    "handler.py",
    "PIL/Image.py",
    "boto3/__init__.py",
)


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
    if problems:
        sys.exit("; ".join(problems))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
