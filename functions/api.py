"""The API on AWS Lambda, behind API Gateway, packaged and deployed by Zappa (`zappa_settings.json`).

`app` is what Zappa's handler runs (`app_function`); `lambda_handler` is what Lambda calls (`lambda_handler`):
Zappa's own handler, with a correction each way: the caller's address on the way in, a 304's headers on the way out.
"""

from __future__ import annotations

import hmac
from typing import Any

from zappa.handler import lambda_handler as zappa_handler

from gallery.web.app import create_app

# Built once per container, at cold start: settings from the stage's `aws_environment_variables`, boto3 clients kept
# warm between invocations.
app = create_app()

_BODILESS = frozenset({204, 304})
PROXY_HEADER = "x-gallery-proxy"


def client_address(event: dict[str, Any], proxy_secret: str) -> str:
    """Who is calling, as API Gateway saw the connection. Zappa would take the second-to-last `X-Forwarded-For`
    entry, which anyone calling the API's own URL writes: a new address for every guess. Only a request that
    carries the secret our CloudFront distribution adds has its viewer's address believed (CloudFront appends it;
    API Gateway then appends CloudFront's)."""
    source = str(event.get("requestContext", {}).get("identity", {}).get("sourceIp") or "")
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    if proxy_secret and hmac.compare_digest(headers.get(PROXY_HEADER, "").encode(), proxy_secret.encode()):
        forwarded = [part.strip() for part in headers.get("x-forwarded-for", "").split(",") if part.strip()]
        if len(forwarded) >= 2:
            return forwarded[-2]
    return source


def _set_client_address(event: dict[str, Any]) -> None:
    """What Zappa makes REMOTE_ADDR of: exactly one address, ours to choose."""
    address = client_address(event, app.extensions["gallery"].settings.proxy_secret)
    for field in ("headers", "multiValueHeaders"):
        headers = event.get(field)
        if isinstance(headers, dict):
            # A client's X-Request-Id too: the id is API Gateway's (`context_header_mappings` in zappa_settings.json).
            for name in [n for n in headers if n.lower() in {"x-forwarded-for", "x-request-id", PROXY_HEADER}]:
                del headers[name]
            if address:
                headers["X-Forwarded-For"] = address if field == "headers" else [address]


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
    if isinstance(event, dict) and "requestContext" in event:
        _set_client_address(event)
    response = zappa_handler(event, context)
    if isinstance(response, dict) and response.get("statusCode") in _BODILESS:
        # Zappa rebuilds the response with werkzeug's default Content-Type (text/plain) even when there is no body.
        # On a 304 that header would overwrite the cached image's type in a browser; a 304 carries none (RFC 9110).
        for field in ("headers", "multiValueHeaders"):
            headers = response.get(field)
            if isinstance(headers, dict):
                for name in [n for n in headers if n.lower() == "content-type"]:
                    del headers[name]
    return response
