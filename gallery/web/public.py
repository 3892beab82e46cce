"""`GET /api/images/public/{publicResourceKey}`: public images with no authentication (any token is ignored)."""

from __future__ import annotations

from flask import Blueprint, Response

from gallery.web import delivery
from gallery.web.common import gallery

bp = Blueprint("public", __name__)


@bp.get("/api/images/public/<public_key>")
def download_public(public_key: str) -> Response:
    return delivery.send(gallery().settings, gallery().downloads.public(public_key), authenticated=False)
