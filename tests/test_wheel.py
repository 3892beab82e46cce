"""What a user installs: a wheel built by plain `pip wheel` from a clean export of the repository (no make, no npm),
installed without extras into a fresh virtual environment (no MkDocs), its `gallery` script started from an empty
folder. It carries everything the product serves — the API browser's Swagger UI included — and its licence."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import png
from tests.live import free_port, sign_in, wait_for

ROOT = Path(__file__).resolve().parent.parent
SWAGGER = "gallery/site/theme/assets/vendor/swagger-ui"
EMAIL, PASSWORD = "newcomer@example.com", "a-newcomers-password"


def test_the_sdist_carries_them_too(tmp_path: Path) -> None:
    """The source distribution (`python -m build --sdist`, as setuptools' backend makes it) from the same export."""
    source = _export(tmp_path)
    script = "import sys; from setuptools import build_meta; print(build_meta.build_sdist(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], cwd=source, check=True, capture_output=True, text=True
    )
    name = done.stdout.strip().splitlines()[-1]
    with tarfile.open(tmp_path / name) as sdist:
        names = {member.split("/", 1)[1] for member in sdist.getnames() if "/" in member}
    assert {f"{SWAGGER}/swagger-ui-bundle.js", f"{SWAGGER}/swagger-ui.css", f"{SWAGGER}/LICENSE", "LICENSE"} <= names


def _export(work: Path) -> Path:
    """`git archive HEAD`, unpacked: what a clean clone holds."""
    archive = work / "source.tar"
    subprocess.run(["git", "archive", "--format=tar", "-o", str(archive), "HEAD"], cwd=ROOT, check=True)
    source = work / "image-gallery"
    with tarfile.open(archive) as tar:
        tar.extractall(source, filter="data")
    return source


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built from `git archive HEAD`: what a clean clone holds, not what this checkout happens to have lying
    around (node_modules, build output)."""
    work = tmp_path_factory.mktemp("wheel")
    source = _export(work)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(work), str(source)],
        check=True,
        capture_output=True,
    )
    (built,) = work.glob("image_gallery-*.whl")
    return built


def test_the_wheel_carries_what_the_product_serves(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        licence = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE") or n.endswith("dist-info/LICENSE"))
        assert "Apache License" in archive.read(licence).decode()[:200]
    for needed in (
        f"{SWAGGER}/swagger-ui-bundle.js",
        f"{SWAGGER}/swagger-ui.css",
        f"{SWAGGER}/LICENSE",
        "gallery/site/theme/api-docs.html",
        "gallery/site/theme/manage.html",
        "gallery/storage/local/schema.sql",
        "gallery/site/theme/gallery/image.html",
    ):
        assert needed in names, needed
    assert not [n for n in names if n.startswith(("tests/", "deploy/", "functions/", "benchmarks/"))]


def test_the_vendored_swagger_ui_is_the_version_package_lock_pins() -> None:
    """`make vendor` copies it from npm; the lock file and the copy never drift apart."""
    import json

    lock = json.loads((ROOT / "package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/swagger-ui-dist"]["version"]
    assert (ROOT / SWAGGER / "VERSION").read_text().strip() == pinned
    installed = ROOT / "node_modules" / "swagger-ui-dist" / "swagger-ui-bundle.js"
    if installed.exists():  # after `npm ci` (make lint): byte for byte what npm installs
        assert installed.read_bytes() == (ROOT / SWAGGER / "swagger-ui-bundle.js").read_bytes()


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("venv") / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, capture_output=True, timeout=600
    )
    return venv


def test_the_product_needs_no_mkdocs(installed: Path) -> None:
    """The site builds and serves with the wheel alone: MkDocs comes only with the `site` extra (for the plugin)."""
    found = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import mkdocs"], capture_output=True, text=True, check=False
    )
    assert found.returncode == 1
    assert "No module named 'mkdocs'" in found.stderr


def test_the_installed_script_from_an_empty_folder(installed: Path, tmp_path: Path, page: Any) -> None:
    """`gallery serve --demo` as a newcomer runs it: from an empty folder, no setting given. It serves the API
    browser ("Try it out" works in Chromium with the token the management page keeps), writes nothing where it was
    started (after an upload and the rebuild it causes), answers /healthz and /metrics, and logs each request under
    the id the response carried."""
    import json

    from playwright.sync_api import expect

    empty, home = tmp_path / "empty", tmp_path / "home"
    empty.mkdir()
    home.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [str(installed / "bin" / "gallery"), "serve", "--demo", "--host", "127.0.0.1", "--port", str(port)],
            cwd=empty,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for status, content_type in _answers_until_built(f"{base}/", process):  # from the very first answer
            assert content_type.startswith("text/html"), (status, content_type)
        docs = wait_for(f"{base}/api-docs/", "swagger-ui-bundle.js", 120, process)
        assert "swagger-ui-bundle.js" in docs
        assert "not installed" not in docs
        for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
            with urllib.request.urlopen(f"{base}/assets/vendor/swagger-ui/{asset}", timeout=10) as answer:
                assert answer.status == 200
                assert len(answer.read()) > 100_000
        made = subprocess.run(
            [str(installed / "bin" / "gallery"), "users", "create", EMAIL, "--role", "TENANT_ADMIN", "--tenant",
             "Demo tenant"], cwd=empty, env={**env, "GALLERY_USER_PASSWORD": PASSWORD}, capture_output=True,
            text=True, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        headers = {"X-Authorization": f"Bearer {sign_in(base, EMAIL, PASSWORD)}"}
        uploaded = _upload(f"{base}/api/image", headers, _png())
        assert uploaded["title"] == "newcomer.png"
        wait_for(f"{base}/", "newcomer.png", 120, process)  # the rebuild the upload caused
        page.goto(f"{base}/manage/")  # signed in there, the token is in the page's storage for /api-docs/
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Images")).to_be_visible()
        page.wait_for_function("() => localStorage.getItem('gallery.token') !== null")  # kept for the other pages
        page.get_by_role("link", name="API", exact=True).click()  # as a user goes there: the token goes along
        expect(page).to_have_url(f"{base}/api-docs/")
        listing = page.locator("#operations-images-getImages")
        listing.locator(".opblock-summary").click()
        listing.get_by_role("button", name="Try it out").click()
        listing.get_by_role("button", name="Execute").click()
        expect(listing.locator(".responses-wrapper .live-responses-table .microlight").first).to_contain_text(
            '"title": "newcomer.png"'
        )
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as answer:
            assert (answer.status, json.loads(answer.read())["status"]) == (200, "ok")
            health_id = answer.headers["X-Request-Id"]
        data = home / ".local" / "share" / "image-gallery"
        data.rename(home / "moved-away")  # the data folder gone from under the server: it takes no writes
        try:
            with pytest.raises(urllib.error.HTTPError) as sick:
                urllib.request.urlopen(f"{base}/healthz", timeout=10).close()
        finally:
            (home / "moved-away").rename(data)
        sick.value.close()
        assert sick.value.code == 503
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
            metrics = answer.read().decode()
        assert 'gallery_http_requests_total{method="POST",route="/api/image",status="200"} 1.0' in metrics
        assert "gallery_uploads_total 1.0" in metrics
        assert 'gallery_site_builds_total{outcome="done"}' in metrics
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert list(empty.iterdir()) == []  # nothing written where it was started
    assert (home / ".local" / "share" / "image-gallery" / "site" / "index.html").exists()
    logged = log.read_text()
    assert "GET /healthz 200 " in logged
    assert f"id={health_id}" in logged


def _answers_until_built(url: str, process: subprocess.Popen[bytes]) -> list[tuple[int, str]]:
    """Every answer `url` gives, from the server's first, until a 200."""
    answers: list[tuple[int, str]] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "gallery serve exited"
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                answers.append((answer.status, answer.headers["Content-Type"]))
                return answers
        except urllib.error.HTTPError as refused:
            answers.append((refused.code, refused.headers["Content-Type"]))
            refused.close()
        except OSError:
            pass  # not listening yet
        time.sleep(0.05)
    raise AssertionError(f"{url} never answered 200: {answers[-5:]}")


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 60, 30)).save(out, "PNG")
    return out.getvalue()


