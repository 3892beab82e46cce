"""The site publisher on AWS Lambda, deployed by Zappa beside the API (`zappa_settings.json`, stage
`<stage>_publisher`): the table's DynamoDB stream triggers `on_stream` with each batch of changes, and a schedule
runs `reconcile` every hour. Both keep the static gallery in `GALLERY_SITE_BUCKET` current
(`gallery.site.publisher`); Zappa's own handler routes each event to them."""

from __future__ import annotations

import logging
from typing import Any

from gallery.site.publisher import on_records
from gallery.site.publisher import reconcile as reconcile_site

logging.getLogger("gallery").setLevel(logging.INFO)


def on_stream(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A batch of the table's stream, as Lambda delivers it (`Records`)."""
    return on_records(event.get("Records") or []).to_json()


def reconcile(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The scheduled run: the whole site against the bucket."""
    return reconcile_site().to_json()
