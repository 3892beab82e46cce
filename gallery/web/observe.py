"""What an operator sees of each request: an id (answered as `X-Request-Id`), one log line (method, route, status,
bytes, duration, id, tenant; plain or JSON), and Prometheus metrics (`/metrics`); on Lambda the line is a CloudWatch
Embedded Metric Format record, so the same numbers become CloudWatch metrics without a scraper.

It wraps the whole WSGI app, outside the answer given before Flask (`web/revalidation.py`), so every request is seen.
The route is the rule's template (`/api/images/<scope>/<key>`), never the path: paths hold users' keys and titles,
and a label per path would grow without bound. Whoever learns the route or the tenant says so in the environ
(`ROUTE`, `TENANT`, `UPLOADED`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

log = logging.getLogger("gallery.requests")

REQUEST_ID = "gallery.request_id"
ROUTE = "gallery.route"
TENANT = "gallery.tenant"
UPLOADED = "gallery.uploaded_bytes"  # an upload's size, set by the views that store one
_BELIEVABLE = re.compile(r"[A-Za-z0-9._:-]{1,128}")  # an id from a proxy: logged, so never free text
_LAMBDA = "AWS_LAMBDA_FUNCTION_NAME"


class Metrics:
    """The process's metrics, in a registry of its own (an app per test must not share one)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "gallery_http_requests", "Requests answered", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "gallery_http_request_duration_seconds",
            "Time to answer, to the last byte",
            ["route", "method"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.uploads = Counter("gallery_uploads", "Images stored (new or updated)", registry=self.registry)
        self.uploaded_bytes = Counter("gallery_uploaded_bytes", "Bytes of the images stored", registry=self.registry)
        self.builds = Counter("gallery_site_builds", "Builds of the living site", ["outcome"], registry=self.registry)
        self.build_seconds = Histogram(
            "gallery_site_build_duration_seconds",
            "Time a build of the living site took",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=self.registry,
        )

    def site_built(self, seconds: float, failed: bool) -> None:
        self.builds.labels("failed" if failed else "done").inc()
        self.build_seconds.observe(seconds)


class Observed:
    """WSGI middleware: the id, the log line and the metrics of every request."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], metrics: Metrics, log_format: str, id_header: str = ""
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.json = log_format == "json"
        self.id_header = "HTTP_" + id_header.upper().replace("-", "_") if id_header else ""
        self.on_lambda = _LAMBDA in os.environ

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        started = time.perf_counter()
        request_id = self._request_id(environ)
        environ[REQUEST_ID] = request_id
        answered: dict[str, Any] = {}

        def respond(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            answered["status"] = int(status.split(" ", 1)[0])
            return start_response(status, [*headers, ("X-Request-Id", request_id)], *args)

        try:
            body = self.app(environ, respond)
        except Exception:
            answered.setdefault("status", 500)
            self._done(environ, answered, 0, started)
            raise
        return _Counted(body, lambda sent: self._done(environ, answered, sent, started))

    def _request_id(self, environ: dict[str, Any]) -> str:
        """The trusted proxy's id (on Lambda: API Gateway's, which Zappa copies into the header), else ours."""
        if self.id_header:
            given = environ.get(self.id_header, "")
            if isinstance(given, str) and _BELIEVABLE.fullmatch(given):
                return given
        return uuid.uuid4().hex

    def _done(self, environ: dict[str, Any], answered: dict[str, Any], sent: int, started: float) -> None:
        seconds = time.perf_counter() - started
        method = str(environ.get("REQUEST_METHOD", "?"))
        route = str(environ.get(ROUTE) or "<unmatched>")
        status = int(answered.get("status", 0))
        self.metrics.requests.labels(route, method, str(status)).inc()
        self.metrics.latency.labels(route, method).observe(seconds)
        uploaded = environ.get(UPLOADED)
        if isinstance(uploaded, int) and 200 <= status < 300:
            self.metrics.uploads.inc()
            self.metrics.uploaded_bytes.inc(uploaded)
        line = {
            "method": method,
            "route": route,
            "status": status,
            "bytes": sent,
            "ms": round(seconds * 1000, 1),
            "requestId": environ.get(REQUEST_ID, ""),
            "tenant": str(environ.get(TENANT) or "-"),
        }
        if self.on_lambda:
            sys.stdout.write(json.dumps(_embedded_metrics(line)) + "\n")  # Lambda's stdout is CloudWatch Logs
            sys.stdout.flush()
        elif self.json:
            log.info(json.dumps(line))
        else:
            log.info("%(method)s %(route)s %(status)s %(bytes)sB %(ms)sms id=%(requestId)s tenant=%(tenant)s", line)


def _embedded_metrics(line: dict[str, Any]) -> dict[str, Any]:
    """The request line as a CloudWatch Embedded Metric Format record: requests and latency by route and status."""
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": "ImageGallery",
                    "Dimensions": [["route", "method", "status"]],
                    "Metrics": [{"Name": "requests", "Unit": "Count"}, {"Name": "ms", "Unit": "Milliseconds"}],
                }
            ],
        },
        **line,
        "status": str(line["status"]),
        "requests": 1,
    }


class _Counted:
    """The response body, passed through as it is sent; `done(bytes sent)` when the server closes it (after the
    last byte, or on a client that went away). Keeps the body's own `close`, which releases files."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body = body
        self.done = done
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            self.done(self.sent)
