"""The API on AWS Lambda, behind API Gateway, packaged and deployed by Zappa (`zappa_settings.json`).

`app` is what Zappa's handler runs (`app_function`); `lambda_handler` is what Lambda calls (`lambda_handler`):
Zappa's own handler, with one correction on the way out.
"""

from __future__ import annotations

from typing import Any

from zappa.handler import lambda_handler as zappa_handler

from gallery.app import create_app

# Built once per container, at cold start: settings from the stage's `aws_environment_variables`, boto3 clients kept
# warm between invocations.
app = create_app()

_BODILESS = frozenset({204, 304})


def lambda_handler(event: dict[str, Any], context: Any) -> Any:
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
