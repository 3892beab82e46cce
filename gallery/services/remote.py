"""Another gallery's images, read through ThingsBoard's REST API as `tb-rest-client` reads them: sign in, list the
images page by page (`GET /api/images`), and export each (`GET /api/images/{type}/{key}/export`) only when its turn
comes, so one image is in memory at a time. Works against ThingsBoard itself and anything that speaks its API (this
gallery included). What the login sees is what is read: a tenant administrator's images, or a system
administrator's system images.

The remote is not trusted with more than the login it was given:
- the token goes to the named origin only: a redirect within it is followed, one to another origin (another host,
  scheme or port) is refused, never followed with the token;
- every request has `TIMEOUT` seconds in all, connecting, headers and body together (a body sent a byte a second
  is cut at the deadline, not after a per-read timeout that each byte resets);
- an answer is at most `MAX_PAGE` bytes (a list page) or an export file's limit (an image), read a block at a time;
- the listing stops, and the run with it, at `MAX_IMAGES` images (or 64 MB of their links), or at a page that says
  more follow but brings no image not seen before (an endless `hasNext: true`);
- a link that is not an image's (control characters, another path) is one refused entry, and the rest go on.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from gallery.domain import errors, json_text
from gallery.domain.model import SubType
from gallery.services.archive import MAX_FILE, Entry, read_bounded

PAGE_SIZE = 100
TIMEOUT = 60
MAX_PAGE = 16 * 1024 * 1024
MAX_IMAGES = 1_000_000
MAX_LINK = 1024  # an image's link: its key is at most 255 characters, 765 percent-encoded
MAX_LINKS_HELD = 64 * 1024 * 1024  # characters of links a listing keeps, all together
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# An image's link as a ThingsBoard server lists it: its scope, then its key as one percent-encoded path segment.
_LINK = re.compile(r"/api/images/(?:tenant|system)/[A-Za-z0-9%._~!$&'()*+,;=:@-]+")


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin | None:
        parts = urlsplit(url)
        try:
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
        except ValueError:
            return None
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or port is None:
            return None
        return cls(parts.scheme, parts.hostname.lower(), port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class _Answer:
    status: int
    location: str | None
    body: bytes


class Remote:
    def __init__(self, url: str, username: str, password: str, *, timeout: float = TIMEOUT) -> None:
        origin = Origin.of(url)
        if origin is None or urlsplit(url).query or urlsplit(url).fragment:
            raise errors.ConfigError(f"--from needs an http(s) URL, not {url!r}")
        self.origin = origin
        self.base = url.rstrip("/")
        self.prefix = urlsplit(self.base).path  # a server under a path (https://host/thingsboard) keeps it
        self.timeout = timeout
        self.tls = ssl.create_default_context() if origin.scheme == "https" else None
        self.token = ""
        answer = self._call("POST", "/api/auth/login", {"username": username, "password": password}, auth=False)
        self.token = str(answer.get("token", "")) if isinstance(answer, dict) else ""
        if not self.token:
            raise errors.AuthenticationFailed(f"{self.base} gave no token for {username}")

    def entries(self) -> Iterator[Entry]:
        """One entry per image the login can see, listed first (rows only), exported as each is read."""
        links: dict[str, None] = {}  # in the order listed, each once
        held = 0  # characters of links kept
        for sub_type in SubType:  # the list shows one sub type at a time (IMAGE unless asked)
            page = 0
            while True:
                query = f"pageSize={PAGE_SIZE}&page={page}&imageSubType={sub_type.value}&sortProperty=createdTime"
                found = self._call("GET", f"/api/images?{query}&sortOrder=ASC")
                if not isinstance(found, dict) or not isinstance(found.get("data"), list | None):
                    raise errors.BadRequest(f"{self.base} answered the image list with no page of images; gave up")
                before = len(links)
                for image in found.get("data") or []:
                    link = image.get("link") if isinstance(image, dict) else None
                    if isinstance(link, str) and link not in links:
                        # A link longer than any image's is kept cut, and marked so that it is refused, not asked.
                        kept = link if len(link) <= MAX_LINK else link[:MAX_LINK] + "\n"
                        links.setdefault(kept)
                        held += len(kept)
                if len(links) > MAX_IMAGES or held > MAX_LINKS_HELD:
                    raise errors.BadRequest(f"{self.base} listed more than {MAX_IMAGES:,} images; gave up")
                if not found.get("hasNext"):
                    break
                if len(links) == before:
                    raise errors.BadRequest(
                        f"{self.base} said more {sub_type.value} images follow page {page}, but the page brought "
                        "none not listed already; gave up"
                    )
                page += 1
        for link in links:
            if _LINK.fullmatch(link) and link.rsplit("/", 1)[1] not in {".", ".."}:
                yield Entry(f"{self.base}{link}", self._exporter(link))
            else:
                yield Entry(f"{self.base} link {link[:100]!r}", _refused("is not an image's link; not requested"))

    def _exporter(self, link: str) -> Callable[[], Any]:
        return lambda: self._call("GET", f"{link}/export", most=MAX_FILE)

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True, most: int = MAX_PAGE) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["X-Authorization"] = f"Bearer {self.token}"
        answer = self._follow(method, path, data, headers, most)
        if answer.status == 401:
            raise errors.AuthenticationFailed(f"{self.base} refused the login: {_message(answer.body)}")
        if answer.status >= 400:
            raise errors.BadRequest(f"{self.base} answered {answer.status} to {method} {path}: {_message(answer.body)}")
        return json_text.parse(answer.body, f"{self.base}'s answer to {method} {path}")

    def _follow(self, method: str, path: str, data: bytes | None, headers: dict[str, str], most: int) -> _Answer:
        """The request, and the redirects that stay within the origin, all within one deadline."""
        deadline = time.monotonic() + self.timeout
        target = self.prefix + path
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._exchange(method, target, data, headers, deadline, most)
            if answer.status not in _REDIRECTS or not answer.location:
                return answer
            elsewhere = urljoin(f"{self.origin}{target}", answer.location)
            if Origin.of(elsewhere) != self.origin:
                raise errors.BadRequest(
                    f"{self.base} redirected {method} {path} to {Origin.of(elsewhere) or 'an unusable address'}: "
                    "another origin, not followed (the login and its token go to the origin named only)"
                )
            parts = urlsplit(elsewhere)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if answer.status == 303 or (answer.status in (301, 302) and method == "POST"):
                method, data = "GET", None
                headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        raise errors.BadRequest(f"{self.base} redirected {method} {path} more than {MAX_REDIRECTS} times; gave up")

    def _exchange(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str], deadline: float, most: int
    ) -> _Answer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise self._too_slow(method, target)
        if self.tls is not None:
            connection: http.client.HTTPConnection = http.client.HTTPSConnection(
                self.origin.host, self.origin.port, timeout=left, context=self.tls
            )
        else:
            connection = http.client.HTTPConnection(self.origin.host, self.origin.port, timeout=left)
        # A socket timeout bounds each read, and a trickle resets it: the deadline cuts the connection instead.
        watchdog = threading.Timer(left, _cut, (connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request(method, target, data, headers)
            response = connection.getresponse()
            body = self._body(response, method, target, most)
            if time.monotonic() >= deadline:  # what was cut short by the deadline reads as an early end
                raise self._too_slow(method, target)
            return _Answer(response.status, response.getheader("Location"), body)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if time.monotonic() >= deadline:
                raise self._too_slow(method, target) from None
            raise errors.Unavailable(f"{self.base} cannot be read ({exc})") from None
        finally:
            watchdog.cancel()
            connection.close()

    def _body(self, response: http.client.HTTPResponse, method: str, target: str, most: int) -> bytes:
        declared = response.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > most:
            raise self._too_large(method, target, most)
        return read_bounded(response.read1, most, lambda: self._too_large(method, target, most))

    def _too_slow(self, method: str, target: str) -> errors.GalleryError:
        return errors.Unavailable(f"{self.base} took more than {self.timeout:g} s to answer {method} {target}; gave up")

    def _too_large(self, method: str, target: str, most: int) -> errors.GalleryError:
        return errors.BadRequest(
            f"{self.base} answered {method} {target} with more than {errors.display_size(most)}; gave up"
        )


def _cut(connection: http.client.HTTPConnection) -> None:
    """Wake whatever waits on the connection's socket (closing it alone would not)."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _refused(why: str) -> Callable[[], Any]:
    def read() -> Any:
        raise errors.BadRequest(why)

    return read


def _message(body: bytes) -> str:
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return ""
    message = answer.get("message", "") if isinstance(answer, dict) else ""
    return str(message)[:300]
