"""The image endpoint's two hot answers against bare Flask routes doing the least that answer can be:

- 304 revalidation (an authenticated `GET /api/images/tenant/{key}` with the current tag) against a route that
  always answers 304; promise ≥ 0.95× its requests per second;
- 200 for a small image (the same request without the tag: the bytes, 3.6 KB) against `flask.send_file` of the same
  stored file; promise ≥ 0.8×.

All are mounted in one waitress server configured exactly as `gallery serve` configures it, and one keep-alive
HTTP client alternates batches between ours and the baseline, so both see the same server, client and noise.
"""

from __future__ import annotations

import http.client
import statistics
import tempfile
import threading
import time
from pathlib import Path

from flask import Flask, Response, send_file
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


def _bare_app(stored: Path) -> Flask:
    bare = Flask("bare")

    @bare.get("/logo.png")
    def constant() -> Response:
        return Response(status=304, headers={"ETag": '"constant"', "Cache-Control": "no-cache"})

    @bare.get("/file.png")
    def file() -> Response:
        return send_file(stored, mimetype="image/png")

    return bare


def _batch(conn: http.client.HTTPConnection, path: str, headers: dict[str, str], status: int) -> float:
    start = time.perf_counter()
    for _ in range(BATCH):
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status != status:
            raise RuntimeError(f"{path} answered {response.status}, not {status}")
    return BATCH / (time.perf_counter() - start)


def _compare(
    conn: http.client.HTTPConnection, ours: str, bare: str, headers: dict[str, str], status: int
) -> tuple[float, float]:
    """Median requests per second of each, batches alternating after one warm-up batch each."""
    _batch(conn, ours, headers, status)
    _batch(conn, bare, headers, status)
    ours_rates, bare_rates = [], []
    for _ in range(ROUNDS):
        ours_rates.append(_batch(conn, ours, headers, status))
        bare_rates.append(_batch(conn, bare, headers, status))
    return statistics.median(ours_rates), statistics.median(bare_rates)


def run() -> list[Comparison]:
    with tempfile.TemporaryDirectory() as tmp:
        gallery = Gallery.open(Settings.from_env({}, data_dir=Path(tmp), jwt_secret="b" * 40))
        admin_tenant = gallery.accounts.create_tenant("Bench")
        user = gallery.accounts.create_user(
            "bench@example.com", "bench-password", Authority.TENANT_ADMIN, admin_tenant.id
        )
        image = gallery.images.upload(as_principal(user), "logo.png", logo(), None, None)
        token = gallery.sessions.tokens.issue(user).token
        stored = next(p for p in Path(tmp).rglob(image.etag) if p.is_file())  # the blob, as the API reads it
        app = DispatcherMiddleware(create_app(gallery=gallery), {"/bare": _bare_app(stored)})
        server = create_server(app, "127.0.0.1", 0)
        port = server.effective_port  # type: ignore[union-attr]
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        auth = {"X-Authorization": f"Bearer {token}"}
        conn = http.client.HTTPConnection("127.0.0.1", port)
        ours_path = "/api/images/tenant/logo.png"
        revalidated = _compare(conn, ours_path, "/bare/logo.png", {**auth, "If-None-Match": f'"{image.etag}"'}, 304)
        sent = _compare(conn, ours_path, "/bare/file.png", auth, 200)
        conn.close()
        server.close()
        thread.join(5)
        gallery.close()
    return [
        Comparison("304 revalidation on gallery serve (req/s)", *revalidated, limit=0.95, higher_is_better=True),
        Comparison("200, small image, vs Flask send_file (req/s)", *sent, limit=0.8, higher_is_better=True),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
