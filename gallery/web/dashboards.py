"""`/api/dashboard`: tenant dashboards, the referrers that protect images from an unforced delete."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gallery.domain.access import Action
from gallery.web.common import caller, gallery, requires
from gallery.web.parsing import dashboard_draft, json_object, page_arg

bp = Blueprint("dashboards", __name__)
_UNSORTED: frozenset[str] = frozenset()


@bp.post("/api/dashboard")
@requires(Action.MANAGE_DASHBOARDS)
def save() -> Response:
    return jsonify(gallery().dashboards.save(caller(), dashboard_draft(json_object())).to_json())


@bp.get("/api/dashboard/<dashboard_id>")
@requires(Action.MANAGE_DASHBOARDS)
def get(dashboard_id: str) -> Response:
    return jsonify(gallery().dashboards.get(caller(), dashboard_id).to_json())


@bp.get("/api/tenant/dashboards")
@requires(Action.MANAGE_DASHBOARDS)
def list_dashboards() -> Response:
    page = gallery().dashboards.list(caller(), page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda d: d.info_json()))


@bp.delete("/api/dashboard/<dashboard_id>")
@requires(Action.MANAGE_DASHBOARDS)
def delete(dashboard_id: str) -> Response:
    gallery().dashboards.delete(caller(), dashboard_id)
    return Response(status=200)
