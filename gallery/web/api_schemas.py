"""The JSON shapes of the API's document (`openapi.py`), as JSON Schema 2020-12: ThingsBoard's, as this API sends
them. Data, kept beside the operations that name them."""

from __future__ import annotations

from typing import Any

from gallery.domain.model import MAX_BYTES
from gallery.domain.validation import MAX_ALT_TEXT, MAX_DESCRIPTION, MAX_TAG, MAX_TAGS

# A count of bytes, as the API takes one (a Java long, like ThingsBoard's).
_BYTES: dict[str, Any] = {"type": "integer", "minimum": 0, "maximum": MAX_BYTES}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _entity_id(kind: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["entityType", "id"],
        "properties": {"entityType": {"const": kind}, "id": {"type": "string", "format": "uuid"}},
    }


def _page(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["data", "totalPages", "totalElements", "hasNext"],
        "properties": {
            "data": {"type": "array", "items": ref(item)},
            "totalPages": {"type": "integer", "minimum": 0},
            "totalElements": {"type": "integer", "minimum": 0},
            "hasNext": {"type": "boolean"},
        },
    }


_TAG = {"type": "string", "maxLength": MAX_TAG, "examples": ["boiler-room"]}
_TEXTS = {
    "altText": {"type": "string", "maxLength": MAX_ALT_TEXT, "description": "What a screen reader says (one line)"},
    "description": {"type": "string", "maxLength": MAX_DESCRIPTION},
    "tags": {
        "type": "array",
        "maxItems": MAX_TAGS,
        "items": _TAG,
        "description": f"Lowercase; letters and digits with '-', '_' or '.' between them, at most {MAX_TAG} "
        "characters; spaces become '-'",
    },
}
_IMAGE_TARGETS = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["type", "key"],
        "properties": {"type": {"enum": ["tenant", "system"]}, "key": {"type": "string"}},
    },
}


def _bulk_result(done: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["success", done, "results"],
        "properties": {
            "success": {"type": "boolean"},
            done: {"type": "integer"},
            "results": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["type", "key", "success"],
                    "properties": {
                        "type": {"type": "string"},
                        "key": {"type": "string"},
                        "success": {"type": "boolean"},
                        "references": _nullable({"type": "object"}),
                        "error": ref("Error"),
                    },
                },
            },
        },
    }


