"""The API described as OpenAPI 3.1, served at `GET /api/openapi.json` and browsed at `/api-docs/`.

Written as data, one table of operations and one of schemas, next to the code it describes: the schemas are
ThingsBoard's JSON shapes as this API sends them. `tests/test_openapi.py` keeps it true: every route under `/api`
is here and every path here is a route, and every example request is sent to the app and its answer validated
against the schema written for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, jsonify

from gallery.domain import formats
from gallery.domain.model import SORT_PROPERTIES
from gallery.web.api_schemas import SCHEMAS, ref

bp = Blueprint("openapi", __name__)

JSON = "application/json"
IMAGE_TYPES = list(formats.MEDIA_TYPES)
EXAMPLE_KEY = "logo.png"
EXAMPLE_UUID = "784f394c-42b6-435a-983c-b7beff2784f9"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    tag: str
    ok: str | None = None  # the 200 answer's schema; None: no JSON body
    body: str | None = None  # the JSON request body's schema
    auth: bool = True
    params: tuple[str, ...] = ()  # names in PARAMETERS
    example: dict[str, Any] = field(default_factory=dict)  # request parts: path values, query, body
    binary: str | None = None  # the 200 answer is bytes of this description
    multipart: bool = False  # a multipart body with the file


_SCOPE_KEY = ("scope", "key")
PARAMETERS: dict[str, dict[str, Any]] = {
    "scope": {"in": "path", "required": True, "schema": {"enum": ["tenant", "system"]}, "example": "tenant"},
    "key": {
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "example": EXAMPLE_KEY,
        "description": "The resource key, percent-encoded as one path segment",
    },
    "public_key": {"in": "path", "name": "publicKey", "required": True, "schema": {"type": "string"}},
    "is_public": {"in": "path", "name": "isPublic", "required": True, "schema": {"type": "boolean"}},
    "upload_id": {"in": "path", "name": "uploadId", "required": True, "schema": {"type": "string"}},
    "dashboard_id": {"in": "path", "name": "dashboardId", "required": True, "schema": {"type": "string"}},
    "tenant_id": {"in": "path", "name": "tenantId", "required": True, "schema": {"type": "string", "format": "uuid"}},
    "profile_id": {"in": "path", "name": "profileId", "required": True, "schema": {"type": "string"}},
    "user_id": {"in": "path", "name": "userId", "required": True, "schema": {"type": "string", "format": "uuid"}},
    "pageSize": {"in": "query", "required": True, "schema": {"type": "integer", "minimum": 1}, "example": 10},
    "page": {"in": "query", "required": True, "schema": {"type": "integer", "minimum": 0}, "example": 0},
    "textSearch": {
        "in": "query",
        "schema": {"type": "string"},
        "description": "Substring of the title, alt text, description or a tag, in any case",
    },
    "tags": {
        "in": "query",
        "schema": {"type": "string"},
        "description": "Images carrying every one of these tags, comma-separated (`pump,boiler-room`)",
    },
    "sortProperty": {"in": "query", "schema": {"enum": sorted(SORT_PROPERTIES)}},
    "sortOrder": {"in": "query", "schema": {"enum": ["ASC", "DESC"]}},
    "imageSubType": {"in": "query", "schema": {"enum": ["IMAGE", "SCADA_SYMBOL"], "default": "IMAGE"}},
    "includeSystemImages": {"in": "query", "schema": {"type": "boolean", "default": False}},
    "force": {
        "in": "query",
        "schema": {"type": "boolean", "default": False},
        "description": "Delete even when dashboards use it",
    },
    "tenantIdQuery": {"in": "query", "name": "tenantId", "schema": {"type": "string", "format": "uuid"}},
    "userCredentialsEnabled": {"in": "query", "schema": {"type": "boolean", "default": True}},
    "If-None-Match": {
        "in": "header",
        "schema": {"type": "string"},
        "description": "The ETag you hold: 304 when it is still the image's",
    },
}
_PAGE = ("pageSize", "page", "textSearch", "sortProperty", "sortOrder")

OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/api/openapi.json", "This document", "meta", "OpenApi", auth=False),
    Operation("POST", "/api/auth/login", "Sign in: a JWT pair", "auth", "JwtPair", "LoginRequest", auth=False),
    Operation(
        "POST",
        "/api/auth/token",
        "A new pair for a refresh token (each works once)",
        "auth",
        "JwtPair",
        "RefreshRequest",
        auth=False,
    ),
    Operation("GET", "/api/auth/user", "The signed-in user", "auth", "User"),
    Operation("POST", "/api/auth/logout", "Sign out: every token of this user stops working", "auth"),
    Operation(
        "POST",
        "/api/auth/changePassword",
        "Change your password: a new pair",
        "auth",
        "JwtPair",
        "ChangePasswordRequest",
    ),
    Operation(
        "GET",
        "/api/noauth/signInParams",
        "What the sign-in page shows (password length, demo logins)",
        "auth",
        "SignInParams",
        auth=False,
    ),
    Operation("GET", "/api/system/params", "Limits for the signed-in user (largest upload)", "auth", "SystemParams"),
    Operation(
        "POST",
        "/api/image",
        "Upload an image (multipart: file, title, imageSubType)",
        "images",
        "TbResourceInfo",
        multipart=True,
    ),
    Operation(
        "GET",
        "/api/images",
        "List images, a page at a time",
        "images",
        "PageDataTbResourceInfo",
        params=(*_PAGE, "imageSubType", "includeSystemImages", "tags"),
        example={"query": {"pageSize": 10, "page": 0, "includeSystemImages": "true"}},
    ),
    Operation(
        "GET",
        "/api/images/{scope}/{key}",
        "Download an image (304 with a matching If-None-Match)",
        "images",
        params=(*_SCOPE_KEY, "If-None-Match"),
        binary="The stored bytes",
    ),
    Operation(
        "PUT",
        "/api/images/{scope}/{key}",
        "Update in place: same key and links, new bytes (multipart)",
        "images",
        "TbResourceInfo",
        params=_SCOPE_KEY,
        multipart=True,
    ),
    Operation(
        "DELETE",
        "/api/images/{scope}/{key}",
        "Delete an image",
        "images",
        "DeleteResult",
        params=(*_SCOPE_KEY, "force"),
    ),
    Operation(
        "GET", "/api/images/{scope}/{key}/info", "An image's information", "images", "TbResourceInfo", params=_SCOPE_KEY
    ),
    Operation(
        "PUT",
        "/api/images/{scope}/{key}/info",
        "Rename an image, or change its alt text, description and tags",
        "images",
        "TbResourceInfo",
        "ImageInfoUpdate",
        params=_SCOPE_KEY,
        example={"body": {"title": "Company logo", "altText": "Acme's logo", "tags": ["logo"]}},
    ),
    Operation(
        "GET",
        "/api/images/{scope}/{key}/preview",
        "Download the preview (at most 250 px)",
        "images",
        params=(*_SCOPE_KEY, "If-None-Match"),
        binary="A PNG or the SVG itself",
    ),
    Operation(
        "PUT",
        "/api/images/{scope}/{key}/public/{isPublic}",
        "Make an image public or private",
        "images",
        "TbResourceInfo",
        params=(*_SCOPE_KEY, "is_public"),
        example={"path": {"isPublic": "true"}},
    ),
    Operation(
        "GET",
        "/api/images/{scope}/{key}/export",
        "Export an image with its bytes",
        "images",
        "ResourceExportData",
        params=_SCOPE_KEY,
    ),
    Operation(
        "PUT",
        "/api/image/import",
        "Import an exported image (overwrites its key)",
        "images",
        "TbResourceInfo",
        "ResourceExportData",
    ),
    Operation(
        "POST",
        "/api/images/bulkDelete",
        "Delete several images; each says how it went",
        "images",
        "BulkDeleteResult",
        "BulkDeleteRequest",
        example={"body": {"images": [{"type": "tenant", "key": "no-such.png"}], "force": False}},
    ),
    Operation(
        "POST",
        "/api/images/bulkTags",
        "Add and remove tags on several images; each says how it went",
        "images",
        "BulkTagsResult",
        "BulkTagsRequest",
        example={"body": {"images": [{"type": "tenant", "key": "no-such.png"}], "add": ["logo"], "remove": []}},
    ),
    Operation(
        "GET",
        "/api/images/tags",
        "The tags a list can be filtered by, with how many images carry each",
        "images",
        "TagCounts",
        params=("imageSubType", "includeSystemImages"),
    ),
    Operation(
        "GET",
        "/api/images/public/{publicKey}",
        "Download a public image without signing in",
        "images",
        auth=False,
        params=("public_key", "If-None-Match"),
        binary="The stored bytes",
    ),
    Operation(
        "POST",
        "/api/image/uploads",
        "Start a large upload: a form to post the file to",
        "uploads",
        "UploadForm",
        "UploadStart",
        example={"body": {"fileName": "poster.png", "size": 6000000}},
    ),
    Operation(
        "POST",
        "/api/image/uploads/{uploadId}",
        "Finish a large upload as a new image",
        "uploads",
        "TbResourceInfo",
        "UploadFinish",
        params=("upload_id",),
    ),
    Operation(
        "PUT",
        "/api/images/{scope}/{key}/uploads/{uploadId}",
        "Finish a large upload as new bytes for an image",
        "uploads",
        "TbResourceInfo",
        params=(*_SCOPE_KEY, "upload_id"),
    ),
    Operation(
        "POST",
        "/api/image/staging",
        "The embedded default's form target (a ticket from the start, and the file)",
        "uploads",
        auth=False,
        multipart=True,
    ),
    Operation(
        "POST",
        "/api/dashboard",
        "Save a dashboard (its `tb-image;` references protect images)",
        "dashboards",
        "Dashboard",
        "DashboardDraft",
        example={
            "body": {"title": "Boiler room", "configuration": {"background": "tb-image;/api/images/tenant/logo.png"}}
        },
    ),
    Operation(
        "GET", "/api/dashboard/{dashboardId}", "A dashboard", "dashboards", "Dashboard", params=("dashboard_id",)
    ),
    Operation("DELETE", "/api/dashboard/{dashboardId}", "Delete a dashboard", "dashboards", params=("dashboard_id",)),
    Operation(
        "GET", "/api/tenant/dashboards", "The tenant's dashboards", "dashboards", "PageDataDashboardInfo", params=_PAGE
    ),
    Operation(
        "POST",
        "/api/tenant",
        "Create or rename a tenant (system administrator)",
        "administration",
        "Tenant",
        "TenantDraft",
        example={"body": {"title": "Acme"}},
    ),
    Operation(
        "GET",
        "/api/tenant/{tenantId}",
        "A tenant, with its bytes used",
        "administration",
        "Tenant",
        params=("tenant_id",),
    ),
    Operation(
        "DELETE",
        "/api/tenant/{tenantId}",
        "Delete a tenant, its images, users and dashboards",
        "administration",
        params=("tenant_id",),
    ),
    Operation("GET", "/api/tenants", "Tenants, by name", "administration", "PageDataTenant", params=_PAGE),
    Operation(
        "POST",
        "/api/tenantProfile",
        "Create or change a tenant profile (its two limits)",
        "administration",
        "TenantProfile",
        "TenantProfileDraft",
        example={
            "body": {
                "name": "Small",
                "profileData": {"configuration": {"maxResourceSize": 1048576, "maxResourcesInBytes": 0}},
            }
        },
    ),
    Operation(
        "GET",
        "/api/tenantProfile/{profileId}",
        "A tenant profile",
        "administration",
        "TenantProfile",
        params=("profile_id",),
    ),
    Operation(
        "DELETE",
        "/api/tenantProfile/{profileId}",
        "Delete a tenant profile no tenant uses",
        "administration",
        params=("profile_id",),
    ),
    Operation(
        "GET",
        "/api/tenantProfiles",
        "Tenant profiles, by name",
        "administration",
        "PageDataTenantProfile",
        params=_PAGE,
    ),
    Operation(
        "POST",
        "/api/user",
        "Create a user",
        "administration",
        "User",
        "NewUser",
        example={"body": {"email": "operator@example.com", "password": "a-long-password", "authority": "SYS_ADMIN"}},
    ),
    Operation("GET", "/api/user/{userId}", "A user", "administration", "User", params=("user_id",)),
    Operation("DELETE", "/api/user/{userId}", "Delete a user (never yourself)", "administration", params=("user_id",)),
    Operation(
        "POST",
        "/api/user/{userId}/password",
        "Set a user's password (their sessions end)",
        "administration",
        "User",
        "PasswordRequest",
        params=("user_id",),
        example={"body": {"password": "another-long-password"}},
    ),
    Operation(
        "POST",
        "/api/user/{userId}/userCredentialsEnabled",
        "Enable or disable a user",
        "administration",
        params=("user_id", "userCredentialsEnabled"),
        example={"query": {"userCredentialsEnabled": "true"}},
    ),
    Operation(
        "GET", "/api/users", "Users, by e-mail", "administration", "PageDataUser", params=(*_PAGE, "tenantIdQuery")
    ),
)

_ERRORS = {
    "400": "The request is wrong: the message says how",
    "401": "Not signed in, or the token expired (errorCode 11)",
    "403": "Not allowed for this user",
    "404": "No such item",
}


def _parameter(name: str) -> dict[str, Any]:
    spec = dict(PARAMETERS[name])
    spec.setdefault("name", name)
    return spec


def _operation(op: Operation) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.binary:
        images = {kind: {"schema": {"type": "string", "contentMediaType": kind}} for kind in IMAGE_TYPES}
        responses["200"] = {
            "description": op.binary,
            "headers": {"ETag": {"schema": {"type": "string"}}},
            "content": images,
        }
        responses["304"] = {"description": "Not modified: the ETag sent is the image's"}
    elif op.ok:
        responses["200"] = {"description": "OK", "content": {JSON: {"schema": ref(op.ok)}}}
    else:
        responses["200"] = {"description": "Done (no body)"}
    for status, text in _ERRORS.items():
        if status == "401" and not op.auth:
            continue
        responses[status] = {"description": text, "content": {JSON: {"schema": ref("Error")}}}
    spec: dict[str, Any] = {
        "operationId": f"{op.method.lower()}{''.join(p.strip('{}').title() for p in op.path.split('/')[2:])}",
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": [_parameter(name) for name in op.params],
        "responses": responses,
    }
    if not op.auth:
        spec["security"] = []
    if op.body:
        content: dict[str, Any] = {"schema": ref(op.body)}
        if "body" in op.example:
            content["example"] = op.example["body"]
        spec["requestBody"] = {"required": True, "content": {JSON: content}}
    elif op.multipart:
        spec["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                            "title": {"type": "string"},
                            "imageSubType": {"enum": ["IMAGE", "SCADA_SYMBOL"]},
                        },
                    }
                }
            },
        }
    if op.example:
        spec["x-example"] = op.example
    return spec


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Image Gallery API",
            "version": "1",
            "description": "ThingsBoard's image API (its paths and JSON shapes: its clients and export files work "
            "unchanged), with the accounts and dashboards it relies on. Send the token as "
            "`X-Authorization: Bearer <token>` (ThingsBoard's header) or `Authorization: Bearer <token>`.",
        },
        "servers": [{"url": "/"}],
        "security": [{"XAuthorization": []}, {"Bearer": []}],
        "tags": [{"name": name} for name in ("auth", "images", "uploads", "dashboards", "administration", "meta")],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "XAuthorization": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Authorization",
                    "description": "`Bearer <token>`",
                },
                "Bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            },
        },
    }


@bp.get("/api/openapi.json")
def openapi() -> Response:
    response = jsonify(document())
    response.headers["Cache-Control"] = "no-cache"
    return response
