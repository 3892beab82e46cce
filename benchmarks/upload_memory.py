"""Memory of `gallery serve` under uploads: peak resident size while 8 clients upload 20 MB JPEGs at once, and the
resident size after 1,000 uploads against after the first 100 (a leak shows as growth).

The server is the installed command, as users run it (the living site rebuilding after uploads); sizes are read
from /proc (VmHWM: the process's peak; VmRSS: now), once the server has gone quiet. Promises: peak < 1 GiB; after
1,000 uploads within 10% of after 100.
"""

from __future__ import annotations

import http.client
import io
import json
import random
import tempfile
import threading
import time
from pathlib import Path

from PIL import Image

from benchmarks.harness import Comparison
from benchmarks.serving import Served, multipart

BIG = 8
SMALL = 1000
BIG_DIR = Path("build/bench-big-v1")
GIB = 1 << 30


def big_photos() -> list[bytes]:
    """Eight different JPEGs of about 20 MB (6000×4000, noisy, quality 95), made once and kept under build/."""
    BIG_DIR.mkdir(parents=True, exist_ok=True)
    out = []
    for n in range(BIG):
        path = BIG_DIR / f"big-{n}.jpg"
        if not path.exists():
            noise = Image.merge("RGB", [Image.effect_noise((6000, 4000), 60 + n) for _ in range(3)])
            buffer = io.BytesIO()
            noise.save(buffer, "JPEG", quality=95)
            path.write_bytes(buffer.getvalue())
        out.append(path.read_bytes())
    return out


def small_photo(n: int) -> bytes:
    rnd = random.Random(n)
    image = Image.new("RGB", (160, 120), (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(url: str, token: str, name: str, data: bytes) -> int:
    body, form = multipart(name, data)
    connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=120)
    headers = {"X-Authorization": f"Bearer {token}", **form}
    connection.request("POST", "/api/image", body, headers)
    response = connection.getresponse()
    answer = response.read()
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"upload {name}: {response.status} {answer[:200]!r}")
    return int(json.loads(answer)["descriptor"]["size"])


def settle(served: Served, seconds: float = 2.0) -> None:
    """Wait until the server's resident size has stopped moving (the living rebuild after uploads is done)."""
    last = served.memory()[0]
    still_since = time.monotonic()
    deadline = still_since + 60
    while time.monotonic() - still_since < seconds and time.monotonic() < deadline:
        time.sleep(0.25)
        now = served.memory()[0]
        if abs(now - last) > 1 << 20:
            still_since = time.monotonic()
        last = now


def run() -> list[Comparison]:
    photos = big_photos()
    with tempfile.TemporaryDirectory() as tmp:
        served = Served.fresh(Path(tmp) / "data")
        served.start()
        try:
            token = served.token()
            started = served.memory()[0]
            threads = [
                threading.Thread(target=upload, args=(served.url, token, f"big-{n}.jpg", data))
                for n, data in enumerate(photos)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            settle(served)
            peak = served.memory()[1]
            after = {}
            for n in range(SMALL):
                upload(served.url, token, f"small-{n}.png", small_photo(n))
                if n + 1 in (100, SMALL):
                    settle(served)
                    after[n + 1] = served.memory()[0]
        finally:
            served.stop()
    mib = 1 << 20
    print(
        f"(gallery serve: {started / mib:.0f} MiB at start, peak {peak / mib:.0f} MiB with {BIG} uploads of "
        f"{sum(map(len, photos)) / BIG / mib:.1f} MiB at once; {after[100] / mib:.0f} MiB after 100 uploads, "
        f"{after[SMALL] / mib:.0f} MiB after {SMALL})"
    )
    return [
        Comparison(f"peak RSS, {BIG} concurrent 25 MB JPEG uploads (MiB)", peak / mib, GIB / mib, 1.0, unit=" MiB"),
        Comparison(f"RSS after {SMALL} uploads vs after 100", after[SMALL] / mib, after[100] / mib, 1.1, unit=" MiB"),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
