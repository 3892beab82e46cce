"""For whoever runs the server: `GET /healthz` (alive, and its storage answering: for a load balancer's or
Kubernetes' probe; no sign-in, one cheap read and, on the embedded default, one tiny write) and `GET /metrics`
(Prometheus' text format, `gallery.web.observe`)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gallery.web.common import gallery
from gallery.web.observe import Metrics

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    problems = gallery().health()
    response = jsonify({"status": "ok" if not problems else "unavailable", "problems": problems})
    response.status_code = 200 if not problems else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def metrics() -> Response:
    observed: Metrics = current_app.extensions["gallery_metrics"]
    body = generate_latest(observed.registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
