"""What an operator sees: an id on every answer and in the log line of every request, `/metrics` in Prometheus'
format counting what was answered (the 304s answered before Flask too), and `/healthz` saying whether the storage
answers."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask

from gallery.config import Settings
from tests.conftest import Actor, make_app
from tests.helpers import png

ID = re.compile(r"[0-9a-f]{32}")


def metric(client: object, name: str, **labels: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)  # type: ignore[attr-defined]
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_every_answer_carries_its_id_and_its_log_line(
    app: Flask, admin: Actor, caplog: pytest.LogCaptureFixture
) -> None:
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="gallery.requests"):
        listed = client.get("/api/images?pageSize=5&page=0", headers=admin.headers)
        missing = client.get("/api/images/tenant/nothing-here.png", headers=admin.headers)
    assert listed.status_code == 200
    assert missing.status_code == 404
    ids = [listed.headers["X-Request-Id"], missing.headers["X-Request-Id"]]
    assert all(ID.fullmatch(i) for i in ids)
    assert ids[0] != ids[1]
    lines = [r.getMessage() for r in caplog.records if r.name == "gallery.requests"]
    assert any(
        line.startswith("GET /api/images 200 ") and f"id={ids[0]}" in line and f"tenant={admin.tenant_id}" in line
        for line in lines
    ), lines
    assert any(line.startswith("GET /api/images/<scope>/<key> 404 ") and f"id={ids[1]}" in line for line in lines)
    assert not [line for line in lines if "nothing-here" in line]  # routes, never the user's keys


def test_json_lines_and_a_proxys_id(settings: Settings, admin: Actor, caplog: pytest.LogCaptureFixture) -> None:
    client = make_app(settings.evolve(log_format="json", request_id_header="X-Request-Id")).test_client()
    with caplog.at_level(logging.INFO, logger="gallery.requests"):
        given = client.get("/api/images?pageSize=1&page=0", headers={**admin.headers, "X-Request-Id": "lb-7f3a.1"})
        hostile = client.get("/api/auth/user", headers={**admin.headers, "X-Request-Id": "x forged <line>"})
    assert given.headers["X-Request-Id"] == "lb-7f3a.1"
    assert ID.fullmatch(hostile.headers["X-Request-Id"])  # not believable text: an id of our own
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "gallery.requests"]
    first = next(r for r in records if r["requestId"] == "lb-7f3a.1")
    assert (first["method"], first["route"], first["status"]) == ("GET", "/api/images", 200)
    assert first["tenant"] == admin.tenant_id
    assert first["bytes"] > 0
    assert first["ms"] >= 0


def test_a_clients_own_id_is_not_believed_without_a_proxy(app: Flask, admin: Actor) -> None:
    answer = app.test_client().get("/api/auth/user", headers={**admin.headers, "X-Request-Id": "client-chosen"})
    assert answer.headers["X-Request-Id"] != "client-chosen"


def test_metrics_count_requests_by_route_uploads_and_revalidations(app: Flask, admin: Actor) -> None:
    client = app.test_client()
    data = png(30, 20)
    uploaded = client.post(
        "/api/image", data={"file": (__import__("io").BytesIO(data), "m.png")}, headers=admin.headers
    )
    assert uploaded.status_code == 200
    etag = client.get("/api/images/tenant/m.png", headers=admin.headers).headers["ETag"]
    for _ in range(3):  # answered before Flask (web/revalidation.py), counted all the same
        assert (
            client.get("/api/images/tenant/m.png", headers={**admin.headers, "If-None-Match": etag}).status_code == 304
        )
    route = "/api/images/<scope>/<key>"
    assert metric(client, "gallery_http_requests_total", route=route, method="GET", status="304") == 3
    assert metric(client, "gallery_http_requests_total", route=route, method="GET", status="200") == 1
    assert metric(client, "gallery_http_requests_total", route="/api/image", method="POST", status="200") == 1
    assert metric(client, "gallery_uploads_total") == 1
    assert metric(client, "gallery_uploaded_bytes_total") == len(data)
    assert metric(client, "gallery_http_request_duration_seconds_count", route=route, method="GET") == 4
    text = client.get("/metrics").get_data(as_text=True)
    assert "m.png" not in text  # labels are routes, never keys


def test_healthz_says_whether_the_storage_answers(settings: Settings, tmp_path: Path) -> None:
    app = make_app(settings)
    client = app.test_client()
    healthy = client.get("/healthz")
    assert (healthy.status_code, healthy.get_json()["status"]) == (200, "ok")
    if settings.backend != "local":
        return
    moved = tmp_path / "moved-away"
    shutil.move(settings.data_dir, moved)  # the data folder gone from under the server: it takes no writes
    try:
        sick = client.get("/healthz")
    finally:
        shutil.move(moved, settings.data_dir)
    assert sick.status_code == 503
    assert sick.get_json()["status"] == "unavailable"
    assert any("data folder" in problem for problem in sick.get_json()["problems"])
    assert client.get("/healthz").status_code == 200


def test_on_lambda_each_request_is_a_cloudwatch_metric_record(
    settings: Settings, admin: Actor, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "image-gallery-dev")
    client = make_app(settings).test_client()
    answer = client.get("/api/auth/user", headers=admin.headers)
    (line,) = [json.loads(text) for text in capsys.readouterr().out.splitlines() if text.startswith("{")]
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Dimensions"] == [["route", "method", "status"]]
    assert {m["Name"] for m in directive["Metrics"]} == {"requests", "ms"}
    assert (line["route"], line["status"], line["requests"]) == ("/api/auth/user", "200", 1)
    assert line["requestId"] == answer.headers["X-Request-Id"]


def test_the_stages_take_api_gateways_request_id() -> None:
    """Zappa copies the event's requestContext.requestId into X-Request-Id (a client's own is dropped first, in
    functions/api.py), and the stage believes that header."""
    from deploy.stage import SETTINGS, stage_settings

    stage = stage_settings(json.loads(SETTINGS.read_text()), "dev")
    assert stage["context_header_mappings"] == {"X-Request-Id": "requestId"}
    assert stage["aws_environment_variables"]["GALLERY_REQUEST_ID_HEADER"] == "X-Request-Id"


def test_an_unexpected_error_is_logged_under_the_id_the_answer_carried(
    app: Flask, admin: Actor, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user reports the id their failed request carried; the log finds the traceback by it."""
    images = app.extensions["gallery"].images

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(images, "list_images", broken)
    with caplog.at_level(logging.INFO):
        answer = app.test_client().get("/api/images?pageSize=5&page=0", headers=admin.headers)
    assert answer.status_code == 500
    assert "a bug" not in answer.get_data(as_text=True)  # internals stay in the log
    request_id = answer.headers["X-Request-Id"]
    failures = [r for r in caplog.records if r.exc_info and request_id in r.getMessage()]
    assert failures
    assert "a bug" in str(failures[0].exc_info[1])  # type: ignore[index]
    assert any(f"id={request_id}" in r.getMessage() and " 500 " in r.getMessage() for r in caplog.records)
