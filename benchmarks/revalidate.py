"""304 revalidation throughput of the image endpoint against a bare Flask route that always answers 304.

Both are mounted in one waitress server configured exactly as `gallery serve` configures it, and one keep-alive
HTTP client alternates batches between them, so both see the same server, client and machine noise.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask, Response
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from benchmarks.harness import Comparison
from gallery.config import Settings
from gallery.demo import as_principal
from gallery.demo.samples import logo
from gallery.domain.model import Authority
from gallery.web.app import create_app
from gallery.web.server import create_server
from gallery.wiring import Gallery

BATCH = 300
ROUNDS = 8


def _bare_app() -> Flask:
    bare = Flask("bare")

    @bare.get("/logo.png")
    def constant() -> Response:
        return Response(status=304, headers={"ETag": '"constant"', "Cache-Control": "no-cache"})

    return bare


def _batch(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> float:
    start = time.perf_counter()
    for _ in range(BATCH):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != 304:
            raise RuntimeError(f"{path} answered {response.status}, not 304")
    return BATCH / (time.perf_counter() - start)


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        gallery = Gallery.open(Settings.from_env({}, data_dir=Path(tmp), jwt_secret="b" * 40))
        admin_tenant = gallery.accounts.create_tenant("Bench")
        user = gallery.accounts.create_user(
            "bench@example.com", "bench-password", Authority.TENANT_ADMIN, admin_tenant.id
        )
        image = gallery.images.upload(as_principal(user), "logo.png", logo(), None, None)
        token = gallery.sessions.tokens.issue(user).token
        app = DispatcherMiddleware(create_app(gallery=gallery), {"/bare": _bare_app()})
        server = create_server(app, "127.0.0.1", 0)
        port = server.effective_port  # type: ignore[union-attr]
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        headers = {"X-Authorization": f"Bearer {token}", "If-None-Match": f'"{image.etag}"'}
        conn = http.client.HTTPConnection("127.0.0.1", port)
        ours_path, bare_path = "/api/images/tenant/logo.png", "/bare/logo.png"
        _batch(conn, ours_path, headers)
        _batch(conn, bare_path, headers)
        ours, bare = [], []
        for _ in range(ROUNDS):
            ours.append(_batch(conn, ours_path, headers))
            bare.append(_batch(conn, bare_path, headers))
        conn.close()
        server.close()
        gallery.close()
    return [
        Comparison(
            "304 revalidation on gallery serve (req/s)",
            statistics.median(ours),
            statistics.median(bare),
            limit=0.8,
            higher_is_better=True,
        )
    ]
