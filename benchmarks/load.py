"""Load: 16 clients for 60 s against a real `gallery serve`, a realistic mix of every operation, then a check that
nothing acknowledged was lost — and the same while the server is SIGKILLed and restarted, and on the AWS backend
(moto over loopback) with ~10% of AWS calls refused by a botocore stub.

Each client writes only its own keys and keeps, per key, the states the server may hold: one after an acknowledged
write; the old and the new after a write whose answer never came (the server died); unchanged after a 503 (a refused
write must change nothing). Reads check against that as they go (a download of a key in one known state must be
its bytes; with its tag, a 304). At the end, with the server quiet:

- every image listed is one a client wrote, in one of its allowed states, its bytes byte-identical (SHA-256 of the
  download is the ETag, and the ETag the one written);
- every key a client holds as certainly there is listed;
- the tenant's usage equals the sum of the listed sizes;
- no request got a 5xx other than the 503 that refused AWS calls are meant to give;
- after the kills, `gallery gc` leaves the blob folder holding exactly the bytes the catalog refers to.

`python -m benchmarks.load` prints throughput and p50/p99 latency per run; `tests/test_load.py` runs a short one.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import io
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from benchmarks.serving import Served, multipart

CLIENTS = 16
SECONDS = 60.0
# What dashboards and people do, roughly: mostly reads, a write in five.
MIX = {
    "download": 25,
    "revalidate": 20,
    "list": 14,
    "search": 8,
    "upload": 12,
    "update": 5,
    "rename": 5,
    "delete": 5,
    "import": 4,
    "info": 2,
}
WRITES = {"upload", "update", "rename", "delete", "import"}

# A key's possible state on the server: None (absent) or (etag, title).
State = tuple[str, str] | None


@dataclass
class Violation:
    what: str


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    unanswered: Counter[str] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, status: int, seconds: float) -> None:
        with self.lock:
            self.statuses[(op, status)] += 1
            if status < 500:
                self.latencies.setdefault(op, []).append(seconds)

    def violation(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    def answered(self) -> set[str]:
        """The operations that have had at least one answer other than a server error."""
        with self.lock:
            return {op for (op, status), n in self.statuses.items() if status < 500 and n}


class Unanswered(Exception):
    """The connection failed before an answer: the server may or may not have done it."""


def picture(rnd: random.Random) -> tuple[bytes, str]:
    """A small PNG or JPEG, different every time (1 KB to ~60 KB)."""
    size = (rnd.randrange(16, 220), rnd.randrange(16, 160))
    image = Image.new("RGB", size, (rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    if rnd.random() < 0.5:
        image = Image.merge("RGB", [Image.effect_noise(size, rnd.randrange(5, 60)) for _ in range(3)])
    out = io.BytesIO()
    if rnd.random() < 0.6:
        image.save(out, "PNG")
        return out.getvalue(), "png"
    image.save(out, "JPEG", quality=rnd.randrange(60, 95))
    return out.getvalue(), "jpg"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Client:
    def __init__(self, number: int, served: Served, token: str, tally: Tally, seed: int) -> None:
        self.number = number
        self.served = served
        self.auth = {"X-Authorization": f"Bearer {token}"}
        self.tally = tally
        self.rnd = random.Random(seed * 1000 + number)
        self.keys: dict[str, list[State]] = {}  # key → the states the server may hold
        self.made = 0
        self.connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    # --- HTTP ---------------------------------------------------------------------------------------------------
    def call(
        self, op: str, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        if self.connection is None:
            self.connection = http.client.HTTPConnection("127.0.0.1", self.served.port, timeout=60)
        start = time.perf_counter()
        try:
            self.connection.request(method, path, body, {**self.auth, **(headers or {})})
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.connection = None
            self.tally.unanswered[op] += 1
            raise Unanswered(str(exc)) from None
        self.tally.record(op, response.status, time.perf_counter() - start)
        if response.status >= 500 and response.status != 503:
            self.tally.violation(f"{op} {path}: {response.status} {data[:200]!r}")
        return response.status, data, response

    def steady(self, path: str) -> tuple[int, bytes]:
        """A check's GET, tried again while refused with 503 (the AWS run refuses on purpose)."""
        for _ in range(50):
            status, data, _ = self.call("check", "GET", path)
            if status != 503:
                return status, data
        raise RuntimeError(f"{path} kept answering 503")

    # --- bookkeeping --------------------------------------------------------------------------------------------
    def settle(self, key: str, status: int, new: State, op: str) -> None:
        """After a write: 200 makes `new` the only state; 503 (refused) changes nothing; anything else is wrong."""
        if status == 200:
            self.keys[key] = [new]
        elif status != 503:
            self.tally.violation(f"{op} {key}: unexpected {status}")

    def maybe(self, key: str, new: State) -> None:
        """A write whose answer never came: the server may hold either state."""
        self.keys[key] = [*self.keys.get(key, [None]), new]

    def certain(self, key: str) -> State | None:
        states = self.keys.get(key, [None])
        return states[0] if len(set(states)) == 1 else None

    def owned(self) -> str | None:
        present = [k for k, states in self.keys.items() if any(s is not None for s in states)]
        return self.rnd.choice(present) if present else None

    # --- operations ---------------------------------------------------------------------------------------------
    def step(self) -> None:
        op = self.rnd.choices(list(MIX), weights=list(MIX.values()))[0]
        key = self.owned()
        if op in {"upload", "import"} or key is None:
            self.create("import" if op == "import" else "upload")
        elif op == "update":
            self.update(key)
        elif op == "rename":
            self.rename(key)
        elif op == "delete":
            self.delete(key)
        elif op == "download":
            self.download(key)
        elif op == "revalidate":
            self.revalidate(key)
        elif op == "info":
            self.call(op, "GET", f"/api/images/tenant/{key}/info")
        elif op == "list":
            sort = self.rnd.choice(["createdTime", "title"])
            self.call(op, "GET", f"/api/images?pageSize=20&page=0&sortProperty={sort}&sortOrder=DESC")
        else:
            self.call(op, "GET", f"/api/images?pageSize=20&page=0&textSearch=c{self.rnd.randrange(CLIENTS)}-")

    def create(self, op: str) -> None:
        self.made += 1
        data, extension = picture(self.rnd)
        key = f"c{self.number}-{self.made}.{extension}"
        new = (sha256(data), key)
        try:
            if op == "upload":
                body, headers = multipart(key, data)
                status, answer, _ = self.call(op, "POST", "/api/image", body, headers)
            else:
                export = {
                    "title": key,
                    "type": "IMAGE",
                    "subType": "IMAGE",
                    "resourceKey": key,
                    "fileName": key,
                    "public": True,
                    "mediaType": f"image/{'png' if extension == 'png' else 'jpeg'}",
                    "data": base64.b64encode(data).decode(),
                }
                headers = {"Content-Type": "application/json"}
                status, answer, _ = self.call(op, "PUT", "/api/image/import", json.dumps(export).encode(), headers)
        except Unanswered:
            self.maybe(key, new)
            return
        if status == 200 and json.loads(answer)["resourceKey"] != key:
            self.tally.violation(f"{op}: asked for {key}, got {json.loads(answer)['resourceKey']}")
        self.settle(key, status, new, op)

    def update(self, key: str) -> None:
        """New bytes, same key and title (whichever of its possible titles the server holds)."""
        data, _ = picture(self.rnd)
        before = self.keys[key]
        after: list[State] = list(dict.fromkeys((sha256(data), s[1]) for s in before if s is not None))
        body, headers = multipart(key, data)
        try:
            status, _, _ = self.call("update", "PUT", f"/api/images/tenant/{key}", body, headers)
        except Unanswered:
            self.keys[key] = [*before, *after]
            return
        if status == 200:
            self.keys[key] = after
        elif status == 404 and None in before:
            self.keys[key] = [None]  # the delete whose answer never came had happened
        elif status != 503:
            self.tally.violation(f"update {key}: unexpected {status}")

    def rename(self, key: str) -> None:
        current = self.certain(key)
        if current is None:
            return
        title = f"{key} {self.rnd.randrange(10_000)}"
        body = json.dumps({"title": title}).encode()
        try:
            status, _, _ = self.call(
                "rename", "PUT", f"/api/images/tenant/{key}/info", body, {"Content-Type": "application/json"}
            )
        except Unanswered:
            self.maybe(key, (current[0], title))
            return
        self.settle(key, status, (current[0], title), "rename")

    def delete(self, key: str) -> None:
        try:
            status, _, _ = self.call("delete", "DELETE", f"/api/images/tenant/{key}?force=true")
        except Unanswered:
            self.maybe(key, None)
            return
        if status == 404 and None in self.keys[key]:
            status = 200  # already gone: a delete or an upload whose answer never came
        self.settle(key, status, None, "delete")

    def download(self, key: str) -> None:
        try:
            status, data, _ = self.call("download", "GET", f"/api/images/tenant/{key}")
        except Unanswered:
            return
        known = self.certain(key)
        if status == 200 and known is not None and sha256(data) != known[0]:
            self.tally.violation(f"download {key}: bytes {sha256(data)[:12]}, wrote {known[0][:12]}")
        if status == 404 and known is not None:
            self.tally.violation(f"download {key}: 404 for an acknowledged image")

    def revalidate(self, key: str) -> None:
        known = self.certain(key)
        if known is None:
            return
        try:
            status, _, _ = self.call(
                "revalidate", "GET", f"/api/images/tenant/{key}", None, {"If-None-Match": f'"{known[0]}"'}
            )
        except Unanswered:
            return
        if status not in (304, 503):
            self.tally.violation(f"revalidate {key}: {status} where the tag is current")


