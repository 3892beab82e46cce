"""What `gallery import` reads from elsewhere: zips and folders that lie about their members, and a server that
redirects, trickles, floods, loops or answers nonsense. Run as the installed command, from a folder of its own:
each bad entry is reported and the rest imported (exit status 1), a run that gives up says so in one line, no
traceback, and what it costs stays bounded whatever the input declares."""

from __future__ import annotations

import base64
import json
import os
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from gallery.domain import errors
from gallery.services import remote
from tests.helpers import png
from tests.test_archive import SCRIPT, THINGSBOARD_4, Shell, rows

GOOD = json.dumps({**THINGSBOARD_4, "resourceKey": "good.png"}).encode()
LATER = json.dumps({**THINGSBOARD_4, "resourceKey": "later.png", "data": base64.b64encode(png(30, 20)).decode()})


@pytest.fixture
def shell(tmp_path: Path) -> Shell:
    made = Shell(tmp_path / "shell", tmp_path / "data")
    made("tenants", "create", "Plant")
    return made


def imported(shell: Shell) -> set[str]:
    return set(rows(shell, "Plant"))


def peak_of(shell: Shell, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """The command, and the most memory it held (bytes): its own peak, read by a parent that runs nothing else."""
    measure = (
        "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, str(SCRIPT), *args],
        cwd=shell.folder,
        env=shell.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    *printed, kilobytes = done.stderr.strip().splitlines()
    done.stderr = "\n".join(printed)
    return done, int(kilobytes) * 1024


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: "), done.stderr
    return lines[0]


# --- zips that lie ---------------------------------------------------------------------------------------------------
@dataclass
class Member:
    name: str
    stored: bytes  # as it lies in the zip (deflated unless `method` says otherwise)
    crc: int
    size: int  # what the headers declare it unpacks to
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflated(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def honest(name: str, data: bytes) -> Member:
    return Member(name, deflated(data), zlib.crc32(data), len(data))


def zip_of(members: list[Member]) -> bytes:
    """A zip written field by field, so that each header says what the test wants, true or not."""
    out, directory = bytearray(), bytearray()
    for member in members:
        name = member.name.encode()
        fields = (20, member.flags, member.method, 0, 0x21, member.crc, len(member.stored), member.size, len(name), 0)
        directory += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, *fields, 0, 0, 0, 0, len(out)) + name
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, *fields) + name + member.stored
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(out), 0)
    return bytes(out + directory + end)


