"""The ThingsBoard image API (`/api/image`, `/api/images/...`) plus a bulk delete."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gallery.domain import fields, validation
from gallery.domain.access import Action
from gallery.services.images import InfoChange
from gallery.services.transfer import ImportRequest
from gallery.web import delivery
from gallery.web.common import caller, gallery, requires
from gallery.web.observe import UPLOADED
from gallery.web.parsing import bool_arg, bool_value, file_part, image_targets, json_object, list_arg, page_arg

bp = Blueprint("images", __name__)

IMAGE = "/api/images/<scope>/<key>"


@bp.post("/api/image")
@requires(Action.MANAGE_IMAGES)
def upload() -> Response:
    file_name, data = file_part()
    image = gallery().images.upload(
        caller(), file_name, data, request.form.get("title"), request.form.get("imageSubType")
    )
    request.environ[UPLOADED] = image.original.size
    return jsonify(image.to_json())


@bp.put(IMAGE)
@requires(Action.MANAGE_IMAGES)
def update(scope: str, key: str) -> Response:
    file_name, data = file_part()
    image = gallery().images.update_bytes(caller(), validation.scope(scope), key, file_name, data)
    request.environ[UPLOADED] = image.original.size
    return jsonify(image.to_json())


@bp.put(f"{IMAGE}/info")
@requires(Action.MANAGE_IMAGES)
def update_info(scope: str, key: str) -> Response:
    change = InfoChange.from_json(json_object())
    image = gallery().images.update_info(caller(), validation.scope(scope), key, change)
    return jsonify(image.to_json())


@bp.put(f"{IMAGE}/public/<is_public>")
@requires(Action.MANAGE_IMAGES)
def update_public(scope: str, key: str, is_public: str) -> Response:
    public = bool_value("isPublic", is_public)
    image = gallery().images.set_public(caller(), validation.scope(scope), key, public)
    return jsonify(image.to_json())


def _download(scope: str, key: str, preview: bool) -> Response:
    download = gallery().downloads.image(caller(), validation.scope(scope), key, preview)
    return delivery.send(gallery().settings, download, authenticated=True)


@bp.get(IMAGE)
@requires(Action.VIEW_IMAGES)
def download(scope: str, key: str) -> Response:
    return _download(scope, key, preview=False)


@bp.get(f"{IMAGE}/preview")
@requires(Action.VIEW_IMAGES)
def download_preview(scope: str, key: str) -> Response:
    return _download(scope, key, preview=True)


@bp.get(f"{IMAGE}/info")
@requires(Action.MANAGE_IMAGES)
def info(scope: str, key: str) -> Response:
    return jsonify(gallery().images.info(caller(), validation.scope(scope), key).to_json())


@bp.get(f"{IMAGE}/export")
@requires(Action.MANAGE_IMAGES)
def export(scope: str, key: str) -> Response:
    return jsonify(gallery().transfer.export(caller(), validation.scope(scope), key))


@bp.put("/api/image/import")
@requires(Action.MANAGE_IMAGES)
def import_image() -> Response:
    request_ = ImportRequest.from_export(json_object())
    return jsonify(gallery().transfer.import_image(caller(), request_).to_json())


@bp.get("/api/images")
@requires(Action.MANAGE_IMAGES)
def list_images() -> Response:
    page = page_arg()
    sub_type = validation.sub_type(request.args.get("imageSubType"))
    include_system = bool_arg("includeSystemImages")
    result = gallery().images.list_images(caller(), page, sub_type, include_system, list_arg("tags"))
    return jsonify(result.to_json(lambda image: image.to_json()))


@bp.get("/api/images/tags")
@requires(Action.MANAGE_IMAGES)
def tags() -> Response:
    """The tags a list can be filtered by: `{"tag": count, …}` (ours; ThingsBoard has no tags)."""
    sub_type = validation.sub_type(request.args.get("imageSubType"))
    return jsonify(gallery().images.tag_counts(caller(), sub_type, bool_arg("includeSystemImages")))


@bp.delete(IMAGE)
@requires(Action.MANAGE_IMAGES)
def delete(scope: str, key: str) -> Response:
    result = gallery().images.delete(caller(), validation.scope(scope), key, bool_arg("force"))
    response = jsonify(result.to_json())
    response.status_code = 200 if result.success else 400
    return response


@bp.post("/api/images/bulkDelete")
@requires(Action.MANAGE_IMAGES)
def bulk_delete() -> Response:
    """Delete many images: `{"images": [{"type": "tenant", "key": "a.png"}, …], "force": false}`.

    The whole list is checked before anything is deleted; then each image is deleted on its own and the answer
    reports each outcome, so one image in use or forbidden does not stop the rest.
    """
    body = json_object()
    targets = image_targets(body)
    force = fields.flag(body, "force", False)
    return jsonify(gallery().images.delete_many(caller(), targets, force).to_json())


@bp.post("/api/images/bulkTags")
@requires(Action.MANAGE_IMAGES)
def bulk_tags() -> Response:
    """Add and remove tags on many images: `{"images": [{"type", "key"}, …], "add": ["a"], "remove": ["b"]}`,
    answered as a bulk delete is (`updated` for `deleted`)."""
    body = json_object()
    targets = image_targets(body)
    add, remove = fields.optional_texts(body, "add") or [], fields.optional_texts(body, "remove") or []
    return jsonify(gallery().images.retag(caller(), targets, add, remove).to_json())