@dataclass
class Outcome:
    name: str
    seconds: float
    tally: Tally
    checked: int = 0
    usage: int = 0
    kills: int = 0
    collected: str = ""

    def requests(self) -> int:
        return sum(self.tally.statuses.values())

    def report(self) -> list[str]:
        rate = self.requests() / self.seconds
        lines = [
            f"{self.name}: {self.requests()} requests in {self.seconds:.0f} s = {rate:.0f}/s, "
            f"{sum(self.tally.unanswered.values())} unanswered (kills: {self.kills}), "
            f"503s: {sum(n for (_, s), n in self.tally.statuses.items() if s == 503)}, "
            f"violations: {len(self.tally.violations)}; {self.checked} images checked byte for byte, "
            f"usage {self.usage} = sum of sizes{'; gc: ' + self.collected if self.collected else ''}"
        ]
        for op, times in sorted(self.tally.latencies.items()):
            ms = sorted(t * 1000 for t in times)
            p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
            lines.append(f"  {op:<10} {len(ms):6d}  p50 {statistics.median(ms):7.1f} ms  p99 {p99:7.1f} ms")
        return lines


def run_load(
    served: Served, name: str, clients: int, seconds: float, kills: int = 0, seed: int = 1, at_most: float = 0.0
) -> Outcome:
    """`seconds` of the mix; then, up to `at_most` seconds in all, until every operation has had an answer other
    than a server error (a short run on a slow backend may otherwise never draw a rare one that succeeds)."""
    tally = Tally()
    token = served.token()
    workers = [Client(n, served, token, tally, seed) for n in range(clients)]
    started = time.monotonic()
    stop, latest = started + seconds, started + max(seconds, at_most)
    outcome = Outcome(name, seconds, tally)

    def going() -> bool:
        now = time.monotonic()
        return now < stop or (now < latest and not set(MIX) <= tally.answered())

    def drive(client: Client) -> None:
        while going():
            try:
                client.step()
            except Unanswered:
                time.sleep(0.05)
        client.close()

    threads = [threading.Thread(target=drive, args=(c,)) for c in workers]
    for thread in threads:
        thread.start()
    for n in range(kills):
        time.sleep(max(0.0, stop - time.monotonic()) / (kills - n + 1))
        served.kill()
        served.start()
        outcome.kills += 1
    for thread in threads:
        thread.join()
    outcome.seconds = time.monotonic() - started
    verify(served, workers, outcome, token)
    return outcome


