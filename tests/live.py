"""A real `gallery serve` process on loopback, for clients we did not write."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def gallery_command(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "gallery", *args], env=env, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def wait_for(
    url: str,
    text: str,
    seconds: float = 60,
    process: subprocess.Popen[bytes] | None = None,
    pause: float = 0.1,
) -> str:
    """The body of the first 200 from `url` that holds `text`; an error answer (a "being built" page) is waited out.
    With the server's `process`: a server not listening yet is waited for too, and one that exits fails at once."""
    deadline = time.monotonic() + seconds
    body = ""
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode} while {url} was awaited")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                body = bytes(response.read()).decode()
            if text in body:
                return body
        except urllib.error.HTTPError as error:
            error.close()
        except OSError:
            if process is None:
                raise
        time.sleep(pause)
    raise AssertionError(f"{text!r} not at {url} after {seconds} s; last:\n{body[:500]}")


def sign_in(url: str, user: str, password: str) -> str:
    """An access token for `user`, from the API at `url`."""
    request = urllib.request.Request(
        f"{url}/api/auth/login",
        data=json.dumps({"username": user, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return str(json.load(response)["token"])


def wait_until_up(url: str, process: subprocess.Popen[bytes], name: str, log: Path | None = None) -> None:
    """Poll `url` until the process answers (any HTTP status counts); fail with its output (from its pipe, or
    the file `log`) if it exits first."""
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return  # an error page is still an answer
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                if log is not None:
                    output = log.read_text(errors="replace")
                raise RuntimeError(f"{name} did not start:\n{output}") from None
            time.sleep(0.1)


@dataclass(frozen=True)
class LiveServer:
    url: str
    env: dict[str, str]
    log: Path  # what the server printed, so far
    pid: int

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, seconds: float = 30) -> str:
        return wait_for_line(self.log, text, seconds)


def wait_for_line(log: Path, text: str, seconds: float = 30) -> str:
    """What a process has printed to `log` once `text` is in it: a message is logged after the work it reports
    (a site is served before its build says so), so a test that saw the work waits for the words too."""
    deadline = time.monotonic() + seconds
    while text not in (output := log.read_text(errors="replace")):
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not printed after {seconds} s:\n{output}")
        time.sleep(0.05)
    return output


@contextmanager
def live_server(
    data_dir: Path,
    extra_env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
    rebuild: bool = False,
) -> Iterator[LiveServer]:
    """`gallery serve` on a free port. Unless `rebuild`, it serves the site folder as it is (`--no-rebuild`): a
    test that brings its own site keeps it. Output goes to a file (a pipe nobody reads would fill and stall it)."""
    port = free_port()
    env = {**os.environ, "GALLERY_DATA_DIR": str(data_dir), **(extra_env or {})}
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / f"serve-{port}.log"
    flags = () if rebuild else ("--no-rebuild",)
    with open(log, "wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "gallery", "serve", "--host", "127.0.0.1", "--port", str(port), *flags, *args],
            env=env,
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/api/images/public/ready", process, "gallery serve", log)
        yield LiveServer(url, env, log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
