"""The ThingsBoard image API (`/api/image`, `/api/images/...`) plus a bulk delete."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from gallery.domain import errors, validation
from gallery.domain.model import Scope
from gallery.web import delivery
from gallery.web.common import (
    ADMINS,
    ANYONE,
    bool_arg,
    bool_value,
    caller,
    gallery,
    json_object,
    page_arg,
    roles,
)

bp = Blueprint("images", __name__)

IMAGE = "/api/images/<scope>/<key>"
MAX_BULK = 1000


def _file() -> tuple[str | None, bytes]:
    upload = request.files.get("file")
    if upload is None:
        raise errors.BadRequest("Required request part 'file' is not present")
    return upload.filename, upload.read()


@bp.post("/api/image")
@roles(*ADMINS)
def upload() -> Response:
    file_name, data = _file()
    image = gallery().images.upload(
        caller(), file_name, data, request.form.get("title"), request.form.get("imageSubType")
    )
    return jsonify(image.to_json())


@bp.put(IMAGE)
@roles(*ADMINS)
def update(scope: str, key: str) -> Response:
    file_name, data = _file()
    image = gallery().images.update_bytes(caller(), validation.scope(scope), key, file_name, data)
    return jsonify(image.to_json())


@bp.put(f"{IMAGE}/info")
@roles(*ADMINS)
def update_info(scope: str, key: str) -> Response:
    body = json_object()
    title = body.get("title")
    if title is not None and not isinstance(title, str):
        raise errors.BadRequest("'title' must be a string")
    image = gallery().images.rename(caller(), validation.scope(scope), key, title)
    return jsonify(image.to_json())


@bp.put(f"{IMAGE}/public/<is_public>")
@roles(*ADMINS)
def update_public(scope: str, key: str, is_public: str) -> Response:
    public = bool_value("isPublic", is_public)
    image = gallery().images.set_public(caller(), validation.scope(scope), key, public)
    return jsonify(image.to_json())


def _download(scope: str, key: str, preview: bool) -> Response:
    images, principal, parsed = gallery().images, caller(), validation.scope(scope)
    return delivery.send(
        gallery().settings,
        lambda: images.current_tag(principal, parsed, key, preview),
        lambda: images.content(principal, parsed, key, preview),
        authenticated=True,
    )


@bp.get(IMAGE)
@roles(*ANYONE)
def download(scope: str, key: str) -> Response:
    return _download(scope, key, preview=False)


@bp.get(f"{IMAGE}/preview")
@roles(*ANYONE)
def download_preview(scope: str, key: str) -> Response:
    return _download(scope, key, preview=True)


@bp.get(f"{IMAGE}/info")
@roles(*ADMINS)
def info(scope: str, key: str) -> Response:
    return jsonify(gallery().images.info(caller(), validation.scope(scope), key).to_json())


@bp.get(f"{IMAGE}/export")
@roles(*ADMINS)
def export(scope: str, key: str) -> Response:
    return jsonify(gallery().images.export(caller(), validation.scope(scope), key))


@bp.put("/api/image/import")
@roles(*ADMINS)
def import_image() -> Response:
    return jsonify(gallery().images.import_image(caller(), json_object()).to_json())


@bp.get("/api/images")
@roles(*ADMINS)
def list_images() -> Response:
    page = page_arg()
    sub_type = validation.sub_type(request.args.get("imageSubType"))
    include_system = bool_arg("includeSystemImages")
    result = gallery().images.list_images(caller(), page, sub_type, include_system)
    return jsonify(result.to_json(lambda image: image.to_json()))


@bp.delete(IMAGE)
@roles(*ADMINS)
def delete(scope: str, key: str) -> Response:
    result = gallery().images.delete(caller(), validation.scope(scope), key, bool_arg("force"))
    response = jsonify(result.to_json())
    response.status_code = 200 if result.success else 400
    return response


@bp.post("/api/images/bulkDelete")
@roles(*ADMINS)
def bulk_delete() -> Response:
    """Delete many images: `{"images": [{"type": "tenant", "key": "a.png"}, …], "force": false}`.

    The whole list is validated before anything is deleted; then each image is deleted on its own and the answer
    reports each outcome, so one image in use or forbidden does not stop the rest.
    """
    body = json_object()
    items = body.get("images")
    if not isinstance(items, list) or not items:
        raise errors.BadRequest('\'images\' must be a non-empty list of {"type", "key"} objects')
    if len(items) > MAX_BULK:
        raise errors.BadRequest(f"At most {MAX_BULK} images can be deleted in one request")
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise errors.BadRequest("'force' must be true or false")
    targets = [_bulk_target(item) for item in items]
    results: list[dict[str, Any]] = []
    for scope, key in targets:
        outcome: dict[str, Any] = {"type": scope.value, "key": key}
        try:
            result = gallery().images.delete(caller(), scope, key, force)
            outcome |= result.to_json()
        except errors.GalleryError as error:
            outcome |= {"success": False, "references": None, "error": error.to_json()}
        results.append(outcome)
    deleted = sum(1 for r in results if r["success"])
    return jsonify({"success": deleted == len(results), "deleted": deleted, "results": results})


def _bulk_target(item: Any) -> tuple[Scope, str]:
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("type"), str):
        raise errors.BadRequest("Each entry of 'images' must be an object with string 'type' and 'key'")
    return validation.scope(item["type"]), item["key"]