def verify(served: Served, workers: list[Client], outcome: Outcome, token: str) -> None:
    """The invariants, read through the API with the server quiet."""
    checker = Client(-1, served, token, outcome.tally, 0)
    listed: dict[str, dict[str, Any]] = {}
    page = 0
    while True:
        status, data = checker.steady(f"/api/images?pageSize=500&page={page}")
        assert status == 200, data
        body = json.loads(data)
        listed.update({image["resourceKey"]: image for image in body["data"]})
        if not body["hasNext"]:
            break
        page += 1
    allowed: dict[str, list[State]] = {}
    for worker in workers:
        allowed.update(worker.keys)
    violation = outcome.tally.violation
    for key, states in allowed.items():
        if key not in listed and None not in states:
            violation(f"acknowledged {key} is gone")
    for key, image in listed.items():
        state = (image["etag"], image["title"])
        if key not in allowed:
            violation(f"stray image {key}")
        elif state not in allowed[key]:
            violation(f"{key} holds {state}, expected one of {allowed[key]}")
        status, data = checker.steady(f"/api/images/tenant/{key}")
        if status != 200 or sha256(data) != image["etag"]:
            violation(f"{key}: download {status}, bytes {sha256(data)[:12]} for etag {image['etag'][:12]}")
        outcome.checked += 1
    status, data = checker.steady("/api/system/params")
    outcome.usage = json.loads(data)["resourcesInBytes"]
    total = sum(int(image["descriptor"]["size"]) for image in listed.values())
    if outcome.usage != total:
        violation(f"usage {outcome.usage} but the listed images add up to {total}")
    checker.close()


