"""Test data made in the tests: images drawn with Pillow, and small request helpers."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse


def png(width: int = 200, height: int = 160, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 300, height: int = 200, color: tuple[int, int, int] = (30, 120, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", quality=90)
    return out.getvalue()


def svg(width: int = 120, height: int = 40) -> bytes:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#123456"/></svg>'
    ).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def upload(
    client: FlaskClient,
    headers: dict[str, str],
    data: bytes,
    file_name: str = "image.png",
    *,
    title: str | None = None,
    sub_type: str | None = None,
    content_type: str = "application/octet-stream",
) -> TestResponse:
    form: dict[str, Any] = {"file": (io.BytesIO(data), file_name, content_type)}
    if title is not None:
        form["title"] = title
    if sub_type is not None:
        form["imageSubType"] = sub_type
    return client.post("/api/image", data=form, headers=headers, content_type="multipart/form-data")


def put_file(client: FlaskClient, path: str, headers: dict[str, str], data: bytes, file_name: str) -> TestResponse:
    form = {"file": (io.BytesIO(data), file_name)}
    return client.put(path, data=form, headers=headers, content_type="multipart/form-data")


def ok_json(response: TestResponse, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The standard error body, checked for shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict), response.get_data(as_text=True)
    assert body["status"] == status
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["errorCode"], int)
    assert isinstance(body["timestamp"], int)
    return body
