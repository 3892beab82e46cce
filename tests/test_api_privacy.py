"""What a visitor who has not signed in can read of a phone photo: the public link gives the picture without its GPS
position, camera make, model and serial numbers, owner, XMP or comments, with its orientation and colour profile;
the signed-in download and the export give the bytes as uploaded (ThingsBoard's behaviour); a tenant profile may
choose to publish them as uploaded. Real EXIF written by Pillow, on both backends."""

from __future__ import annotations

import base64
import io
from dataclasses import replace

import pytest
from flask.testing import FlaskClient
from PIL import Image

from gallery.domain.model import ImageInfo
from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import ok_json, phone_photo, put_file, sha256, upload, what_it_tells


def stored(gallery: Gallery, admin: Actor, key: str) -> ImageInfo:
    image = gallery.storage.catalog.get_image(admin.user.tenant_id, key)
    assert image is not None
    return image


def set_public_metadata(client: FlaskClient, sysadmin: Actor, tenant_profile_id: str, on: bool) -> None:
    profile = ok_json(client.get(f"/api/tenantProfile/{tenant_profile_id}", headers=sysadmin.headers))
    profile["profileData"]["configuration"]["publicImageMetadata"] = on
    ok_json(client.post("/api/tenantProfile", json=profile, headers=sysadmin.headers))


@pytest.mark.parametrize("kind", ["JPEG", "PNG", "WEBP"])
def test_the_public_link_tells_nothing_of_place_camera_or_owner(
    client: FlaskClient, gallery: Gallery, admin: Actor, kind: str
) -> None:
    photo = phone_photo(kind)
    before = what_it_tells(photo)
    assert before["gps"]
    assert (before["make"], before["serial"]) == ("PhoneMaker", "SN-0451-7731")
    info = ok_json(upload(client, admin.headers, photo, f"photo.{kind.lower()}"))
    public = client.get(info["publicLink"])
    assert public.status_code == 200
    after = what_it_tells(public.data)
    assert after == {
        "gps": {},
        "make": None,
        "serial": None,
        "orientation": 6,  # the picture still stands the right way up
        "profile": before["profile"],  # and keeps its colours
        "secrets": [],
    }
    with Image.open(io.BytesIO(photo)) as a, Image.open(io.BytesIO(public.data)) as b:
        assert a.tobytes() == b.tobytes()  # not one pixel re-encoded
    assert public.headers["ETag"] == f'"{sha256(public.data)}"'
    assert client.get(info["publicLink"], headers={"If-None-Match": public.headers["ETag"]}).status_code == 304
    # The signed-in owner, and the export, keep the bytes as uploaded, as ThingsBoard's do.
    assert client.get(info["link"], headers=admin.headers).data == photo
    exported = ok_json(client.get(f"{info['link']}/export", headers=admin.headers))
    assert base64.b64decode(exported["data"]) == photo
    assert info["etag"] == sha256(photo)
    copy = stored(gallery, admin, info["resourceKey"]).public_original
    assert copy is not None
    assert copy.etag == sha256(public.data)


def test_a_picture_with_nothing_to_hide_is_kept_once(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (1, 2, 3)).save(out, "PNG")
    info = ok_json(upload(client, admin.headers, out.getvalue(), "plain.png"))
    image = stored(gallery, admin, "plain.png")
    assert image.public_original == image.original
    assert client.get(info["publicLink"]).data == out.getvalue()


def test_the_copy_goes_with_its_image(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, phone_photo(), "photo.jpg"))
    copy = stored(gallery, admin, "photo.jpg").public_original
    assert copy is not None
    assert gallery.storage.blobs.exists(copy.etag)
    ok_json(put_file(client, info["link"], admin.headers, phone_photo("PNG"), "photo.png"))  # new bytes, same key
    assert not gallery.storage.blobs.exists(copy.etag)
    newer = stored(gallery, admin, "photo.jpg").public_original
    assert newer is not None
    assert gallery.storage.blobs.exists(newer.etag)
    ok_json(client.delete(info["link"], headers=admin.headers))
    assert not gallery.storage.blobs.exists(newer.etag)


def test_a_profile_may_publish_the_bytes_as_uploaded(
    client: FlaskClient, gallery: Gallery, admin: Actor, sysadmin: Actor
) -> None:
    tenant = gallery.storage.catalog.get_tenant(admin.user.tenant_id)
    assert tenant is not None
    profile = ok_json(client.get(f"/api/tenantProfile/{tenant.profile_id}", headers=sysadmin.headers))
    assert profile["profileData"]["configuration"]["publicImageMetadata"] is False  # off unless turned on
    set_public_metadata(client, sysadmin, tenant.profile_id, True)
    photo = phone_photo()
    info = ok_json(upload(client, admin.headers, photo, "photo.jpg"))
    assert client.get(info["publicLink"]).data == photo
    # A client that does not know the setting (ThingsBoard's) leaves it as it is when it saves the profile.
    again = ok_json(client.get(f"/api/tenantProfile/{tenant.profile_id}", headers=sysadmin.headers))
    del again["profileData"]["configuration"]["publicImageMetadata"]
    saved = ok_json(client.post("/api/tenantProfile", json=again, headers=sysadmin.headers))
    assert saved["profileData"]["configuration"]["publicImageMetadata"] is True
    set_public_metadata(client, sysadmin, tenant.profile_id, False)
    info = ok_json(upload(client, admin.headers, photo, "other.jpg"))
    assert what_it_tells(client.get(info["publicLink"]).data)["secrets"] == []


def test_an_image_stored_before_copies_were_kept_is_cleaned_when_asked_for(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    photo = phone_photo()
    info = ok_json(upload(client, admin.headers, photo, "old.jpg"))
    image = stored(gallery, admin, "old.jpg")
    older = replace(image, public_original=None, version=image.version + 1)  # as a row from before reads
    gallery.storage.catalog.update_image(older, image.version, 0)
    public = client.get(info["publicLink"])
    assert what_it_tells(public.data)["secrets"] == []
    assert public.headers["ETag"] == f'"{sha256(public.data)}"'
    assert client.get(info["link"], headers=admin.headers).data == photo
