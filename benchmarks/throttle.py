"""`python -m benchmarks.throttle FRACTION ARGS...`: the `gallery` command with a botocore stub that refuses about
FRACTION of its AWS calls, as a busy account does (DynamoDB: ThrottlingException; S3: SlowDown, 503). The stub
answers in place of the service through botocore's `before-call` event, so a refused call is never sent."""

from __future__ import annotations

import random
import sys
from typing import Any

import botocore.session
from botocore.awsrequest import AWSResponse, HTTPHeaders


def install(fraction: float, seed: int = 7) -> None:
    rnd = random.Random(seed)
    create = botocore.session.Session.create_client

    def create_client(self: botocore.session.Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        client = create(self, service_name, *args, **kwargs)
        code, status = ("SlowDown", 503) if service_name == "s3" else ("ThrottlingException", 400)

        def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
            if rnd.random() >= fraction:
                return None
            parsed = {
                "Error": {"Code": code, "Message": "refused by the stub"},
                "ResponseMetadata": {"HTTPStatusCode": status},
            }
            return AWSResponse("https://throttled.invalid", status, HTTPHeaders(), None), parsed

        client.meta.events.register_first("before-call", refuse)  # type: ignore[arg-type]  # answers in its place
        return client

    botocore.session.Session.create_client = create_client  # type: ignore[method-assign]


if __name__ == "__main__":
    install(float(sys.argv[1]))
    sys.argv = ["gallery", *sys.argv[2:]]
    from gallery.cli import main

    main()
