"""System administration: tenant profiles (with their file limits), tenants and users. SYS_ADMIN only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gallery.domain import errors
from gallery.domain.model import Authority
from gallery.services.accounts import Limits
from gallery.web.common import bool_value, caller, gallery, json_object, page_arg, roles

bp = Blueprint("admin", __name__)
SYS_ADMIN = Authority.SYS_ADMIN
_UNSORTED: frozenset[str] = frozenset()  # these lists have one fixed order (by name), so no sortProperty


def _id(body: dict[str, Any], name: str) -> str | None:
    """ThingsBoard ids travel as `{"entityType": …, "id": "…"}`; a bare string is accepted too."""
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("id")
    if not isinstance(value, str):
        raise errors.BadRequest(f"'{name}' must be an id")
    return value


def _str(body: dict[str, Any], name: str, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise errors.BadRequest(f"'{name}' must be a string")
    return value


def _limits(body: dict[str, Any]) -> Limits:
    profile_data = body.get("profileData") or {}
    config = profile_data.get("configuration") if isinstance(profile_data, dict) else None
    config = config if isinstance(config, dict) else {}
    values = {}
    for name in ("maxResourceSize", "maxResourcesInBytes"):
        value = config.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.BadRequest(f"'{name}' must be a whole number of bytes")
        values[name] = value
    return Limits(values["maxResourceSize"], values["maxResourcesInBytes"])


def _is_default(body: dict[str, Any]) -> bool:
    value = body.get("default", False)
    if not isinstance(value, bool):
        raise errors.BadRequest("'default' must be true or false")
    return value


# --- tenant profiles -----------------------------------------------------------------------------------------------
@bp.post("/api/tenantProfile")
@roles(SYS_ADMIN)
def save_profile() -> Response:
    body = json_object()
    accounts, profile_id = gallery().accounts, _id(body, "id")
    if profile_id:
        profile = accounts.update_profile(profile_id, _str(body, "name"), _limits(body), _is_default(body))
    else:
        profile = accounts.create_profile(_str(body, "name"), _limits(body), _is_default(body))
    return jsonify(profile.to_json())


@bp.get("/api/tenantProfile/<profile_id>")
@roles(SYS_ADMIN)
def get_profile(profile_id: str) -> Response:
    return jsonify(gallery().accounts.get_profile(profile_id).to_json())


@bp.get("/api/tenantProfiles")
@roles(SYS_ADMIN)
def list_profiles() -> Response:
    page = gallery().accounts.list_profiles(page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda p: p.to_json()))


@bp.delete("/api/tenantProfile/<profile_id>")
@roles(SYS_ADMIN)
def delete_profile(profile_id: str) -> Response:
    gallery().accounts.delete_profile(profile_id)
    return Response(status=200)


# --- tenants -------------------------------------------------------------------------------------------------------
@bp.post("/api/tenant")
@roles(SYS_ADMIN)
def save_tenant() -> Response:
    body = json_object()
    accounts, tenant_id = gallery().accounts, _id(body, "id")
    name, profile_id = _str(body, "title") or _str(body, "name"), _id(body, "tenantProfileId")
    if tenant_id:
        tenant = accounts.update_tenant(tenant_id, name, profile_id)
    else:
        tenant = accounts.create_tenant(name, profile_id)
    return jsonify(tenant.to_json(gallery().images.usage(tenant.id)))


@bp.get("/api/tenant/<tenant_id>")
@roles(SYS_ADMIN)
def get_tenant(tenant_id: str) -> Response:
    tenant = gallery().accounts.get_tenant(tenant_id)
    return jsonify(tenant.to_json(gallery().images.usage(tenant.id)))


@bp.get("/api/tenants")
@roles(SYS_ADMIN)
def list_tenants() -> Response:
    page = gallery().accounts.list_tenants(page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda t: t.to_json(gallery().images.usage(t.id))))


@bp.delete("/api/tenant/<tenant_id>")
@roles(SYS_ADMIN)
def delete_tenant(tenant_id: str) -> Response:
    gallery().accounts.delete_tenant(tenant_id)
    return Response(status=200)


# --- users ---------------------------------------------------------------------------------------------------------
@bp.post("/api/user")
@roles(SYS_ADMIN)
def create_user() -> Response:
    body = json_object()
    if _id(body, "id"):
        raise errors.BadRequest("Updating users is not supported; set a password with POST /api/user/{id}/password")
    try:
        authority = Authority(_str(body, "authority"))
    except ValueError:
        raise errors.BadRequest("'authority' must be SYS_ADMIN, TENANT_ADMIN or CUSTOMER_USER") from None
    user = gallery().accounts.create_user(
        _str(body, "email"),
        _str(body, "password"),
        authority,
        _id(body, "tenantId"),
        _str(body, "firstName"),
        _str(body, "lastName"),
    )
    return jsonify(user.to_json())


@bp.post("/api/user/<user_id>/password")
@roles(SYS_ADMIN)
def set_password(user_id: str) -> Response:
    user = gallery().accounts.set_password(user_id, _str(json_object(), "password"))
    return jsonify(user.to_json())


@bp.post("/api/user/<user_id>/userCredentialsEnabled")
@roles(SYS_ADMIN, Authority.TENANT_ADMIN)
def set_enabled(user_id: str) -> Response:
    """ThingsBoard's switch: `?userCredentialsEnabled=false` disables the user (and ends their sessions)."""
    enabled = bool_value("userCredentialsEnabled", request.args.get("userCredentialsEnabled"), default=True)
    gallery().accounts.set_enabled(caller(), user_id, enabled)
    return Response(status=200)


@bp.get("/api/user/<user_id>")
@roles(SYS_ADMIN)
def get_user(user_id: str) -> Response:
    return jsonify(gallery().accounts.get_user(user_id).to_json())


@bp.get("/api/users")
@roles(SYS_ADMIN)
def list_users() -> Response:
    tenant_id = request.args.get("tenantId") or None
    page = gallery().accounts.list_users(tenant_id, page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda u: u.to_json()))


@bp.delete("/api/user/<user_id>")
@roles(SYS_ADMIN)
def delete_user(user_id: str) -> Response:
    if user_id == caller().user_id:
        raise errors.BadRequest("You cannot delete yourself")
    gallery().accounts.delete_user(user_id)
    return Response(status=200)
