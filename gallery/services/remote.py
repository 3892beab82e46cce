"""Another gallery's images, read through ThingsBoard's REST API as `tb-rest-client` reads them: sign in, list the
images page by page (`GET /api/images`), and export each (`GET /api/images/{type}/{key}/export`) only when its turn
comes, so one image is in memory at a time. Works against ThingsBoard itself and anything that speaks its API (this
gallery included). What the login sees is what is read: a tenant administrator's images, or a system
administrator's system images."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from gallery.domain import errors
from gallery.domain.model import SubType
from gallery.services.archive import Entry

PAGE_SIZE = 100
TIMEOUT = 60


class Remote:
    def __init__(self, url: str, username: str, password: str) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise errors.ConfigError(f"--from needs an http(s) URL, not {url!r}")
        self.base = url.rstrip("/")
        answer = self._call("POST", "/api/auth/login", {"username": username, "password": password}, auth=False)
        self.token = str(answer.get("token", ""))
        if not self.token:
            raise errors.AuthenticationFailed(f"{self.base} gave no token for {username}")

    def entries(self) -> Iterator[Entry]:
        """One entry per image the login can see, listed first (rows only), exported as each is read."""
        links: list[str] = []
        for sub_type in SubType:  # the list shows one sub type at a time (IMAGE unless asked)
            page = 0
            while True:
                query = f"pageSize={PAGE_SIZE}&page={page}&imageSubType={sub_type.value}&sortProperty=createdTime"
                found = self._call("GET", f"/api/images?{query}&sortOrder=ASC")
                for image in found.get("data") or []:
                    link = image.get("link") if isinstance(image, dict) else None
                    if isinstance(link, str) and link.startswith("/api/images/") and link not in links:
                        links.append(link)
                if not found.get("hasNext"):
                    break
                page += 1
        for link in links:
            yield Entry(f"{self.base}{link}", self._exporter(link))

    def _exporter(self, link: str) -> Any:
        return lambda: self._call("GET", f"{link}/export")

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth:
            headers["X-Authorization"] = f"Bearer {self.token}"
        # The scheme was checked to be http(s) in __init__, and every path is the API's own.
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as exc:
            message = _message(exc)
            exc.close()
            if exc.code == 401:
                raise errors.AuthenticationFailed(f"{self.base} refused the login: {message}") from None
            raise errors.BadRequest(f"{self.base} answered {exc.code} to {method} {path}: {message}") from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise errors.Unavailable(f"{self.base} cannot be read ({exc})") from None


def _message(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return exc.reason if isinstance(exc.reason, str) else ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""
