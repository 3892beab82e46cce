"""The site publisher on AWS Lambda, deployed by Zappa beside the API (`zappa_settings.json`, stage
`<stage>_publisher`). Its triggers are not Zappa's: `make deploy` maps the table's DynamoDB stream to it (a
starting position, a batching window, a filter that admits only image items, bisect-on-error and a queue for what
still fails) and schedules it hourly (`deploy/stack.yaml`). Lambda calls `lambda_handler`, which tells the two
apart by the event's shape; both keep the static gallery in `GALLERY_SITE_BUCKET` current (`gallery.publisher`).
"""

from __future__ import annotations

import logging
from typing import Any

from gallery.publisher import on_records
from gallery.publisher import reconcile as reconcile_site

logging.getLogger("gallery").setLevel(logging.INFO)


class UnknownEvent(Exception):
    """Raised, never swallowed: Lambda then records a failed invocation (an error metric, a retry, the queue),
    where answering "nothing to do" would count as success and drop the event unseen."""


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    if isinstance(event, dict) and isinstance(event.get("Records"), list):
        return on_stream(event, context)
    if isinstance(event, dict) and event.get("source") == "aws.events":
        return reconcile(event, context)
    shape = sorted(event)[:8] if isinstance(event, dict) else type(event).__name__
    raise UnknownEvent(f"Neither a stream batch nor the schedule: {shape}")


def on_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A batch of the table's stream, as Lambda delivers it (`Records`)."""
    return on_records(event.get("Records") or []).to_json()


def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled run: the whole site against the bucket."""
    return reconcile_site().to_json()
