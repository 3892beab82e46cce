"""Info, rename, public flag and listing (reference §12 items 19–25)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, svg, upload


def test_info_equals_the_list_item(client: FlaskClient, admin: Actor) -> None:
    uploaded = ok_json(upload(client, admin.headers, png(), "a.png"))
    info = ok_json(client.get("/api/images/tenant/a.png/info", headers=admin.headers))
    listed = ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))["data"]
    assert info == uploaded == listed[0]


def test_info_errors(client: FlaskClient, admin: Actor, customer: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    assert error_of(client.get("/api/images/tenant/a.png/info", headers=customer.headers), 403)["errorCode"] == 20
    assert error_of(client.get("/api/images/tenant/zzz.png/info", headers=admin.headers), 404)["errorCode"] == 32
    body = error_of(client.get("/api/images/customer/a.png/info", headers=admin.headers), 400)
    assert body["message"] == "Invalid image URL"


def test_rename_changes_only_the_title(client: FlaskClient, admin: Actor) -> None:
    before = ok_json(upload(client, admin.headers, png(), "a.png"))
    body = {**before, "title": "New name", "descriptor": {}, "resourceKey": "hacked", "public": False}
    after = ok_json(client.put("/api/images/tenant/a.png/info", json=body, headers=admin.headers))
    assert after["title"] == after["name"] == "New name"
    assert {k: v for k, v in after.items() if k not in {"title", "name"}} == {
        k: v for k, v in before.items() if k not in {"title", "name"}
    }


@pytest.mark.parametrize("title", ["", "   ", None])
def test_blank_title_is_rejected(client: FlaskClient, admin: Actor, title: str | None) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    body = error_of(client.put("/api/images/tenant/a.png/info", json={"title": title}, headers=admin.headers), 400)
    assert body["message"] == "Resource title should be specified!"
    assert ok_json(client.get("/api/images/tenant/a.png/info", headers=admin.headers))["title"] == "a.png"


def test_public_off_and_on_revives_the_same_link(client: FlaskClient, admin: Actor) -> None:
    info = ok_json(upload(client, admin.headers, png(), "a.png"))
    off = ok_json(client.put("/api/images/tenant/a.png/public/false", headers=admin.headers))
    assert off["public"] is False
    assert off["publicLink"] is None
    assert client.get(info["publicLink"]).status_code == 404
    on = ok_json(client.put("/api/images/tenant/a.png/public/true", headers=admin.headers))
    assert on["publicResourceKey"] == info["publicResourceKey"]
    assert client.get(info["publicLink"]).status_code == 200


def test_list_shape_and_paging(client: FlaskClient, admin: Actor) -> None:
    for n in range(5):
        ok_json(upload(client, admin.headers, png(color=(n, n, n)), f"img{n}.png"))
    first = ok_json(client.get("/api/images?pageSize=2&page=0", headers=admin.headers))
    assert set(first) == {"data", "totalPages", "totalElements", "hasNext"}
    assert (first["totalPages"], first["totalElements"], first["hasNext"]) == (3, 5, True)
    last = ok_json(client.get("/api/images?pageSize=2&page=2", headers=admin.headers))
    assert [i["resourceKey"] for i in last["data"]] == ["img4.png"]
    assert last["hasNext"] is False
    beyond = ok_json(client.get("/api/images?pageSize=2&page=9", headers=admin.headers))
    assert beyond["data"] == []


def test_list_shows_only_the_requested_sub_type(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "plain.png"))
    ok_json(upload(client, admin.headers, svg(), "pump.svg", sub_type="SCADA_SYMBOL"))
    images = ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))
    assert [i["resourceKey"] for i in images["data"]] == ["plain.png"]
    symbols = ok_json(client.get("/api/images?pageSize=10&page=0&imageSubType=SCADA_SYMBOL", headers=admin.headers))
    assert [i["resourceKey"] for i in symbols["data"]] == ["pump.svg"]
    error_of(client.get("/api/images?pageSize=10&page=0&imageSubType=NOPE", headers=admin.headers), 400)


def test_include_system_images_hides_shadowed_keys(client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    ok_json(upload(client, sysadmin.headers, png(color=(9, 9, 9)), "shared.png"))
    ok_json(upload(client, sysadmin.headers, png(color=(8, 8, 8)), "only-system.png"))
    ok_json(upload(client, admin.headers, png(), "shared.png"))
    without = ok_json(client.get("/api/images?pageSize=10&page=0", headers=admin.headers))
    assert [i["link"] for i in without["data"]] == ["/api/images/tenant/shared.png"]
    with_system = ok_json(
        client.get("/api/images?pageSize=10&page=0&includeSystemImages=true&sortProperty=title", headers=admin.headers)
    )
    assert [i["link"] for i in with_system["data"]] == [
        "/api/images/system/only-system.png",
        "/api/images/tenant/shared.png",
    ]
    # Ignored for the system administrator, who sees system images only.
    own = ok_json(client.get("/api/images?pageSize=10&page=0&includeSystemImages=true", headers=sysadmin.headers))
    assert {i["link"] for i in own["data"]} == {"/api/images/system/shared.png", "/api/images/system/only-system.png"}


def test_text_search_is_case_insensitive_on_title_only(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "one.png", title="Company LOGO"))
    ok_json(upload(client, admin.headers, png(), "logo-file.png", title="Background"))
    ok_json(upload(client, admin.headers, png(), "three.png", title="Ünïcode Logo"))
    found = ok_json(client.get("/api/images?pageSize=10&page=0&textSearch=logo", headers=admin.headers))
    assert sorted(i["title"] for i in found["data"]) == ["Company LOGO", "Ünïcode Logo"]
    unicode = ok_json(client.get("/api/images?pageSize=10&page=0&textSearch=ÜNÏ", headers=admin.headers))
    assert [i["title"] for i in unicode["data"]] == ["Ünïcode Logo"]
    wildcard = ok_json(client.get("/api/images?pageSize=10&page=0&textSearch=%25", headers=admin.headers))
    assert wildcard["totalElements"] == 0


def test_sorting(client: FlaskClient, admin: Actor) -> None:
    for title in ["banana", "Apple", "cherry"]:
        ok_json(upload(client, admin.headers, png(), f"{title}.png", title=title))
    asc = ok_json(client.get("/api/images?pageSize=10&page=0&sortProperty=title", headers=admin.headers))
    assert [i["title"] for i in asc["data"]] == ["Apple", "banana", "cherry"]
    desc = ok_json(
        client.get("/api/images?pageSize=10&page=0&sortProperty=title&sortOrder=desc", headers=admin.headers)
    )
    assert [i["title"] for i in desc["data"]] == ["cherry", "banana", "Apple"]
    newest = ok_json(
        client.get("/api/images?pageSize=10&page=0&sortProperty=createdTime&sortOrder=DESC", headers=admin.headers)
    )
    times = [i["createdTime"] for i in newest["data"]]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("pageSize=10&page=0&sortProperty=title&sortOrder=FOO", "Unsupported sort order 'FOO'!"),
        ("pageSize=10&page=0&sortProperty=a.b", "Invalid sort property"),
        ("pageSize=10&page=0&sortProperty=password", "Invalid sort property"),
        ("pageSize=abc&page=0", "pageSize"),
        ("pageSize=10", "page"),
        ("page=0", "pageSize"),
        ("pageSize=0&page=0", "pageSize"),
        ("pageSize=10&page=-1", "page"),
        ("pageSize=1000000&page=0", "pageSize"),
        ("pageSize=10&page=0&includeSystemImages=maybe", "includeSystemImages"),
    ],
)
def test_bad_list_parameters_are_400(client: FlaskClient, admin: Actor, query: str, message: str) -> None:
    body = error_of(client.get(f"/api/images?{query}", headers=admin.headers), 400)
    assert message in body["message"]


def test_customer_cannot_list(client: FlaskClient, customer: Actor) -> None:
    error_of(client.get("/api/images?pageSize=10&page=0", headers=customer.headers), 403)