_DESCRIPTOR_FIELDS = {
    "mediaType": {"type": "string"},
    "width": {"type": "integer"},
    "height": {"type": "integer"},
    "size": {"type": "integer"},
    "etag": {"type": "string"},
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "description": "Every error: a 4xx for the caller's mistakes, never a 500.",
        "required": ["status", "message", "errorCode"],
        "properties": {
            "status": {"type": "integer"},
            "message": {"type": "string"},
            "errorCode": {
                "type": "integer",
                "description": "ThingsBoard's: 2 general, 10 authentication, 11 "
                "token expired, 20 permission denied, 31 bad request, 32 not found, 33 too many requests",
            },
            "timestamp": {"type": "integer"},
        },
    },
    "TbResourceInfo": {
        "type": "object",
        "description": "An image, as ThingsBoard's image API returns it.",
        "required": ["id", "tenantId", "title", "resourceKey", "resourceSubType", "public", "etag", "link"],
        "properties": {
            "id": _entity_id("TB_RESOURCE"),
            "createdTime": {"type": "integer"},
            "tenantId": _entity_id("TENANT"),
            "title": {"type": "string"},
            "name": {"type": "string"},
            "resourceType": {"const": "IMAGE"},
            "resourceSubType": {"enum": ["IMAGE", "SCADA_SYMBOL"]},
            "resourceKey": {"type": "string"},
            "fileName": {"type": "string"},
            "public": {"type": "boolean"},
            "publicResourceKey": {"type": "string"},
            "etag": {"type": "string", "description": "SHA-256 of the bytes, hex"},
            "descriptor": {
                "type": "object",
                "properties": {
                    **_DESCRIPTOR_FIELDS,
                    "previewDescriptor": {"type": "object", "properties": _DESCRIPTOR_FIELDS},
                },
            },
            "externalId": {"type": "null"},
            "link": {"type": "string", "examples": ["/api/images/tenant/logo.png"]},
            "publicLink": _nullable({"type": "string"}),
            **_TEXTS,
        },
    },
    "PageDataTbResourceInfo": _page("TbResourceInfo"),
    "ResourceExportData": {
        "type": "object",
        "description": "An image with its bytes: what export returns and import takes (ThingsBoard 4.x; 3.6.2's "
        "`isPublic` is read too).",
        "required": ["data"],
        "properties": {
            "link": {"type": "string"},
            "title": {"type": "string"},
            "type": {"const": "IMAGE"},
            "subType": {"enum": ["IMAGE", "SCADA_SYMBOL"]},
            "resourceKey": {"type": "string"},
            "fileName": {"type": "string"},
            "publicResourceKey": {"type": "string"},
            "public": {"type": "boolean"},
            "isPublic": {"type": "boolean"},
            "mediaType": {"type": "string"},
            "data": {"type": "string", "contentEncoding": "base64"},
            **_TEXTS,
        },
    },
    "DeleteResult": {
        "type": "object",
        "required": ["success"],
        "properties": {
            "success": {"type": "boolean"},
            "references": _nullable({"type": "object", "description": "Dashboards using the image, by kind"}),
        },
    },
    "BulkDeleteRequest": {
        "type": "object",
        "required": ["images"],
        "properties": {"images": _IMAGE_TARGETS, "force": {"type": "boolean", "default": False}},
    },
    "BulkDeleteResult": _bulk_result("deleted"),
    "BulkTagsResult": _bulk_result("updated"),
    "TagCounts": {
        "type": "object",
        "description": "Each tag, with how many images of the list carry it",
        "additionalProperties": {"type": "integer", "minimum": 1},
    },
    "UploadStart": {
        "type": "object",
        "required": ["fileName", "size"],
        "properties": {"fileName": {"type": "string"}, "size": {**_BYTES, "minimum": 1}},
    },
    "UploadForm": {
        "type": "object",
        "description": "Where to POST the file (multipart, `fields` first, then the file as `fileField`): S3's "
        "presigned form on AWS, `/api/image/staging` on the embedded default.",
        "required": ["uploadId", "url", "fields", "fileField", "maxSize", "expiresIn"],
        "properties": {
            "uploadId": {"type": "string"},
            "url": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "fileField": {"type": "string"},
            "maxSize": {"type": "integer"},
            "expiresIn": {"type": "integer"},
            "fileName": {"type": "string"},
        },
    },
    "UploadFinish": {"type": "object", "properties": {"title": {"type": "string"}}},
    "LoginRequest": {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string", "format": "email"}, "password": {"type": "string"}},
    },
    "JwtPair": {
        "type": "object",
        "required": ["token", "refreshToken"],
        "properties": {"token": {"type": "string"}, "refreshToken": {"type": "string"}},
    },
    "RefreshRequest": {
        "type": "object",
        "required": ["refreshToken"],
        "properties": {"refreshToken": {"type": "string"}},
    },
    "ChangePasswordRequest": {
        "type": "object",
        "required": ["currentPassword", "newPassword"],
        "properties": {"currentPassword": {"type": "string"}, "newPassword": {"type": "string"}},
    },
    "User": {
        "type": "object",
        "required": ["id", "email", "authority"],
        "properties": {
            "id": _entity_id("USER"),
            "createdTime": {"type": "integer"},
            "tenantId": _entity_id("TENANT"),
            "customerId": _entity_id("CUSTOMER"),
            "email": {"type": "string"},
            "name": {"type": "string"},
            "authority": {"enum": ["SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER"]},
            "firstName": _nullable({"type": "string"}),
            "lastName": _nullable({"type": "string"}),
            "additionalInfo": {"type": "object", "properties": {"userCredentialsEnabled": {"type": "boolean"}}},
        },
    },
    "PageDataUser": _page("User"),
    "NewUser": {
        "type": "object",
        "required": ["email", "password", "authority"],
        "properties": {
            "email": {"type": "string"},
            "password": {"type": "string"},
            "authority": {"enum": ["SYS_ADMIN", "TENANT_ADMIN", "CUSTOMER_USER"]},
            "tenantId": _entity_id("TENANT"),
            "firstName": {"type": "string"},
            "lastName": {"type": "string"},
        },
    },
    "PasswordRequest": {"type": "object", "required": ["password"], "properties": {"password": {"type": "string"}}},
    "Tenant": {
        "type": "object",
        "required": ["id", "title", "tenantProfileId"],
        "properties": {
            "id": _entity_id("TENANT"),
            "createdTime": {"type": "integer"},
            "title": {"type": "string"},
            "name": {"type": "string"},
            "tenantProfileId": _entity_id("TENANT_PROFILE"),
            "resourcesInBytes": {"type": "integer", "description": "Bytes of images stored, against the limit"},
            "imageCount": {"type": "integer", "description": "Images held (ours, beside ThingsBoard's fields)"},
        },
    },
    "PageDataTenant": _page("Tenant"),
    "TenantProfile": {
        "type": "object",
        "required": ["id", "name", "default", "profileData"],
        "properties": {
            "id": _entity_id("TENANT_PROFILE"),
            "createdTime": {"type": "integer"},
            "name": {"type": "string"},
            "default": {"type": "boolean"},
            "profileData": {
                "type": "object",
                "properties": {
                    "configuration": {
                        "type": "object",
                        "properties": {
                            "type": {"const": "DEFAULT"},
                            "maxResourceSize": {**_BYTES, "description": "Largest image, bytes; 0: none"},
                            "maxResourcesInBytes": {**_BYTES, "description": "All images, bytes; 0: none"},
                            "publicImageMetadata": {
                                "type": "boolean",
                                "default": False,
                                "description": "Ours: public links and the static site give the bytes as uploaded, "
                                "GPS and camera data and all (off: a copy without them). Left out: unchanged.",
                            },
                        },
                    }
                },
            },
        },
    },
    "PageDataTenantProfile": _page("TenantProfile"),
    "Dashboard": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {
            "id": _entity_id("DASHBOARD"),
            "createdTime": {"type": "integer"},
            "tenantId": _entity_id("TENANT"),
            "title": {"type": "string"},
            "name": {"type": "string"},
            "image": _nullable({"type": "string"}),
            "configuration": {
                "type": "object",
                "description": "Any JSON; `tb-image;<link>` strings in it protect those images from deletion",
            },
        },
    },
    "PageDataDashboardInfo": _page("Dashboard"),
    "ImageInfoUpdate": {
        "type": "object",
        "description": "ThingsBoard sends the title alone; the fields a body leaves out stay as they are (at least "
        "one is required).",
        "properties": {"title": {"type": "string", "minLength": 1, "maxLength": 255}, **_TEXTS},
    },
    "BulkTagsRequest": {
        "type": "object",
        "required": ["images"],
        "properties": {
            "images": _IMAGE_TARGETS,
            "add": {"type": "array", "items": _TAG},
            "remove": {"type": "array", "items": _TAG},
        },
    },
    "DashboardDraft": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "id": _entity_id("DASHBOARD"),
            "title": {"type": "string"},
            "image": _nullable({"type": "string"}),
            "configuration": {"type": "object"},
        },
    },
    "TenantDraft": {
        "type": "object",
        "required": ["title"],
        "properties": {
            "id": _entity_id("TENANT"),
            "title": {"type": "string"},
            "tenantProfileId": _entity_id("TENANT_PROFILE"),
        },
    },
    "TenantProfileDraft": {
        "type": "object",
        "required": ["name"],
        "properties": {
            "id": _entity_id("TENANT_PROFILE"),
            "name": {"type": "string"},
            "default": {"type": "boolean"},
            "profileData": {"type": "object"},
        },
    },
    "OpenApi": {"type": "object", "required": ["openapi", "paths"], "description": "This document"},
    "SystemParams": {
        "type": "object",
        "required": ["maxResourceSize", "resourcesInBytes", "maxResourcesInBytes"],
        "properties": {
            "maxResourceSize": {"type": "integer", "description": "Largest image the caller may upload; 0: none"},
            "userSettings": {"type": "object"},
            "resourcesInBytes": {"type": "integer", "description": "Bytes the caller's tenant stores (ours)"},
            "maxResourcesInBytes": {"type": "integer", "description": "Its total limit; 0: none (ours)"},
        },
    },
    "SignInParams": {
        "type": "object",
        "properties": {"minPasswordLength": {"type": "integer"}, "demoLogins": {"type": "array"}},
    },
}
