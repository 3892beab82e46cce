"""Sign-in, token refresh, sign-out, password change, the current user, and the upload parameters the UI shows."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gallery.demo import DEMO_LOGINS
from gallery.domain.access import Action
from gallery.domain.fields import required_text
from gallery.services.credentials import MIN_PASSWORD
from gallery.web.common import caller, gallery, requires
from gallery.web.parsing import json_object

bp = Blueprint("auth", __name__)


@bp.post("/api/auth/login")
def login() -> Response:
    body = json_object()
    # The address the connection came from, as the server (waitress, API Gateway through Zappa) reports it; a
    # client-supplied X-Forwarded-For is not trusted, or every guess could come from a new address.
    pair = gallery().sessions.login(
        required_text(body, "username"), required_text(body, "password"), request.remote_addr
    )
    return jsonify(pair.to_json())


@bp.post("/api/auth/token")
def refresh() -> Response:
    body = json_object()
    return jsonify(gallery().sessions.refresh(required_text(body, "refreshToken")).to_json())


@bp.post("/api/auth/logout")
@requires(Action.USE_ACCOUNT)
def logout() -> Response:
    """Every session of the caller ends, here and on every other device (their tokens stop working)."""
    gallery().sessions.logout(caller())
    return Response(status=200)


@bp.post("/api/auth/changePassword")
@requires(Action.USE_ACCOUNT)
def change_password() -> Response:
    body = json_object()
    current, new = required_text(body, "currentPassword"), required_text(body, "newPassword")
    pair = gallery().sessions.change_password(caller(), current, new, request.remote_addr)
    return jsonify(pair.to_json())


@bp.get("/api/noauth/signInParams")
def sign_in_params() -> Response:
    """What the sign-in page says before anyone signs in: the password policy, and the demo logins whose published
    passwords still work (so nobody mistakes a demo for a gallery to keep)."""
    emails = [email for email, _ in DEMO_LOGINS]
    weak = set(gallery().sessions.weak_logins(emails))
    demo = [{"email": email, "password": password} for email, password in DEMO_LOGINS if email in weak]
    return jsonify({"minPasswordLength": MIN_PASSWORD, "demoLogins": demo})


@bp.get("/api/auth/user")
@requires(Action.USE_ACCOUNT)
def current_user() -> Response:
    return jsonify(gallery().sessions.current_user(caller()).to_json())


@bp.get("/api/system/params")
@requires(Action.USE_ACCOUNT)
def system_params() -> Response:
    principal, images = caller(), gallery().images
    limits = images.caller_limits(principal)  # read once for both fields
    return jsonify(
        {
            "maxResourceSize": limits.max_resource_size,
            "userSettings": {},
            "maxDatapointsLimit": 0,
            # Ours, beside ThingsBoard's: what the management page shows next to its upload button.
            "maxResourcesInBytes": limits.max_resources_in_bytes,
            "resourcesInBytes": images.usage(principal.tenant_id),
        }
    )
