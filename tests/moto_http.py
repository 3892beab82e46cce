"""moto over real HTTP on loopback, for the API run on the aws backend, browsers, presigned URLs and subprocesses."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from tests.live import free_port, wait_until_up
from tests.s3_cors import S3Cors, moto_rules


class _OneAtATime:
    """moto's DynamoDB transactions are not thread-safe (concurrent ones can apply halfway); DynamoDB's are
    serializable. Serving one request at a time restores the guarantee our concurrency tests rely on."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


class MotoServer(ThreadedMotoServer):
    def _server_entry(self) -> None:
        # Browsers reach the bucket through S3's CORS rules (moto answered any origin): see tests/s3_cors.py.
        app = _OneAtATime(S3Cors(DomainDispatcherApplication(create_backend_app), moto_rules))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"


def start_moto() -> MotoServer:
    server = MotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    return server


@contextmanager
def moto_subprocess() -> Iterator[str]:
    """A `moto_server` process on loopback, for a pytest process that also uses in-process `mock_aws` (the two must
    never share a process). Yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/moto-api/", process, "moto_server")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
