"""System administration: tenant profiles (with their file limits), tenants and users. SYS_ADMIN only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gallery.domain import errors
from gallery.domain.access import Action
from gallery.domain.fields import entity_id, flag, text
from gallery.domain.model import Authority, Tenant
from gallery.web.common import caller, gallery, requires
from gallery.web.parsing import bool_value, file_limits, json_object, page_arg, public_metadata

bp = Blueprint("admin", __name__)
_UNSORTED: frozenset[str] = frozenset()  # these lists have one fixed order (by name), so no sortProperty


# --- tenant profiles -----------------------------------------------------------------------------------------------
@bp.post("/api/tenantProfile")
@requires(Action.ADMINISTER)
def save_profile() -> Response:
    body = json_object()
    accounts, profile_id = gallery().accounts, entity_id(body, "id")
    if profile_id:
        profile = accounts.update_profile(
            profile_id, text(body, "name"), file_limits(body), flag(body, "default", False), public_metadata(body)
        )
    else:
        profile = accounts.create_profile(
            text(body, "name"), file_limits(body), flag(body, "default", False), bool(public_metadata(body))
        )
    return jsonify(profile.to_json())


@bp.get("/api/tenantProfile/<profile_id>")
@requires(Action.ADMINISTER)
def get_profile(profile_id: str) -> Response:
    return jsonify(gallery().accounts.get_profile(profile_id).to_json())


@bp.get("/api/tenantProfiles")
@requires(Action.ADMINISTER)
def list_profiles() -> Response:
    page = gallery().accounts.list_profiles(page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda p: p.to_json()))


@bp.delete("/api/tenantProfile/<profile_id>")
@requires(Action.ADMINISTER)
def delete_profile(profile_id: str) -> Response:
    gallery().accounts.delete_profile(profile_id)
    return Response(status=200)


# --- tenants -------------------------------------------------------------------------------------------------------
@bp.post("/api/tenant")
@requires(Action.ADMINISTER)
def save_tenant() -> Response:
    body = json_object()
    accounts, tenant_id = gallery().accounts, entity_id(body, "id")
    name, profile_id = text(body, "title") or text(body, "name"), entity_id(body, "tenantProfileId")
    if tenant_id:
        tenant = accounts.update_tenant(tenant_id, name, profile_id)
    else:
        tenant = accounts.create_tenant(name, profile_id)
    return jsonify(_tenant_json(tenant))


@bp.get("/api/tenant/<tenant_id>")
@requires(Action.ADMINISTER)
def get_tenant(tenant_id: str) -> Response:
    return jsonify(_tenant_json(gallery().accounts.get_tenant(tenant_id)))


@bp.get("/api/tenants")
@requires(Action.ADMINISTER)
def list_tenants() -> Response:
    page = gallery().accounts.list_tenants(page_arg(_UNSORTED))
    return jsonify(page.to_json(_tenant_json))


def _tenant_json(tenant: Tenant) -> dict[str, Any]:
    """ThingsBoard's tenant, with what the administration screens show of it: bytes used and images held."""
    images = gallery().images
    return {**tenant.to_json(images.usage(tenant.id)), "imageCount": images.image_count(tenant.id)}


@bp.delete("/api/tenant/<tenant_id>")
@requires(Action.ADMINISTER)
def delete_tenant(tenant_id: str) -> Response:
    gallery().accounts.delete_tenant(tenant_id)
    return Response(status=200)


# --- users ---------------------------------------------------------------------------------------------------------
@bp.post("/api/user")
@requires(Action.ADMINISTER)
def create_user() -> Response:
    body = json_object()
    if entity_id(body, "id"):
        raise errors.BadRequest("Updating users is not supported; set a password with POST /api/user/{id}/password")
    try:
        authority = Authority(text(body, "authority"))
    except ValueError:
        raise errors.BadRequest("'authority' must be SYS_ADMIN, TENANT_ADMIN or CUSTOMER_USER") from None
    user = gallery().accounts.create_user(
        text(body, "email"),
        text(body, "password"),
        authority,
        entity_id(body, "tenantId"),
        text(body, "firstName"),
        text(body, "lastName"),
    )
    return jsonify(user.to_json())


@bp.post("/api/user/<user_id>/password")
@requires(Action.ADMINISTER)
def set_password(user_id: str) -> Response:
    user = gallery().accounts.set_password(user_id, text(json_object(), "password"))
    return jsonify(user.to_json())


@bp.post("/api/user/<user_id>/userCredentialsEnabled")
@requires(Action.ENABLE_USERS)
def set_enabled(user_id: str) -> Response:
    """ThingsBoard's switch: `?userCredentialsEnabled=false` disables the user (and ends their sessions)."""
    enabled = bool_value("userCredentialsEnabled", request.args.get("userCredentialsEnabled"), default=True)
    gallery().accounts.set_enabled(caller(), user_id, enabled)
    return Response(status=200)


@bp.get("/api/user/<user_id>")
@requires(Action.ADMINISTER)
def get_user(user_id: str) -> Response:
    return jsonify(gallery().accounts.get_user(user_id).to_json())


@bp.get("/api/users")
@requires(Action.ADMINISTER)
def list_users() -> Response:
    tenant_id = request.args.get("tenantId") or None
    page = gallery().accounts.list_users(tenant_id, page_arg(_UNSORTED))
    return jsonify(page.to_json(lambda u: u.to_json()))


@bp.delete("/api/user/<user_id>")
@requires(Action.ADMINISTER)
def delete_user(user_id: str) -> Response:
    gallery().accounts.delete_user(user_id, actor=caller())
    return Response(status=200)
