"""Every setting, declared once: name, environment variable, type, default and help.

`Settings.from_env()` reads them all at start-up into one frozen, typed object; a malformed value is a
`ConfigError` naming the variable. The README's configuration table is generated from `SETTINGS` (see
`markdown_table`) and a test keeps the two equal.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gallery.domain.errors import ConfigError


def parse_bool(text: str) -> bool:
    """ThingsBoard clients send Python-style `True`/`False`; booleans parse case-insensitively."""
    lowered = text.strip().lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ValueError(f"expected a whole number of at least {least}") from None
    if value < least:
        raise ValueError(f"expected a whole number of at least {least}")
    return value


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _backend(text: str) -> str:
    if text not in {"local", "aws"}:
        raise ValueError("expected 'local' or 'aws'")
    return text


def _data_dir(text: str) -> Path:
    if text.strip():
        return Path(text.strip()).expanduser()
    home = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(home) if home else Path.home() / ".local" / "share") / "image-gallery"


def _optional_path(text: str) -> Path | None:
    return Path(text.strip()).expanduser() if text.strip() else None


def _log_format(text: str) -> str:
    if text not in {"plain", "json"}:
        raise ValueError("expected 'plain' or 'json'")
    return text


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(part.strip().rstrip("/") for part in text.split(",") if part.strip())
    for origin in origins:
        scheme, _, rest = origin.partition("://")
        if origin != "*" and (scheme not in {"http", "https"} or not rest or "/" in rest):
            raise ValueError(f"expected origins such as https://gallery.example.com (or *); {origin!r} is not one")
    return origins


def _parameter_path(text: str) -> str:
    path = text.strip()
    if path and not (path.startswith("/") and path.endswith("/") and "//" not in path):
        raise ValueError("expected a parameter path such as /image-gallery/dev/")
    return path


def _base_url(text: str) -> str:
    url = text.strip().rstrip("/")
    if not url:
        return ""
    parsed = urlsplit(url)
    if parsed.scheme not in {"http", "https"} or not parsed.netloc or parsed.query or parsed.fragment:
        raise ValueError("expected a base URL such as https://gallery.example.com")
    return url


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    parse: Callable[[str], Any]
    default: str
    help: str
    secret: bool = False  # may come from the parameter store instead (`GALLERY_SECRETS_PATH`)


SETTINGS: tuple[Setting, ...] = (
    Setting("backend", "GALLERY_BACKEND", _backend, "local", "Storage backend: `local` (SQLite + files) or `aws`."),
    Setting(
        "data_dir",
        "GALLERY_DATA_DIR",
        _data_dir,
        "",
        "Where the embedded default keeps its database, files, rendition cache and living site. Empty: the user's "
        "data folder, `$XDG_DATA_HOME/image-gallery` (`~/.local/share/image-gallery`): never the folder a command "
        "was started from.",
    ),
    Setting(
        "site_dir",
        "GALLERY_SITE_DIR",
        _optional_path,
        "",
        "The static gallery: where `gallery build` writes it, `gallery serve` serves it beside the API (same origin) "
        "and `gallery publish` reads it. Empty: `site` in the data folder.",
    ),
    Setting(
        "log_format",
        "GALLERY_LOG_FORMAT",
        _log_format,
        "plain",
        "The request log's lines (one per request: method, route, status, bytes, duration, request id, tenant): "
        "`plain` or `json`.",
    ),
    Setting(
        "request_id_header",
        "GALLERY_REQUEST_ID_HEADER",
        str,
        "",
        "A header your proxy or load balancer sets to a request id (`X-Request-Id`): its value is then the id the "
        "log and the response carry. Empty: the server makes every id (a client's own header is not believed).",
    ),
    Setting(
        "cors_origins",
        "GALLERY_CORS_ORIGINS",
        _origins,
        "",
        "Origins (comma-separated) whose pages may call the API from a browser, for a management page published "
        "elsewhere than the API. Empty: the API's own origin only.",
    ),
    Setting(
        "public_url",
        "GALLERY_PUBLIC_URL",
        _base_url,
        "",
        "The API's public base URL (`https://gallery.example.com`), for the upload forms the local backend hands "
        "out. Empty: their URLs are relative to the API (never built from a request's Host header).",
    ),
    Setting(
        "proxy_secret",
        "GALLERY_PROXY_SECRET",
        str,
        "",
        "On Lambda: a secret your CloudFront distribution sends as the origin header `X-Gallery-Proxy`; requests "
        "carrying it are throttled by the viewer's address CloudFront reports, others by the connection's.",
        secret=True,
    ),
    Setting(
        "site_bucket",
        "GALLERY_SITE_BUCKET",
        str,
        "",
        "On AWS: the S3 bucket the static gallery is published to, kept current by the publisher function (its "
        "DynamoDB stream and hourly run). Empty: the publisher does nothing.",
    ),
    Setting("site_prefix", "GALLERY_SITE_PREFIX", str, "", "Key prefix of the published site inside its bucket."),
    Setting(
        "site_distribution",
        "GALLERY_SITE_DISTRIBUTION",
        str,
        "",
        "CloudFront distribution in front of the published site: the publisher invalidates the content-named files it"
        " deleted or restamped (pages are `no-cache`).",
    ),
    Setting(
        "publisher_failures",
        "GALLERY_PUBLISHER_FAILURES",
        str,
        "",
        "On AWS: the SQS queue (its name) the stream mapping notes the batches it gave up on in; the publisher's "
        "hourly run reads them back from the stream (kept 24 hours) and publishes what they changed. Empty: they "
        "wait for the daily pass.",
    ),
    Setting(
        "site_tenant",
        "GALLERY_SITE_TENANT",
        str,
        "",
        "The tenant (name or id) whose public images the published site shows, with the system's. Empty: the "
        "system's images alone.",
    ),
    Setting("table", "GALLERY_TABLE", str, "image-gallery", "DynamoDB table of the aws backend."),
    Setting("bucket", "GALLERY_BUCKET", str, "", "S3 bucket of the aws backend (required there)."),
    Setting(
        "aws_endpoint_url",
        "AWS_ENDPOINT_URL",
        str,
        "",
        "Endpoint for DynamoDB and S3 (moto, LocalStack…); empty: AWS itself.",
    ),
    Setting(
        "jwt_secret",
        "GALLERY_JWT_SECRET",
        str,
        "",
        "HMAC key for tokens (32+ bytes). Empty: the local backend creates one in the data directory.",
        secret=True,
    ),
    Setting(
        "secrets_path",
        "GALLERY_SECRETS_PATH",
        _parameter_path,
        "",
        "An SSM Parameter Store path (`/image-gallery/dev/`) whose SecureString parameters `GALLERY_JWT_SECRET` and "
        "`GALLERY_PROXY_SECRET` are read at start-up, so a function's environment holds where the secrets are, never "
        "their values; a secret set in the environment wins. `make deploy` creates them.",
    ),
    Setting(
        "access_token_ttl",
        "GALLERY_ACCESS_TOKEN_TTL",
        _positive_int,
        "9000",
        "Access token lifetime, seconds.",
    ),
    Setting(
        "refresh_token_ttl",
        "GALLERY_REFRESH_TOKEN_TTL",
        _positive_int,
        "604800",
        "Refresh token lifetime, seconds.",
    ),
    Setting(
        "max_request_bytes",
        "GALLERY_MAX_REQUEST_BYTES",
        _positive_int,
        "52428800",
        "Largest request body accepted (bytes); larger requests get 413. On Lambda a body must also fit its 6 MB "
        "payload once base64-encoded: the stages set 4 MiB, and larger files take `POST /api/image/uploads`.",
    ),
    Setting(
        "max_upload_bytes",
        "GALLERY_MAX_UPLOAD_BYTES",
        _positive_int,
        "52428800",
        "Largest file a large-upload form (`POST /api/image/uploads`) takes, when the tenant's profile sets no "
        "smaller limit: the bytes go to storage directly (S3 on AWS), never through a request body.",
    ),
    Setting(
        "upload_ttl",
        "GALLERY_UPLOAD_TTL",
        _positive_int,
        "900",
        "Seconds a large-upload form (`POST /api/image/uploads`) stays valid.",
    ),
    Setting(
        "max_open_uploads",
        "GALLERY_MAX_OPEN_UPLOADS",
        _positive_int,
        "10",
        "Large uploads a tenant may have open at once (staged bytes are at most this many times its largest image).",
    ),
    Setting(
        "redirect_above_bytes",
        "GALLERY_REDIRECT_ABOVE_BYTES",
        _non_negative_int,
        "4194304",
        "On the aws backend, downloads larger than this redirect to a short-lived S3 URL (0: never).",
    ),
    Setting(
        "max_image_pixels",
        "GALLERY_MAX_IMAGE_PIXELS",
        _positive_int,
        "50000000",
        "Most pixels an image may cost to decode, checked from its headers before any is: width x height, and for "
        "animations canvas x frames (a 1920x1080 animation may have 24 frames), for multi-page files all pages.",
    ),
    Setting(
        "max_image_frames",
        "GALLERY_MAX_IMAGE_FRAMES",
        _positive_int,
        "1000",
        "Most frames accepted in an animated image.",
    ),
    Setting(
        "max_page_size",
        "GALLERY_MAX_PAGE_SIZE",
        _positive_int,
        "1000",
        "Largest `pageSize` a list call accepts.",
    ),
    Setting(
        "etag_cache_ttl",
        "CACHE_SPECS_IMAGE_ETAGS_TTL",
        _non_negative_int,
        "44640",
        "Minutes an entry stays in the in-memory ETag cache after it was stored (with several processes on one "
        "catalog, how long one may answer 304 for an image another changed).",
    ),
    Setting(
        "etag_cache_max_bytes",
        "CACHE_SPECS_IMAGE_ETAGS_MAX_SIZE",
        _non_negative_int,
        "10485760",
        "Memory budget of the ETag cache in bytes; 0 turns the cache off (304s still work).",
    ),
    Setting(
        "system_browser_ttl",
        "CACHE_SPECS_IMAGE_SYSTEM_BROWSER_TTL",
        _non_negative_int,
        "0",
        "Browser cache for system images, minutes: `max-age` when > 0 (`private` when signed in), else `no-cache`.",
    ),
    Setting(
        "tenant_browser_ttl",
        "CACHE_SPECS_IMAGE_TENANT_BROWSER_TTL",
        _non_negative_int,
        "0",
        "Browser cache for tenant images, minutes: `max-age` when > 0 (`private` when signed in), else `no-cache`.",
    ),
)


@dataclass(frozen=True)
class Settings:
    backend: str
    data_dir: Path
    site_dir: Path
    log_format: str
    request_id_header: str
    cors_origins: tuple[str, ...]
    public_url: str
    proxy_secret: str
    site_bucket: str
    site_prefix: str
    site_distribution: str
    publisher_failures: str
    site_tenant: str
    table: str
    bucket: str
    aws_endpoint_url: str
    jwt_secret: str
    secrets_path: str
    access_token_ttl: int
    refresh_token_ttl: int
    max_request_bytes: int
    max_upload_bytes: int
    upload_ttl: int
    max_open_uploads: int
    redirect_above_bytes: int
    max_image_pixels: int
    max_image_frames: int
    max_page_size: int
    etag_cache_ttl: int
    etag_cache_max_bytes: int
    system_browser_ttl: int
    tenant_browser_ttl: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every declared setting from `environ` (default: the process environment); `overrides` win."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            if setting.field in overrides:
                continue
            raw = environ.get(setting.env, setting.default)
            try:
                values[setting.field] = setting.parse(raw)
            except ValueError as exc:
                # The setting's name, the value it got (a secret's never) and what it accepts.
                shown = "(hidden)" if setting.secret else repr(raw)
                raise ConfigError(f"{setting.env}={shown} is not accepted: {exc}") from exc
        if "site_dir" not in overrides and values.get("site_dir") is None:
            values["site_dir"] = Path(overrides.get("data_dir") or values["data_dir"]) / "site"
        return cls(**values, **overrides)

    def browser_ttl(self, system: bool) -> int:
        """Minutes a browser may keep an image without asking again: system images and tenant images differ."""
        return self.system_browser_ttl if system else self.tenant_browser_ttl

    def describe_storage(self) -> str:
        if self.backend == "aws":
            where = f" at {self.aws_endpoint_url}" if self.aws_endpoint_url else ""
            return f"DynamoDB table {self.table} and S3 bucket {self.bucket}{where}"
        return f"Data in {self.data_dir.resolve()}"

    def evolve(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def secret_settings() -> tuple[Setting, ...]:
    return tuple(setting for setting in SETTINGS if setting.secret)


def markdown_table() -> str:
    rows = ["| Variable | Default | Meaning |", "|---|---|---|"]
    rows += [f"| `{s.env}` | `{s.default}` | {s.help} |" for s in SETTINGS]
    return "\n".join(rows)
