"""An upload's bytes are held in memory once: the body is spooled to disk by the form parser (werkzeug, above
500 KB) and read from there once; checks, preview and storage all work on that one copy. Measured with tracemalloc,
which sees every Python object (the request body, its copies) though not Pillow's pixel buffers."""

from __future__ import annotations

import io
import tracemalloc
import uuid

from flask.testing import FlaskClient
from PIL import Image

from tests.conftest import Actor


def noisy_jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise((width, height), 80) for _ in range(3)]).save(out, "JPEG", quality=98)
    return out.getvalue()


def test_an_upload_holds_its_bytes_in_memory_once(client: FlaskClient, admin: Actor) -> None:
    data = noisy_jpeg(2000, 1500)
    assert len(data) > 4 << 20
    boundary = uuid.uuid4().hex
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.jpg"\r\n\r\n'.encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    headers = {**admin.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    client.post("/api/image", data=b"warm-up", headers=headers)  # imports and caches outside the measurement
    tracemalloc.start()
    try:
        response = client.post("/api/image", data=body, headers=headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.get("/api/images/tenant/big.jpg", headers=admin.headers).data == data
    # One copy of the bytes, and what the request's handling needs beside it; a second copy would double it.
    assert peak < 1.5 * len(data), f"peak {peak:,} bytes for an upload of {len(data):,}"
