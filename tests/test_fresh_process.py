"""The product as a new shell meets it: every module imported alone in a fresh interpreter, and every `gallery`
subcommand run as a subprocess of the installed console script from a directory that is not the repository, with
none of the test process's imports, settings or working directory to lean on.

(An import cycle once passed every in-process test, because the test process had imported the app first.)
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import click
import pytest

from gallery.cli import main
from tests.live import free_port, wait_for, wait_for_line, wait_until_up
from tests.moto_http import moto_subprocess
from tests.storage_fixtures import AWS_ENV, aws_session

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / "gallery"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _modules() -> list[str]:
    found = []
    for package in ("gallery", "functions", "deploy"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__":  # runs the command; `python -m gallery` is checked below
                continue
            found.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return found


MODULES = _modules()


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


COMMANDS = dict(_commands(main))


def _clean_env(home: Path, **extra: str) -> dict[str, str]:
    """What a new shell has: a PATH and a HOME, none of this process's GALLERY_*, AWS_* or PYTHONPATH."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8", **extra}


@pytest.fixture(scope="module")
def imported_alone(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """`python -W error -c 'import M'` for every module, a few at a time, each in an empty directory."""
    work = tmp_path_factory.mktemp("imports")

    def run(module: str) -> subprocess.CompletedProcess[str]:
        # `functions` is the Lambda package's top level: there the project root is the path, as in the zip; `deploy`
        # runs from the checkout (`python -m deploy`), its root the path too.
        path = {"PYTHONPATH": str(ROOT)} if module.startswith(("functions", "deploy")) else {}
        env = _clean_env(work, GALLERY_DATA_DIR=str(work / module), **path)
        return subprocess.run(
            [sys.executable, "-W", "error", "-c", f"import {module}"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    with ThreadPoolExecutor(4) as pool:
        return dict(zip(MODULES, pool.map(run, MODULES), strict=True))


def test_every_module_is_found() -> None:
    assert {
        "gallery.cli",
        "gallery.domain.serving",
        "gallery.site.sync",
        "gallery.publisher",
        "gallery.site.plugin",
        "gallery.web.site",
        "functions.api",
    } <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone_in_a_fresh_interpreter(
    imported_alone: dict[str, subprocess.CompletedProcess[str]], module: str
) -> None:
    done = imported_alone[module]
    assert done.returncode == 0, f"import {module} failed:\n{done.stderr}"


def test_every_packaged_file_is_declared_as_package_data() -> None:
    """A file the package reads at run time but does not declare works from the checkout and is missing from a
    wheel (and from `pip install image-gallery`)."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["gallery"]
    package = ROOT / "gallery"
    files = [p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file()]
    data = [f for f in files if not f.endswith((".py", ".pyc")) and "__pycache__" not in f]
    undeclared = [f for f in data if not any(fnmatch.fnmatch(f, pattern) for pattern in patterns)]
    assert "site/theme/gallery/image.html" in data
    assert undeclared == []


# --- the console script ---------------------------------------------------------------------------------------


@pytest.fixture
def shell(tmp_path: Path) -> Path:
    """A directory far from the repository, the way a user's shell starts."""
    home = tmp_path / "home"
    home.mkdir()
    assert not (home / "site").exists()
    return home


def gallery(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env=env or _clean_env(cwd),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done.stdout


def test_every_command_is_found() -> None:
    assert {("serve",), ("build",), ("publish",), ("provision",), ("gc",), ("tenants", "list")} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_of_every_command(shell: Path, command: tuple[str, ...]) -> None:
    out = ok(gallery(shell, *command, "--help"))
    assert out.startswith(f"Usage: gallery {' '.join(command)}")
    opening = " ".join((COMMANDS[command].help or "").split()[:4])  # click rewraps the rest
    assert opening
    assert opening in " ".join(out.split())


def test_python_dash_m_gallery(shell: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gallery", "--help"],
        cwd=shell,
        env=_clean_env(shell),
        capture_output=True,
        text=True,
        check=False,
    )
    assert "Usage: python -m gallery" in ok(done)


def test_tenants_users_build_and_gc_on_the_embedded_default(shell: Path) -> None:
    tenant_id = ok(gallery(shell, "tenants", "create", "Acme", "--max-resource-size", "5000")).strip()
    assert UUID.match(tenant_id)
    assert f"{tenant_id}\t0\tAcme" in ok(gallery(shell, "tenants", "list"))
    user = ok(gallery(shell, "users", "create", "a@acme.example", "--password", "pw123456", "--role", "TENANT_ADMIN",
                      "--tenant", "Acme"))  # fmt: skip
    assert UUID.match(user.strip())
    built = ok(gallery(shell, "build", "--tenant", "Acme", "--out", "site"))
    assert "0 image(s)" in built
    assert (shell / "site" / "index.html").is_file()
    assert (shell / "site" / "manage" / "index.html").is_file()
    # the default data folder: the user's (under HOME, here the shell's folder), never the one the command ran in
    assert (shell / ".local" / "share" / "image-gallery" / "catalog.sqlite3").is_file()
    assert sorted(p.name for p in shell.iterdir()) == [".local", "site"]  # and `site` only because --out asked
    assert ok(gallery(shell, "gc")).splitlines() == [
        "removed 0 unreferenced blob(s)",
        "removed 0 abandoned upload(s)",
        "removed 0 interrupted write(s)",
    ]


def test_a_mistake_is_one_line_without_a_traceback(shell: Path) -> None:
    done = gallery(shell, "users", "create", "x@y.z", "--password", "pw123456", "--role", "TENANT_ADMIN")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: ")
    assert "needs a tenant" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_serve_gives_the_api_the_management_page_and_the_gallery(shell: Path) -> None:
    port = free_port()
    log = shell / "serve.log"
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(port)],
            cwd=shell,
            env=_clean_env(shell),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/images/public/ready", process, "gallery serve", log)
        with urllib.request.urlopen(f"{url}/manage/") as response:
            assert response.headers["Content-Type"].startswith("text/html")
            assert b'id="manage"' in response.read()
        wait_for(f"{url}/", "Image Gallery")  # built in the background, from the package's own config
        wait_for_line(log, "Static gallery updated")  # said just after the new site is swapped in
    finally:
        process.terminate()
        process.wait(timeout=10)
    out = log.read_text()
    password = re.search(r"SYS_ADMIN\s+(\S+)\s+password: (\S+)", out)
    assert password, out
    assert "Traceback" not in out


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    """A moto server of its own (this pytest process also runs in-process `mock_aws` tests)."""
    with moto_subprocess() as url:
        yield url


def test_provision_then_publish_dry_run_against_moto(shell: Path, moto_url: str, tmp_path: Path) -> None:
    name = f"fresh-{tmp_path.name[-12:].lower().replace('_', '-')}"
    aws = {
        **AWS_ENV,
        "AWS_ENDPOINT_URL": moto_url,
        "GALLERY_BACKEND": "aws",
        "GALLERY_TABLE": name,
        "GALLERY_BUCKET": name,
        "GALLERY_JWT_SECRET": "fresh-shell-secret-of-at-least-32-bytes",
    }
    env = _clean_env(shell, **aws)
    lines = ok(gallery(shell, "provision", env=env)).splitlines()
    assert any(name in line for line in lines), lines
    assert "0 image(s)" in ok(gallery(shell, "build", "--out", "site", env=env))
    site_bucket = f"{name}-site"
    aws_session().client("s3", endpoint_url=moto_url).create_bucket(Bucket=site_bucket)
    out = ok(gallery(shell, "publish", "--bucket", site_bucket, "--site", "site", "--dry-run", env=env))
    assert "upload  index.html  (text/html; charset=utf-8; no-cache)" in out
    assert out.strip().splitlines()[-1].startswith("would upload ")
    listing = aws_session().client("s3", endpoint_url=moto_url).list_objects_v2(Bucket=site_bucket)
    assert listing["KeyCount"] == 0, json.dumps(listing, default=str)  # a dry run writes nothing