@pytest.fixture(scope="module")
def inflates_to_2_gib() -> bytes:
    """2 GiB of spaces, deflated (2 MB): 16 MiB compressed once, then repeated, each copy after a full flush."""
    block = b" " * (16 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    one = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    return one * 128 + packer.flush()


def test_a_member_that_inflates_far_beyond_what_it_declares_costs_nothing(
    shell: Shell, tmp_path: Path, inflates_to_2_gib: bytes
) -> None:
    """The review's zip: 2 MB, a member that declares 100 bytes (its CRC theirs) and inflates to 2 GiB. Python's
    zipfile cuts what it inflated to the declared size, after inflating it: 2.1 GB for one read. Read a block at a
    time, the member is its 100 bytes (not an export file); the members after it are imported."""
    lying = Member("images/bomb.json", inflates_to_2_gib, zlib.crc32(b" " * 100), 100)
    archive = tmp_path / "bomb.zip"
    archive.write_bytes(zip_of([lying, honest("images/good.json", GOOD)]))
    assert archive.stat().st_size < 3_000_000
    done, peak = peak_of(shell, "import", str(archive), "--tenant", "Plant")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bomb.json: the file is not valid JSON" in done.stdout
    assert imported(shell) == {"good.png"}
    assert peak < 200 * 2**20, peak


def test_a_member_that_declares_more_than_an_export_holds_is_refused_unread(shell: Shell, tmp_path: Path) -> None:
    archive = tmp_path / "large.zip"
    archive.write_bytes(
        zip_of([Member("images/large.json", deflated(b"{}"), 0, 300 * 2**20), honest("images/g.json", GOOD)])
    )
    done = shell("import", str(archive), "--tenant", "Plant", check=1)
    assert "300 MB is more than an export file holds (256 MB)" in done.stdout
    assert imported(shell) == {"good.png"}


def test_members_zipfile_cannot_read_are_reported_and_the_rest_imported(shell: Shell, tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    members = [
        honest("images/1-deep.json", deep),
        Member("images/2-deflate64.json", deflated(GOOD), zlib.crc32(GOOD), len(GOOD), method=9),
        Member("images/3-encrypted.json", deflated(GOOD), zlib.crc32(GOOD), len(GOOD), flags=1),
        honest("images/4-list.json", b"[1, 2]"),
        Member("images/5-bad-crc.json", deflated(GOOD), zlib.crc32(GOOD) ^ 1, len(GOOD)),
        honest("images/6-nan.json", GOOD.replace(b'"public": true', b'"public": NaN')),
        honest("images/7-later.json", LATER.encode()),
    ]
    archive = tmp_path / "bad.zip"
    archive.write_bytes(zip_of(members))
    done = shell("import", str(archive), "--tenant", "Plant", check=1)
    assert "Traceback" not in done.stderr, done.stderr
    assert "imported 1 image(s)" in done.stdout
    assert "6 refused" in done.stdout
    refusals = {line.split(":", 2)[1].split("/")[-1]: line for line in done.stdout.splitlines() if "refused " in line}
    assert "nested deeper than 64 levels" in refusals["1-deep.json"]
    assert "compression method is not supported" in refusals["2-deflate64.json"]
    assert "encrypted" in refusals["3-encrypted.json"]
    assert "Import body must be a JSON object" in refusals["4-list.json"]
    assert "Bad CRC-32" in refusals["5-bad-crc.json"]
    assert "NaN is not a JSON number" in refusals["6-nan.json"]
    assert imported(shell) == {"later.png"}


def test_two_members_of_one_name_are_both_imported(shell: Shell, tmp_path: Path) -> None:
    """Reading by name, the second member was read twice and reported as 'already there'; the first never was."""
    archive = tmp_path / "twice.zip"
    archive.write_bytes(zip_of([honest("images/a.json", GOOD), honest("images/a.json", LATER.encode())]))
    done = shell("import", str(archive), "--tenant", "Plant")
    assert "imported 2 image(s)" in done.stdout, done.stdout
    assert imported(shell) == {"good.png", "later.png"}
    again = shell("import", str(archive), "--tenant", "Plant", "--dry-run")
    assert "2 already there" in again.stdout


def test_a_zip_with_a_broken_directory_is_one_refused_source(shell: Shell, tmp_path: Path) -> None:
    broken = tmp_path / "broken.zip"
    whole = zip_of([honest("images/a.json", GOOD)])
    broken.write_bytes(whole[:-22] + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, 10**6, 5, 0))
    file = tmp_path / "later.json"
    file.write_text(LATER)
    done = shell("import", str(broken), str(file), "--tenant", "Plant", check=1)
    assert "Traceback" not in done.stderr
    assert f"refused {broken}: cannot be read" in done.stdout
    assert imported(shell) == {"later.png"}


# --- folders of files that are not files -----------------------------------------------------------------------------
def test_a_folder_holding_a_pipe_and_a_device_is_read_without_waiting_or_flooding(shell: Shell, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    os.mkfifo(folder / "fifo.json")  # opened to read, it would wait for a writer forever
    (folder / "zero.json").symlink_to("/dev/zero")  # read to its end, it would never end
    (folder / "good.json").write_bytes(GOOD)
    done, peak = peak_of(shell, "import", str(folder), "--tenant", "Plant")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fifo.json: is not a regular file" in done.stdout
    assert "zero.json: is not a regular file" in done.stdout
    assert imported(shell) == {"good.png"}
    assert peak < 200 * 2**20


# --- a server that is not what it seems ------------------------------------------------------------------------------
@dataclass
class Seen:
    """What a test server was asked: each request line and its headers."""

    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.requests]


Behaviour = Callable[[BaseHTTPRequestHandler, Seen], None]


@contextmanager
def server(behaviour: Behaviour, host: str = "127.0.0.1") -> Iterator[tuple[str, Seen]]:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def handle_one_request(self) -> None:
            try:
                super().handle_one_request()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def do_any(self) -> None:
            seen.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            behaviour(self, seen)

        do_GET = do_POST = do_any

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer((host, 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def answer(
    handler: BaseHTTPRequestHandler, body: object, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    handler.send_response(status)
    for name, value in {
        "Content-Type": "application/json",
        "Content-Length": str(len(data)),
        **(headers or {}),
    }.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


TOKEN = "token-for-the-named-origin-only"


def a_thingsboard(pages: Callable[[str, int], object], exports: Callable[[str], object] | None = None) -> Behaviour:
    """A server that signs in, lists with `pages(sub_type, page)` and exports with `exports(link)`."""

    def behave(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        path = handler.path
        if path == "/api/auth/login":
            answer(handler, {"token": TOKEN, "refreshToken": "r"})
        elif path.startswith("/api/images?"):
            query = dict(part.split("=", 1) for part in path.split("?", 1)[1].split("&"))
            answer(handler, pages(query["imageSubType"], int(query["page"])))
        elif path.endswith("/export") and exports is not None:
            answer(handler, exports(path.removesuffix("/export")))
        else:
            answer(handler, {"status": 404, "message": "not here", "errorCode": 32}, 404)

    return behave


def listing(links: list[str], has_next: bool = False) -> dict[str, object]:
    return {"data": [{"link": link} for link in links], "hasNext": has_next, "totalPages": 1, "totalElements": 1}


def only_images(links: list[str]) -> Callable[[str, int], object]:
    return lambda sub_type, page: listing(links if sub_type == "IMAGE" and page == 0 else [])


def export_of(link: str) -> object:
    key = link.rsplit("/", 1)[1]
    return {**THINGSBOARD_4, "resourceKey": key, "link": link}


def copy_from(shell: Shell, url: str, *more: str, check: int | None = None) -> subprocess.CompletedProcess[str]:
    return shell("import", "--tenant", "Plant", "--from", url, "--username", "u", "--password", "p", *more, check=check)


def redirect_to(target: Callable[[], str], on: str) -> Behaviour:
    """Signs in; then answers `on` (a path prefix) with a redirect to `target()` + the path."""
    inner = a_thingsboard(only_images(["/api/images/tenant/a.png"]), export_of)

    def behave(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if handler.path.startswith(on):
            answer(handler, b"", 307, {"Location": target() + handler.path})
        else:
            inner(handler, seen)

    return behave


@pytest.mark.parametrize(
    ("other_host", "on"),
    [("127.0.0.1", "/api/images?"), ("localhost", "/api/images?"), ("127.0.0.1", "/api/auth/login")],
    ids=["another port, same host", "another host name", "the login itself"],
)
def test_a_redirect_to_another_origin_is_not_followed_with_the_token(shell: Shell, other_host: str, on: str) -> None:
    with (
        server(lambda handler, seen: answer(handler, {"stolen": True}), other_host) as (elsewhere, taken),
        server(redirect_to(lambda: elsewhere, on)) as (url, _),
    ):
        done = copy_from(shell, url, check=1)
    assert "another origin, not followed" in one_line_error(done)
    assert taken.requests == []  # neither the token nor the password went there
    assert imported(shell) == set()


def test_a_redirect_within_the_origin_is_followed(shell: Shell) -> None:
    inner = a_thingsboard(only_images(["/api/images/tenant/a.png"]), export_of)

    def behave(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if handler.path.startswith("/api/images?"):
            answer(handler, b"", 302, {"Location": "/moved" + handler.path})
        else:
            handler.path = handler.path.removeprefix("/moved")
            inner(handler, seen)

    with server(behave) as (url, seen):
        done = copy_from(shell, url)
    assert "imported 1 image(s)" in done.stdout
    moved = [headers for _, path, headers in seen.requests if path.startswith("/moved")]
    assert moved
    assert all(h["x-authorization"] == f"Bearer {TOKEN}" for h in moved)


@pytest.mark.parametrize(
    "pages",
    [
        lambda sub_type, page: listing([], has_next=True),
        lambda sub_type, page: listing(["/api/images/tenant/a.png"], has_next=True),
    ],
    ids=["empty pages", "the same page again"],
)
def test_an_endless_list_is_given_up_in_one_line(shell: Shell, pages: Callable[[str, int], object]) -> None:
    """The review saw 35,943 requests in 30 s: a page that says more follow and brings nothing new ends the run."""
    with server(a_thingsboard(pages, export_of)) as (url, seen):
        done = copy_from(shell, url, check=1)
    assert "brought none not listed already; gave up" in one_line_error(done)
    assert len(seen.requests) <= 3
    assert imported(shell) == set()


def listing_by(send: Callable[[BaseHTTPRequestHandler], None]) -> Behaviour:
    """Signs in as a ThingsBoard would, then answers the image list with `send`."""
    inner = a_thingsboard(only_images([]))

    def behave(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if handler.path.startswith("/api/images?"):
            send(handler)
        else:
            inner(handler, seen)

    return behave


def trickle(part: str) -> Behaviour:
    """The list's headers (or its body) sent a byte at a time, a byte a second."""

    def send(handler: BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        slow = head + b" " * 100 if part == "headers" else b" " * 100
        if part == "body":
            handler.wfile.write(head)
        for byte in slow:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(1)

    return listing_by(send)


@pytest.mark.parametrize("part", ["body", "headers"])
def test_an_answer_sent_a_byte_a_second_is_cut_at_the_deadline(shell: Shell, part: str) -> None:
    with server(trickle(part)) as (url, _):
        started = time.monotonic()
        done = copy_from(shell, url, "--timeout", "2", check=1)
        took = time.monotonic() - started
    assert "took more than 2 s to answer GET /api/images" in one_line_error(done)
    assert took < 30  # each byte reset a 60 s read timeout: the review's ran past 150 s


def flood(declared: bool) -> Behaviour:
    """The list answered with 300 MB (said in Content-Length, or not said)."""

    def send(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declared:
            handler.send_header("Content-Length", str(300 * 2**20))
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b" " * 2**20
        for _ in range(300):
            handler.wfile.write(block)

    return listing_by(send)


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_a_300_mb_answer_is_refused_after_16_mb_at_most(shell: Shell, declared: bool) -> None:
    with server(flood(declared)) as (url, _):
        done, peak = peak_of(shell, "import", "--tenant", "Plant", "--from", url, "--username", "u", "--password", "p")
    assert "with more than 16 MB; gave up" in one_line_error(done)
    assert peak < 200 * 2**20, peak  # the review's: 1.4 GB


def test_a_hundred_thousand_links_are_listed_in_linear_time(tmp_path: Path) -> None:
    """Each link was looked for in a list of those before it: 100,000 links cost 5 billion comparisons."""
    links = [f"/api/images/tenant/{n:06d}.png" for n in range(100_000)]

    def pages(sub_type: str, page: int) -> object:
        if sub_type != "IMAGE" or page >= 10:
            return listing([])
        return listing(links[page * 10_000 : (page + 1) * 10_000], has_next=page < 9)

    listing_only = (
        "import sys; from gallery.services.remote import Remote; "
        "print(sum(1 for _ in Remote(sys.argv[1], 'u', 'p').entries()))"
    )
    with server(a_thingsboard(pages)) as (url, _):
        done = subprocess.run(
            [sys.executable, "-c", listing_only, url], capture_output=True, text=True, timeout=60, cwd=tmp_path
        )
    assert done.stdout.strip() == "100000", done.stderr


def test_answers_that_are_not_what_was_asked_are_refused_entries(shell: Shell) -> None:
    links = [
        "/api/images/tenant/list.png",
        "/api/images/tenant/deep.png",
        "/api/images/tenant/a.png\r\nX-Injected: yes",
        "/api/images/tenant/../../api/auth/user",
        "/api/images/tenant/" + "a" * 100_000 + ".png",  # longer than any key: kept cut, and refused
        "/api/images/tenant/later.png",
    ]

    def exports(link: str) -> object:
        key = link.rsplit("/", 1)[1]
        if key == "list.png":
            return [1, 2]
        if key == "deep.png":
            return json.loads("[" * 60 + "]" * 60)  # sent 60 deep; fine for JSON, and not an export
        return {**json.loads(LATER), "resourceKey": key}

    with server(a_thingsboard(only_images(links), exports)) as (url, seen):
        done = copy_from(shell, url, check=1)
    assert "Traceback" not in done.stderr, done.stderr
    assert "imported 1 image(s)" in done.stdout
    assert "5 refused" in done.stdout
    assert done.stdout.count("is not an image's link; not requested") == 3
    assert done.stdout.count("Import body must be a JSON object") == 2
    assert "\r" not in done.stdout
    assert "X-Injected: yes\n" not in done.stdout
    assert all("X-Injected" not in path and ".." not in path for path in seen.paths())
    assert imported(shell) == {"later.png"}


def test_a_list_that_is_not_a_page_is_given_up_in_one_line(shell: Shell) -> None:
    with server(a_thingsboard(lambda sub_type, page: [1, 2, 3])) as (url, _):
        done = copy_from(shell, url, check=1)
    assert "answered the image list with no page of images; gave up" in one_line_error(done)


def test_nested_json_from_the_server_is_a_refused_entry(shell: Shell) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    inner = a_thingsboard(only_images(["/api/images/tenant/deep.png", "/api/images/tenant/later.png"]))

    def behave(handler: BaseHTTPRequestHandler, seen: Seen) -> None:
        if handler.path.endswith("/deep.png/export"):
            answer(handler, deep)
        elif handler.path.endswith("/later.png/export"):
            answer(handler, LATER.encode())
        else:
            inner(handler, seen)

    with server(behave) as (url, _):
        done = copy_from(shell, url, check=1)
    assert "Traceback" not in done.stderr
    assert "nested deeper than 64 levels" in done.stdout
    assert imported(shell) == {"later.png"}


def test_the_listing_stops_at_its_most_images_and_an_export_at_its_most_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds as stated (1,000,000 images, 256 MiB an export), lowered here so a test can reach them."""
    monkeypatch.setattr(remote, "MAX_IMAGES", 5)
    monkeypatch.setattr(remote, "MAX_FILE", 1_000)
    links = [f"/api/images/tenant/{n}.png" for n in range(6)]
    with server(a_thingsboard(only_images(links[:5]), lambda link: {**THINGSBOARD_4, "pad": "x" * 2_000})) as (url, _):
        found = list(remote.Remote(url, "u", "p").entries())
        assert len(found) == 5
        with pytest.raises(errors.BadRequest, match=r"/api/images/tenant/0.png/export with more than 1000 bytes"):
            found[0].read()
    with server(a_thingsboard(only_images(links))) as (url, _), pytest.raises(errors.BadRequest, match="more than 5"):
        list(remote.Remote(url, "u", "p").entries())
