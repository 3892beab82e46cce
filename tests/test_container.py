"""The container recipe, checked where no Docker daemon runs: what the Dockerfile says (a non-root user, data on a
volume, `gallery serve` as the entry point, a health check), its health check run for real against a live server,
and compose's wiring. The image itself is what `test_wheel.py` installs: the wheel `pip wheel .` builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.live import live_server

ROOT = Path(__file__).resolve().parent.parent


def instructions() -> list[tuple[str, str]]:
    """The final stage's instructions (after the last FROM), continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    parsed = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]
    last_from = max(i for i, (word, _) in enumerate(parsed) if word == "FROM")
    return parsed[last_from:]


def one(word: str) -> str:
    (found,) = [rest for kind, rest in instructions() if kind == word]
    return found


def test_the_image_runs_as_a_user_of_its_own_with_data_on_a_volume() -> None:
    final = instructions()
    base = final[0][1]
    assert base.startswith("python:3.11-"), base  # the Python the project and its Lambda build use
    user = one("USER")
    assert user not in {"root", "0"}
    assert [kind for kind, _ in final].index("USER") < [kind for kind, _ in final].index("ENTRYPOINT")
    assert json.loads(one("VOLUME")) == ["/data"]
    assert "GALLERY_DATA_DIR=/data" in one("ENV")
    entry = json.loads(one("ENTRYPOINT"))
    assert entry[:2] == ["gallery", "serve"]
    assert entry[entry.index("--host") + 1] == "0.0.0.0"  # noqa: S104 (reachable through the published port)
    assert not [rest for kind, rest in final if kind == "ADD"]  # nothing fetched from a URL at build time


def test_the_health_check_passes_on_a_healthy_server_and_fails_on_none(tmp_path: Path) -> None:
    check = one("HEALTHCHECK")
    command = json.loads(check[check.index("CMD") + 3 :].strip())
    assert command[0] == "python"
    assert "/healthz" in command[-1]
    with live_server(tmp_path / "data", {"GALLERY_JWT_SECRET": "x" * 40}) as live:
        port = live.url.rsplit(":", 1)[1]
        probe = [sys.executable, *command[1:-1], command[-1].replace("127.0.0.1:8080", f"127.0.0.1:{port}")]
        assert subprocess.run(probe, check=False, timeout=30).returncode == 0
    assert subprocess.run(probe, check=False, capture_output=True, timeout=30).returncode != 0  # server gone


def test_compose_publishes_the_port_and_keeps_the_data() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["gallery"]
    assert service["build"] == "."
    assert any(str(p).endswith("8080:8080") for p in service["ports"])
    assert any(v.split(":")[1] == "/data" and v.split(":")[0] in compose["volumes"] for v in service["volumes"])


def test_what_docker_copies_leaves_the_checkouts_environments_out() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "node_modules", "build", ".gallery"} <= ignored
    whole = (ROOT / "Dockerfile").read_text()
    assert "RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ." in whole  # as `pip wheel .`: no npm
    assert "COPY --from=wheel /wheels /wheels" in whole
    # its dependencies at the versions the project pins, as the Lambda zips have them
    assert "cp requirements/runtime.txt /wheels/constraints.txt" in whole
    assert '--constraint /wheels/constraints.txt "${wheel}"' in whole  # no extras: the product needs no MkDocs