def blobs_match_catalog(served: Served, listed_etags: set[str]) -> list[str]:
    """Local backend, server stopped, after `gallery gc`: the blob folder holds what the catalog refers to, and
    no more (a write interrupted by the kill may leave a temporary file, which gc removes once it is an hour old)."""
    on_disk = {p.name for p in (served.data / "blobs").rglob("*") if p.is_file() and not p.name.startswith(".")}
    return [f"unreferenced blob {name}" for name in on_disk - listed_etags] + [
        f"missing blob {name}" for name in listed_etags - on_disk
    ]


def referenced(served: Served, token: str) -> set[str]:
    checker = Client(-1, served, token, Tally(), 0)
    etags: set[str] = set()
    page = 0
    while True:
        _, data = checker.steady(f"/api/images?pageSize=500&page={page}")
        body = json.loads(data)
        for image in body["data"]:
            etags.add(image["etag"])
            etags.add(image["descriptor"]["previewDescriptor"]["etag"])
        if not body["hasNext"]:
            checker.close()
            return etags
        page += 1


def local_runs(clients: int, seconds: float, work: Path, on_line: Callable[[str], None] = print) -> list[Outcome]:
    """Two runs on the embedded default: steady, then with two SIGKILLs and restarts, then gc and the blob check."""
    outcomes = []
    for name, kills in (("local", 0), ("local, SIGKILL twice", 2)):
        served = Served.fresh(work / name.replace(" ", "-").replace(",", "") / "data")
        served.start()
        try:
            outcome = run_load(served, name, clients, seconds, kills)
            if kills:
                token = served.token()
                etags = referenced(served, token)
                served.stop()
                outcome.collected = served.command("gc").replace("\n", ", ")
                outcome.tally.violations += blobs_match_catalog(served, etags)
        finally:
            served.stop()
        for line in outcome.report():
            on_line(line)
        outcomes.append(outcome)
    return outcomes


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = local_runs(CLIENTS, SECONDS, Path(tmp))
        outcomes.append(aws_run(CLIENTS, SECONDS, Path(tmp)))
    failed = [v for o in outcomes for v in o.tally.violations]
    for line in failed[:20]:
        print("VIOLATION", line)
    return 1 if failed else 0


def aws_run(
    clients: int,
    seconds: float,
    work: Path,
    refuse: float = 0.1,
    on_line: Callable[[str], None] = print,
    at_most: float = 0.0,
) -> Outcome:
    """The same mix on the AWS backend: moto over loopback, ~`refuse` of the server's AWS calls refused."""
    import logging

    from moto.server import ThreadedMotoServer

    # moto's server logs every request, and the errors of its own races under 16 clients (answered as 500s, which
    # the server's AWS client retries or turns into 503s)
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    try:
        host, port = moto.get_host_and_port()
        aws = {
            "GALLERY_BACKEND": "aws",
            "GALLERY_TABLE": "load",
            "GALLERY_BUCKET": "load",
            "AWS_ENDPOINT_URL": f"http://{host}:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        launcher = (sys.executable, "-m", "benchmarks.throttle", str(refuse))
        aws["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])  # where `benchmarks` is, from any folder
        served = Served.fresh(work / "aws" / "data", aws, ("--no-rebuild",), launcher, provision=True)
        served.start()
        try:
            name = f"aws (moto), {refuse:.0%} of AWS calls refused"
            outcome = run_load(served, name, clients, seconds, at_most=at_most)
        finally:
            served.stop()
    finally:
        moto.stop()
    for line in outcome.report():
        on_line(line)
    return outcome


if __name__ == "__main__":
    raise SystemExit(main())
