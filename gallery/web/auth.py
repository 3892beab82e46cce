"""Sign-in, token refresh, sign-out, password change, the current user, and the upload parameters the UI shows."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gallery.demo import DEMO_LOGINS
from gallery.domain import errors
from gallery.services.accounts import MIN_PASSWORD
from gallery.web.common import ANYONE, caller, gallery, json_object, roles

bp = Blueprint("auth", __name__)


def _string(body: dict[str, object], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value:
        raise errors.BadRequest(f"'{name}' is required")
    return value


@bp.post("/api/auth/login")
def login() -> Response:
    body = json_object()
    # The address the connection came from, as the server (waitress, API Gateway through Zappa) reports it; a
    # client-supplied X-Forwarded-For is not trusted, or every guess could come from a new address.
    pair = gallery().accounts.login(_string(body, "username"), _string(body, "password"), request.remote_addr)
    return jsonify(pair.to_json())


@bp.post("/api/auth/token")
def refresh() -> Response:
    body = json_object()
    return jsonify(gallery().accounts.refresh(_string(body, "refreshToken")).to_json())


@bp.post("/api/auth/logout")
@roles(*ANYONE)
def logout() -> Response:
    """Every session of the caller ends, here and on every other device (their tokens stop working)."""
    gallery().accounts.logout(caller())
    return Response(status=200)


@bp.post("/api/auth/changePassword")
@roles(*ANYONE)
def change_password() -> Response:
    body = json_object()
    current, new = _string(body, "currentPassword"), _string(body, "newPassword")
    pair = gallery().accounts.change_password(caller(), current, new, request.remote_addr)
    return jsonify(pair.to_json())


@bp.get("/api/noauth/signInParams")
def sign_in_params() -> Response:
    """What the sign-in page says before anyone signs in: the password policy, and the demo logins whose published
    passwords still work (so nobody mistakes a demo for a gallery to keep)."""
    emails = [email for email, _ in DEMO_LOGINS]
    weak = set(gallery().accounts.weak_logins(emails))
    demo = [{"email": email, "password": password} for email, password in DEMO_LOGINS if email in weak]
    return jsonify({"minPasswordLength": MIN_PASSWORD, "demoLogins": demo})


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
