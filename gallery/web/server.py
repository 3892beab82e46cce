"""The production WSGI server (waitress), configured in one place for `gallery serve` and the benchmarks."""

from __future__ import annotations

from typing import Any

from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.server import create_server as _waitress_server

DEFAULT_THREADS = 8


def create_server(app: Any, host: str, port: int, threads: int = DEFAULT_THREADS) -> BaseWSGIServer | MultiSocketServer:
    return _waitress_server(app, host=host, port=port, threads=threads, ident="image-gallery")
