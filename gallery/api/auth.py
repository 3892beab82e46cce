"""Login, token refresh, the current user, and the upload parameters the UI shows."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from gallery import errors
from gallery.api.common import ANYONE, caller, gallery, json_object, roles

bp = Blueprint("auth", __name__)


def _string(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.BadRequest(f"'{name}' is required")
    return value


@bp.post("/api/auth/login")
def login() -> Response:
    body = json_object()
    pair = gallery().accounts.login(_string(body, "username"), _string(body, "password"))
    return jsonify(pair.to_json())


@bp.post("/api/auth/token")
def refresh() -> Response:
    body = json_object()
    return jsonify(gallery().accounts.refresh(_string(body, "refreshToken")).to_json())


@bp.post("/api/auth/logout")
@roles(*ANYONE)
def logout() -> Response:
    # Tokens are stateless and short-lived; the client forgets them.
    return Response(status=200)


@bp.get("/api/auth/user")
@roles(*ANYONE)
def current_user() -> Response:
    return jsonify(gallery().accounts.current_user(caller()).to_json())


@bp.get("/api/system/params")
@roles(*ANYONE)
def system_params() -> Response:
    principal = caller()
    limit = 0 if principal.is_sysadmin else gallery().images.max_resource_size(principal.tenant_id)
    return jsonify({"maxResourceSize": limit, "userSettings": {}, "maxDatapointsLimit": 0})