def _upload(url: str, headers: dict[str, str], data: bytes) -> dict[str, str]:
    import json

    from urllib3 import encode_multipart_formdata

    body, content_type = encode_multipart_formdata({"file": ("newcomer.png", data, "image/png")})
    request = urllib.request.Request(url, data=body, headers={**headers, "Content-Type": content_type}, method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:
        found: dict[str, str] = json.loads(answer.read())
    return found


def test_the_plugin_runs_unchanged_under_properdocs(installed: Path, tmp_path: Path) -> None:
    """ProperDocs, the maintained fork of MkDocs 1.x, builds a project with the gallery plugin as it is, with no
    MkDocs installed (it maps `mkdocs.*` imports to its own): the installed wheel, one image imported with the
    installed `gallery` command, `properdocs build` from the project's folder."""
    pip = [str(installed / "bin" / "pip"), "install", "-q", "properdocs>=1.6,<2"]
    subprocess.run(pip, check=True, capture_output=True, timeout=600)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8", "GALLERY_DATA_DIR": str(tmp_path / "d")}
    export = {"title": "Dot", "fileName": "dot.png", "public": True, "data": base64.b64encode(png(40, 30)).decode()}
    (tmp_path / "dot.json").write_text(json.dumps(export))  # a ThingsBoard export file
    imported = subprocess.run(
        [str(installed / "bin" / "gallery"), "import", str(tmp_path / "dot.json"), "--system"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Handbook\n")
    (project / "mkdocs.yml").write_text(
        "site_name: Handbook\ntheme:\n  name: gallery\nplugins:\n  - search\n  - gallery:\n      system: true\n"
    )
    assert subprocess.run([str(installed / "bin" / "python"), "-c", "import mkdocs"], check=False).returncode == 1
    done = subprocess.run(
        [str(installed / "bin" / "properdocs"), "build", "--site-dir", "out"],
        env=env, cwd=project, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    index = (project / "out" / "gallery" / "index.html").read_text()
    assert '<span class="name">Dot</span>' in index
    assert list((project / "out" / "gallery" / "r").glob("*.webp"))
