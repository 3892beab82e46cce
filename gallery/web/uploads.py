"""Large uploads: a form for the client to send the file straight to storage, then a call that commits it.

    POST /api/image/uploads                          {"fileName", "size"?}  → {"uploadId", "url", "fields", …}
    (client) POST url  multipart: every field of "fields", then the file as "file"
    POST /api/image/uploads/{uploadId}               {"title"?, "imageSubType"?}  → the new image
    PUT  /api/images/{type}/{key}/uploads/{uploadId}                             → the image, new bytes, same URL

On the local backend the form points at `POST /api/image/staging`, served here, so clients have one code path.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from gallery.domain import errors, validation
from gallery.domain.access import Action
from gallery.domain.fields import optional_text
from gallery.services.uploads import LOCAL_STAGING_PATH
from gallery.web.common import caller, gallery, requires
from gallery.web.observe import UPLOADED
from gallery.web.parsing import json_object, upload_start

bp = Blueprint("uploads", __name__)


@bp.post("/api/image/uploads")
@requires(Action.MANAGE_IMAGES)
def start() -> Response:
    form = gallery().uploads.start(caller(), upload_start(json_object()))
    # The local backend's form is a path of ours: made absolute from the configured public URL, never from the
    # request's Host header (which the client chooses). S3's presigned URLs are absolute already.
    if form["url"].startswith("/"):
        form["url"] = gallery().settings.public_url + form["url"]
    return jsonify(form)


@bp.post("/api/image/uploads/<upload_id>")
@requires(Action.MANAGE_IMAGES)
def finish_new(upload_id: str) -> Response:
    body = json_object(required=False)
    image = gallery().uploads.finish_new(
        caller(), upload_id, optional_text(body, "title"), optional_text(body, "imageSubType")
    )
    request.environ[UPLOADED] = image.original.size
    return jsonify(image.to_json())


@bp.put("/api/images/<scope>/<key>/uploads/<upload_id>")
@requires(Action.MANAGE_IMAGES)
def finish_update(scope: str, key: str, upload_id: str) -> Response:
    image = gallery().uploads.finish_update(caller(), validation.scope(scope), key, upload_id)
    request.environ[UPLOADED] = image.original.size
    return jsonify(image.to_json())


_FORM_OVERHEAD = 64 * 1024  # the ticket field, the part headers and the boundaries


@bp.post(LOCAL_STAGING_PATH)
def receive() -> Response:
    """The signed ticket is the credential here, as a presigned policy is on S3: no bearer token. The body may be as
    large as a large upload may be (the form's fields and boundaries besides), not just a request's."""
    request.max_content_length = gallery().settings.max_upload_bytes + _FORM_OVERHEAD
    ticket = request.form.get("ticket")
    upload = request.files.get("file")
    if not ticket or upload is None:
        raise errors.BadRequest("The form needs its 'ticket' field and a 'file' part")
    gallery().uploads.receive(ticket, upload.stream)
    return Response(status=204)
