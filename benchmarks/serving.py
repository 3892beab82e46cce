"""A real `gallery serve` for the benchmarks that need one: the installed command in a process of its own, on a free
loopback port, over a data folder with a tenant and its administrator; it can be killed and started again."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

SECRET = "benchmark-secret-of-at-least-32-bytes!!"
EMAIL, PASSWORD = "load@example.com", "load-password"


def _script(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Served:
    data: Path
    env: dict[str, str]
    args: tuple[str, ...] = ()
    # How `gallery serve` is started (default: the installed command; the AWS load run wraps it in a stub).
    launcher: tuple[str, ...] = ()
    port: int = field(default_factory=_free_port)
    process: subprocess.Popen[bytes] | None = None

    @classmethod
    def fresh(
        cls,
        data: Path,
        extra_env: dict[str, str] | None = None,
        args: tuple[str, ...] = (),
        launcher: tuple[str, ...] = (),
        provision: bool = False,
    ) -> Served:
        """A new gallery in `data` with tenant T (no limits) and its administrator; `provision`: on AWS, make
        the table and bucket first."""
        data.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "GALLERY_DATA_DIR": str(data), "GALLERY_JWT_SECRET": SECRET, **(extra_env or {})}
        served = cls(data, env, args, launcher)
        if provision:
            served.command("provision")
        served.command("tenants", "create", "T")
        served.command("users", "create", EMAIL, "--password", PASSWORD, "--role", "TENANT_ADMIN", "--tenant", "T")
        return served

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self, *args: str) -> str:
        done = subprocess.run([_script("gallery"), *args], env=self.env, cwd=self.data.parent, capture_output=True)
        if done.returncode != 0:
            raise RuntimeError(f"gallery {' '.join(args)}: {done.stderr.decode()}")
        return done.stdout.decode().strip()

    @property
    def log(self) -> Path:
        """What the server printed."""
        return self.data.parent / f"serve-{self.port}.log"

    def start(self) -> None:
        log = self.log
        command = [*(self.launcher or (_script("gallery"),)), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with open(log, "ab") as sink:  # the child holds its own copy of the descriptor
            self.process = subprocess.Popen(
                [*command, *self.args], env=self.env, cwd=self.data.parent, stdout=sink, stderr=sink
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/noauth/signInParams", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gallery serve did not start:\n{log.read_text()[-2000:]}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash or the OOM killer would leave it."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def memory(self) -> tuple[int, int]:
        """(resident now, peak resident) of the server process, bytes (Linux /proc)."""
        assert self.process is not None
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines())
        return _kib(fields["VmRSS"]), _kib(fields["VmHWM"])

    def token(self) -> str:
        """Signs in, trying again while the server answers 503 (storage refusing calls, on purpose)."""
        body = json.dumps({"username": EMAIL, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            f"{self.url}/api/auth/login", body, {"Content-Type": "application/json"}, method="POST"
        )
        for _ in range(50):
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    token: str = json.load(response)["token"]
                    return token
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    raise
                time.sleep(0.05)
        raise RuntimeError("sign-in kept answering 503")


def _kib(text: str) -> int:
    return int(text.strip().split()[0]) * 1024


def multipart(name: str, data: bytes, fields: dict[str, str] | None = None) -> tuple[bytes, dict[str, str]]:
    """A form with a `file` part (and text `fields` before it), as browsers and ThingsBoard's clients post an
    upload: (body, headers)."""
    boundary = uuid.uuid4().hex
    texts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
        for key, value in (fields or {}).items()
    )
    body = b"".join(
        [
            texts.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'.encode(),
            b"Content-Type: application/octet-stream\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}
