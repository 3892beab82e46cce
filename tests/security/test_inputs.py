"""Cheap inputs that once cost a 500, and what every answer says about caching: each hostile input is a clear 4xx
(or 507 for a full disk) that writes nothing, and no answer lets a shared cache hand one caller's data to another.
Both backends (the full-disk cases are the local backend's own)."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from gallery.storage.local.catalog import SqliteCatalog
from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, upload


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


Send = Callable[[FlaskClient, dict[str, str]], TestResponse]
HOSTILE: dict[str, tuple[Send, int, str]] = {
    "page beyond any integer": (
        lambda c, h: c.get("/api/images?pageSize=10&page=99999999999999999999", headers=h),
        400,
        "between",
    ),
    "pageSize beyond any integer": (
        lambda c, h: c.get("/api/images?pageSize=99999999999999999999&page=0", headers=h),
        400,
        "between",
    ),
    "negative page": (lambda c, h: c.get("/api/images?pageSize=10&page=-1", headers=h), 400, "negative"),
    "page as a float": (lambda c, h: c.get("/api/images?pageSize=10&page=1.5", headers=h), 400, "whole number"),
    "tenants page beyond any integer": (
        lambda c, h: c.get("/api/tenant/dashboards?pageSize=10&page=99999999999999999999", headers=h),
        400,
        "between",
    ),
    "import nested 100 000 deep": (
        lambda c, h: c.put("/api/image/import", data=nested(100_000), content_type="application/json", headers=h),
        400,
        "nested deeper",
    ),
    "import nested 900 deep": (
        lambda c, h: c.put("/api/image/import", data=nested(900), content_type="application/json", headers=h),
        400,
        "nested deeper",
    ),
    "dashboard configuration nested 500 deep": (
        lambda c, h: c.post(
            "/api/dashboard",
            data='{"title": "deep", "configuration": {"a": ' + nested(500) + "}}",
            content_type="application/json",
            headers=h,
        ),
        400,
        "nested deeper",
    ),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_input_is_a_clear_4xx_that_writes_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, case: str
) -> None:
    send, status, words = HOSTILE[case]
    body = error_of(send(client, admin.headers), status)
    assert words in body["message"]
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0
    assert ok_json(client.get("/api/tenant/dashboards?pageSize=10&page=0", headers=admin.headers))["data"] == []
    assert gallery.images.usage(admin.tenant_id) == 0


def test_json_just_within_the_depth_limit_is_fine(client: FlaskClient, admin: Actor) -> None:
    config = {"a": json.loads(nested(60))}
    saved = ok_json(client.post("/api/dashboard", json={"title": "ok", "configuration": config}, headers=admin.headers))
    assert saved["title"] == "ok"


def test_a_full_database_is_507_and_nothing_is_half_written(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    if gallery.settings.backend != "local":
        pytest.skip("the local backend's disk")
    kept = ok_json(upload(client, admin.headers, png(), "kept.png"))
    usage = gallery.images.usage(admin.tenant_id)
    catalog = gallery.storage.catalog
    assert isinstance(catalog, SqliteCatalog)
    conn = catalog.db.conn()  # this thread's connection: the one the test client's requests use
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # as full as a disk can be
    big_title = "t" * 250
    responses = [upload(client, admin.headers, png(60 + n, 60), f"new{n}.png", title=big_title) for n in range(40)]
    conn.execute("PRAGMA max_page_count = 1073741823")
    full = [r for r in responses if r.status_code == 507]
    assert full, [r.status_code for r in responses]
    assert error_of(full[0], 507)["message"] == "The gallery's storage is full; nothing was saved"
    assert {r.status_code for r in responses} <= {200, 507}
    stored = ok_json(client.get("/api/images?pageSize=100&page=0", headers=admin.headers))["data"]
    added = sum(1 for r in responses if r.status_code == 200)
    assert len(stored) == 1 + added
    assert gallery.images.usage(admin.tenant_id) == usage + sum(
        r.get_json()["descriptor"]["size"] for r in responses if r.status_code == 200
    )
    assert any(i["resourceKey"] == kept["resourceKey"] for i in stored)
    # the bytes of every refused upload went again: what is stored is what the rows refer to
    referred = {e for i in stored for e in (i["etag"], i["descriptor"]["previewDescriptor"]["etag"])}
    assert set(gallery.storage.blobs.etags()) == referred


def test_a_full_disk_for_bytes_is_507_with_no_file_left(
    client: FlaskClient, gallery: Gallery, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    if gallery.settings.backend != "local":
        pytest.skip("the local backend's disk")

    def full(fd: int) -> None:  # where a full disk shows itself on a write-back filesystem
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    response = upload(client, admin.headers, png(), "big.png")
    monkeypatch.undo()
    assert error_of(response, 507)["errorCode"] == 2
    blobs = Path(gallery.settings.data_dir) / "blobs"
    assert [p.name for p in blobs.rglob("*") if p.is_file()] == []  # no blob, no temporary file
    assert gallery.images.usage(admin.tenant_id) == 0


def test_json_answers_are_never_stored_by_a_cache(client: FlaskClient, admin: Actor) -> None:
    login = client.post("/api/auth/login", json={"username": admin.user.email, "password": "secret-password"})
    ok_json(login)
    listed = client.get("/api/images?pageSize=10&page=0", headers=admin.headers)
    refused = client.get("/api/images?pageSize=10&page=0")
    for answer in (login, listed, refused):
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


def test_error_messages_carry_no_internals(client: FlaskClient, admin: Actor) -> None:
    """Messages are for people: no object reprs, addresses or file paths of ours."""
    for data in (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"GIF89a" + b"\x01" * 30, b"\xff\xd8\xff" + b"\x00" * 30):
        message = error_of(upload(client, admin.headers, data, "broken.png"), 400)["message"]
        assert " at 0x" not in message, message
        assert "<_io" not in message, message
        assert "site-packages" not in message, message


# --- numbers that overflow: every number a user sends is range-checked where it arrives -----------------------------
def svg_sized(**attributes: str) -> bytes:
    given = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    return f'<svg xmlns="http://www.w3.org/2000/svg" {given}><rect width="1" height="1"/></svg>'.encode()


SVG_NUMBERS = {
    "width beyond any float (1e999)": (svg_sized(width="1e999", height="10"), "width ('1e999')"),
    "height 1e300": (svg_sized(width="10", height="1e300"), "height ('1e300')"),
    "width 2^63": (svg_sized(width=str(2**63), height="10"), "width ('9223372036854775808')"),
    "width 2^31 pixels": (svg_sized(width=str(2**31), height="10"), "not a size from 0 to 2,147,483,647"),
    "viewBox of nan": (svg_sized(viewBox="0 0 nan nan"), "holds a number that is not finite"),
    "viewBox of inf": (svg_sized(viewBox="0 0 inf 10"), "holds a number that is not finite"),
    "negative viewBox": (svg_sized(viewBox="0 0 -5 -5"), "width ('0 0 -5 -5')"),
    "1e999 in inches": (svg_sized(width="1e999in", height="1in"), "width ('1e999in')"),
}


@pytest.mark.parametrize("case", SVG_NUMBERS)
def test_an_svg_size_beyond_any_number_is_a_400_that_stores_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, case: str
) -> None:
    data, words = SVG_NUMBERS[case]
    body = error_of(upload(client, admin.headers, data, "sized.svg"), 400)
    assert words in body["message"], body["message"]
    assert ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["totalElements"] == 0
    assert gallery.images.usage(admin.tenant_id) == 0


def test_the_largest_svg_size_is_kept_as_sent(client: FlaskClient, admin: Actor) -> None:
    saved = ok_json(upload(client, admin.headers, svg_sized(width=str(2**31 - 1), viewBox="0 0 1 2.5"), "big.svg"))
    assert (saved["descriptor"]["width"], saved["descriptor"]["height"]) == (2**31 - 1, 2)  # 2.5 rounds to even


def profile(name: str, size: object, total: object = 0) -> dict[str, object]:
    return {"name": name, "profileData": {"configuration": {"maxResourceSize": size, "maxResourcesInBytes": total}}}


LIMIT_NUMBERS = {
    "2^70": (str(2**70), "up to 9,223,372,036,854,775,807"),
    "2^63": (str(2**63), "up to 9,223,372,036,854,775,807"),
    "-1": ("-1", "Limits must be 0 (unlimited)"),
    "1e300": ("1e300", "must be a whole number"),
    "a 5,000-digit number": ("9" * 5000, "not valid JSON"),
}


def profile_text(name: str, number: str, **more: object) -> str:
    """A profile's JSON with `number` written as it is, for numbers Python's writer would not write."""
    return json.dumps({**profile(name, "NUMBER"), **more}).replace('"NUMBER"', number)


@pytest.mark.parametrize("case", LIMIT_NUMBERS)
def test_a_tenant_profile_limit_beyond_a_long_is_a_400_that_changes_nothing(
    client: FlaskClient, sysadmin: Actor, case: str
) -> None:
    number, words = LIMIT_NUMBERS[case]
    h = sysadmin.headers
    before = ok_json(client.get("/api/tenantProfiles?pageSize=100&page=0", headers=h))["totalElements"]
    made = client.post(
        "/api/tenantProfile", data=profile_text("Huge", number), content_type="application/json", headers=h
    )
    assert words in error_of(made, 400)["message"]
    kept = ok_json(client.post("/api/tenantProfile", json=profile("Kept", 1000), headers=h))
    changed = profile_text("Kept", number, id=kept["id"])
    assert (
        words
        in error_of(client.post("/api/tenantProfile", data=changed, content_type="application/json", headers=h), 400)[
            "message"
        ]
    )
    assert ok_json(client.get("/api/tenantProfiles?pageSize=100&page=0", headers=h))["totalElements"] == before + 1
    again = ok_json(client.get(f"/api/tenantProfile/{kept['id']['id']}", headers=h))
    assert again["profileData"]["configuration"]["maxResourceSize"] == 1000


def test_the_largest_limit_a_long_holds_is_kept(client: FlaskClient, sysadmin: Actor) -> None:
    made = ok_json(
        client.post("/api/tenantProfile", json=profile("Vast", 2**63 - 1, 2**63 - 1), headers=sysadmin.headers)
    )
    kept = ok_json(client.get(f"/api/tenantProfile/{made['id']['id']}", headers=sysadmin.headers))
    assert kept["profileData"]["configuration"]["maxResourceSize"] == 2**63 - 1


NOT_JSON_NUMBERS = {
    "NaN": '{"title": "n", "configuration": {"x": NaN}}',
    "Infinity": '{"title": "n", "configuration": {"x": Infinity}}',
    "-Infinity": '{"title": "n", "configuration": {"x": -Infinity}}',
    "1e999": '{"title": "n", "configuration": {"x": 1e999}}',
}


@pytest.mark.parametrize("case", NOT_JSON_NUMBERS)
def test_numbers_json_has_not_are_a_400_that_stores_nothing(client: FlaskClient, admin: Actor, case: str) -> None:
    """Python's reader takes NaN and Infinity (and 1e999 as infinity); stored, they would be written back as JSON no
    client can parse."""
    sent = client.post(
        "/api/dashboard", data=NOT_JSON_NUMBERS[case], content_type="application/json", headers=admin.headers
    )
    assert "is not valid JSON" in error_of(sent, 400)["message"]
    assert ok_json(client.get("/api/tenant/dashboards?pageSize=10&page=0", headers=admin.headers))["data"] == []


@pytest.mark.parametrize("size", [2**63, 2**70, -(2**70), 1e300])
def test_a_large_upload_size_beyond_a_long_is_a_400(client: FlaskClient, admin: Actor, size: object) -> None:
    refused = client.post("/api/image/uploads", json={"fileName": "a.png", "size": size}, headers=admin.headers)
    assert (
        "'size' must be a whole number of bytes from 1 to 9,223,372,036,854,775,807"
        in error_of(refused, 400)["message"]
    )


@pytest.mark.parametrize("value", [str(2**63), str(2**70), "-1"])
def test_the_command_refuses_a_limit_beyond_a_long(tmp_path: Path, value: str) -> None:
    """`gallery tenants create` as installed: a usage error, not SQLite's overflow as a traceback."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "GALLERY_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "gallery"), "tenants", "create", "Huge", "--max-resource-size", value],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "Invalid value for '--max-resource-size'" in done.stderr
