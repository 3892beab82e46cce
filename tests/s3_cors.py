"""CORS as S3 answers it, in front of moto (which answered a cross-origin request whatever the bucket's rules said):
a preflight is allowed or refused by the bucket's CORS configuration, and an actual request carries
`Access-Control-Allow-Origin` only when a rule admits it. Chromium, driven against moto through this layer, then
blocks exactly what it would block on S3.

S3's evaluation ("How does Amazon S3 evaluate the CORS configuration on a bucket?", S3 User Guide): the first rule
whose AllowedOrigins match the Origin (one `*` wildcard at most), whose AllowedMethods hold the method (for a
preflight, Access-Control-Request-Method), and whose AllowedHeaders match every header of
Access-Control-Request-Headers (case-insensitively, `*` wildcards) admits the request; none: a preflight is a 403
("CORSResponse: This CORS request is not allowed."), an actual request gets no CORS headers. Every cross-origin
request is recorded (`RECORDED`) for tests to look at.
"""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

CORS_HEADERS = ("access-control-",)


@dataclass(frozen=True)
class Rule:
    methods: tuple[str, ...]
    origins: tuple[str, ...]
    headers: tuple[str, ...] = ()
    expose: tuple[str, ...] = ()
    max_age: int | None = None

    @classmethod
    def from_api(cls, rule: dict[str, Any]) -> Rule:
        """A rule as get_bucket_cors returns it."""
        return cls(
            tuple(rule.get("AllowedMethods", [])),
            tuple(rule.get("AllowedOrigins", [])),
            tuple(rule.get("AllowedHeaders", [])),
            tuple(rule.get("ExposeHeaders", [])),
            rule.get("MaxAgeSeconds"),
        )


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    origin: str
    request_method: str  # a preflight's Access-Control-Request-Method
    request_headers: tuple[str, ...]  # a preflight's Access-Control-Request-Headers
    allowed: bool


RECORDED: list[Seen] = []
_lock = threading.Lock()


def matching_rule(rules: Iterable[Rule], origin: str, method: str, headers: Iterable[str] = ()) -> Rule | None:
    wanted = [h.strip().lower() for h in headers if h.strip()]
    for rule in rules:
        if not any(fnmatch.fnmatchcase(origin, allowed) for allowed in rule.origins):
            continue
        if method not in rule.methods:
            continue
        if all(any(fnmatch.fnmatchcase(h, a.lower()) for a in rule.headers) for h in wanted):
            return rule
    return None


class S3Cors:
    """WSGI middleware: `rules_for(bucket)` is the bucket's CORS rules, or None when the path names no bucket."""

    def __init__(self, app: Callable[..., Iterable[bytes]], rules_for: Callable[[str], list[Rule] | None]) -> None:
        self.app = app
        self.rules_for = rules_for

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
        rules = self.rules_for(bucket) if origin and bucket else None
        if rules is None or origin is None:
            return self.app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        preflight = method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ
        asked = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD", method) if preflight else method
        headers = tuple(environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS", "").split(",")) if preflight else ()
        rule = matching_rule(rules, origin, asked, headers)
        with _lock:
            RECORDED.append(
                Seen(
                    method,
                    environ.get("PATH_INFO", ""),
                    origin,
                    asked if preflight else "",
                    tuple(h.strip().lower() for h in headers if h.strip()),
                    rule is not None,
                )
            )
        if preflight:
            if rule is None:
                start_response("403 Forbidden", [("Content-Type", "application/xml")])
                return [b"<Error><Code>AccessForbidden</Code><Message>CORSResponse: This CORS request is not allowed."
                        b"</Message></Error>"]  # fmt: skip
            allow = [
                ("Access-Control-Allow-Origin", "*" if rule.origins == ("*",) else origin),
                ("Access-Control-Allow-Methods", ", ".join(rule.methods)),
                ("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"),
            ]
            if headers and any(h.strip() for h in headers):
                allow.append(("Access-Control-Allow-Headers", ", ".join(h.strip() for h in headers if h.strip())))
            if rule.max_age is not None:
                allow.append(("Access-Control-Max-Age", str(rule.max_age)))
            start_response("200 OK", [*allow, ("Content-Length", "0")])
            return [b""]

        def respond(status: str, response_headers: list[tuple[str, str]], *args: Any) -> Any:
            kept = [(k, v) for k, v in response_headers if not k.lower().startswith(CORS_HEADERS)]
            if rule is not None:
                kept.append(("Access-Control-Allow-Origin", "*" if rule.origins == ("*",) else origin))
                kept.append(("Vary", "Origin"))
                if rule.expose:
                    kept.append(("Access-Control-Expose-Headers", ", ".join(rule.expose)))
            return start_response(status, kept, *args)

        return self.app(environ, respond)


def moto_rules(bucket: str) -> list[Rule] | None:
    """The bucket's CORS rules in this process's moto backend (None: no such bucket)."""
    from moto.s3.models import s3_backends

    backend = s3_backends["123456789012"]["aws"]
    found = backend.buckets.get(bucket)
    if found is None:
        return None
    return [
        Rule(
            tuple(r.allowed_methods or ()),
            tuple(r.allowed_origins or ()),
            tuple(r.allowed_headers or ()),
            tuple(r.exposed_headers or ()),
            int(r.max_age_seconds) if r.max_age_seconds is not None else None,
        )
        for r in found.cors
    ]
