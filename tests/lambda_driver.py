"""Runs in a subprocess of its own, as a Lambda container would: imports the packaged entry point and answers
API Gateway events read as JSON lines on stdin, one JSON line per response on stdout (after a marker, since Zappa
prints to stdout too).

argv[1]: a directory holding the `zappa_settings.py` that `zappa package` would put in the zip.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

MARKER = "@@response "


class Context:
    function_name = "image-gallery-dev"
    function_version = "$LATEST"
    memory_limit_in_mb = 1024
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:image-gallery-dev"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000


def main() -> None:
    sys.path[:0] = [sys.argv[1], str(Path(__file__).resolve().parent.parent)]
    ledger = os.environ.get("GALLERY_IAM_LEDGER")
    if ledger:  # every AWS call the function makes, for tests/iam_ledger.py to hold against its role
        from tests.iam_ledger import record

        with open(ledger, "a") as sink, record(lambda: True, lambda call: sink.write(call.to_json() + "\n")):
            serve()
    else:
        serve()


def serve() -> None:
    from zappa.handler import lambda_handler as zappa_handler

    for line in sys.stdin:
        request: dict[str, Any] = json.loads(line)
        if request.get("unwrapped"):  # Zappa's handler alone: what a stage with Zappa's default handler runs
            handler = zappa_handler
        elif request.get("publisher"):
            from functions.publisher import lambda_handler as handler
        else:
            from functions.api import lambda_handler as handler
        try:
            response = handler(request["event"], Context())
        except Exception as exc:  # what Lambda records of a failed invocation (and retries, for a stream)
            response = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
        sys.stdout.write(MARKER + json.dumps(response) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
