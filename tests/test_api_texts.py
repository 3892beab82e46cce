"""Alt text, description and tags: additive to ThingsBoard's image JSON, set through `PUT …/info`, filtered by
`tags=`, matched by `textSearch`, counted by `/api/images/tags`, changed in bulk, and carried by export and import."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from gallery.domain.validation import MAX_ALT_TEXT, MAX_DESCRIPTION, MAX_TAG, MAX_TAGS
from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, upload

INFO = "/api/images/tenant/{}/info"


def put_info(client: FlaskClient, actor: Actor, key: str, body: dict[str, Any]) -> Any:
    return client.put(INFO.format(key), json=body, headers=actor.headers)


def info(client: FlaskClient, actor: Actor, key: str) -> dict[str, Any]:
    return ok_json(client.get(INFO.format(key), headers=actor.headers))  # type: ignore[no-any-return]


def keys_of(client: FlaskClient, actor: Actor, query: str) -> list[str]:
    listed = ok_json(
        client.get(f"/api/images?pageSize=50&page=0&sortProperty=resourceKey&{query}", headers=actor.headers)
    )
    return [image["resourceKey"] for image in listed["data"]]


def test_texts_are_set_kept_when_omitted_and_cleared_when_empty(client: FlaskClient, admin: Actor) -> None:
    uploaded = ok_json(upload(client, admin.headers, png(), "a.png"))
    assert (uploaded["altText"], uploaded["description"], uploaded["tags"]) == ("", "", [])
    body = {"altText": " A red pump ", "description": "Line one\nline two", "tags": ["Pump", "Boiler  Room", "pump"]}
    described = ok_json(put_info(client, admin, "a.png", body))
    assert described["altText"] == "A red pump"
    assert described["description"] == "Line one\nline two"
    assert described["tags"] == ["pump", "boiler-room"]  # lowercase, spaces made one '-', repeats dropped
    assert described["title"] == "a.png"  # a body without a title keeps it
    renamed = ok_json(put_info(client, admin, "a.png", {"title": "Pump"}))  # what ThingsBoard's clients send
    assert {k: renamed[k] for k in ("altText", "description", "tags")} == {k: described[k] for k in body}
    cleared = ok_json(put_info(client, admin, "a.png", {"altText": "", "description": None, "tags": []}))
    assert (cleared["altText"], cleared["description"], cleared["tags"]) == ("", "Line one\nline two", [])
    assert info(client, admin, "a.png") == cleared


def test_a_body_that_changes_nothing_writes_nothing(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    first = ok_json(put_info(client, admin, "a.png", {"tags": ["x"]}))
    again = ok_json(put_info(client, admin, "a.png", {"tags": ["X"], "title": "a.png"}))
    assert again == first  # same version, same updated time: nothing was written
    assert error_of(put_info(client, admin, "a.png", {}), 400)["message"] == "Resource title should be specified!"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"tags": "pump"}, "'tags' must be a list of strings"),
        ({"tags": ["pump", 3]}, "'tags' must be a list of strings"),
        ({"tags": [f"t{n}" for n in range(MAX_TAGS + 1)]}, f"An image carries at most {MAX_TAGS} tags"),
        ({"tags": ["x" * (MAX_TAG + 1)]}, f"longer than {MAX_TAG} characters"),
        ({"tags": ["a,b"]}, "must be letters and digits"),
        ({"tags": [".."]}, "must be letters and digits"),
        ({"tags": ["a/b"]}, "must be letters and digits"),
        ({"tags": ["<script>"]}, "must be letters and digits"),
        ({"tags": ["Index.HTML"]}, "is reserved"),  # the static site's page of every tag
        ({"tags": ["  "]}, "A tag must not be empty"),
        ({"altText": "two\nlines"}, "Alt text must be one line"),
        ({"altText": "x" * (MAX_ALT_TEXT + 1)}, f"Alt text is longer than {MAX_ALT_TEXT} characters"),
        ({"description": "x" * (MAX_DESCRIPTION + 1)}, f"Description is longer than {MAX_DESCRIPTION} characters"),
        ({"description": "bell\x07"}, "Description contains control characters"),
        ({"altText": 5}, "'altText' must be a string"),
        ({"title": "", "tags": ["ok"]}, "Resource title should be specified!"),
    ],
)
def test_bad_texts_are_refused_and_change_nothing(
    client: FlaskClient, admin: Actor, body: dict[str, Any], message: str
) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    before = ok_json(put_info(client, admin, "a.png", {"altText": "Kept", "tags": ["kept"]}))
    error = error_of(put_info(client, admin, "a.png", body), 400)
    assert message in error["message"]
    assert info(client, admin, "a.png") == before


def test_a_tag_filter_lists_images_carrying_every_tag(client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    for key, tags in [("a.png", ["pump", "red"]), ("b.png", ["pump"]), ("c.png", ["red"]), ("d.png", [])]:
        ok_json(upload(client, admin.headers, png(), key))
        ok_json(put_info(client, admin, key, {"tags": tags}))
    ok_json(upload(client, sysadmin.headers, png(), "s.png"))
    ok_json(client.put("/api/images/system/s.png/info", json={"tags": ["pump"]}, headers=sysadmin.headers))
    assert keys_of(client, admin, "tags=pump") == ["a.png", "b.png"]
    assert keys_of(client, admin, "tags=pump,red") == ["a.png"]
    assert keys_of(client, admin, "tags=RED&tags=pump") == ["a.png"]  # repeated, and folded as tags are
    assert keys_of(client, admin, "tags=pump&includeSystemImages=true") == ["a.png", "b.png", "s.png"]
    assert keys_of(client, admin, "tags=blue") == []
    assert keys_of(client, admin, "tags=") == ["a.png", "b.png", "c.png", "d.png"]
    newest = ok_json(client.get("/api/images?pageSize=1&page=1&tags=pump&sortOrder=DESC", headers=admin.headers))
    assert (newest["totalElements"], newest["hasNext"], newest["data"][0]["resourceKey"]) == (2, False, "a.png")
    bad = error_of(client.get("/api/images?pageSize=5&page=0&tags=a/b", headers=admin.headers), 400)
    assert "must be letters and digits" in bad["message"]


def test_text_search_matches_alt_text_description_and_tags(client: FlaskClient, admin: Actor) -> None:
    texts: dict[str, dict[str, Any]] = {
        "t.png": {"title": "Boiler"},
        "a.png": {"altText": "A boiler from above"},
        "d.png": {"description": "Next to the\nboiler."},
        "g.png": {"tags": ["boiler"]},
        "n.png": {"title": "Nothing"},
    }
    for key, body in texts.items():
        ok_json(upload(client, admin.headers, png(), key))
        ok_json(put_info(client, admin, key, body))
    assert keys_of(client, admin, "textSearch=BOILER") == ["a.png", "d.png", "g.png", "t.png"]
    assert keys_of(client, admin, "textSearch=boiler&tags=boiler") == ["g.png"]


def test_tag_counts_name_what_the_list_can_be_filtered_by(client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    for key, tags in [("a.png", ["pump", "red"]), ("b.png", ["pump"])]:
        ok_json(upload(client, admin.headers, png(), key))
        ok_json(put_info(client, admin, key, {"tags": tags}))
    ok_json(upload(client, sysadmin.headers, png(), "s.png"))
    ok_json(client.put("/api/images/system/s.png/info", json={"tags": ["pump", "logo"]}, headers=sysadmin.headers))
    assert ok_json(client.get("/api/images/tags", headers=admin.headers)) == {"pump": 2, "red": 1}
    with_system = ok_json(client.get("/api/images/tags?includeSystemImages=true", headers=admin.headers))
    assert with_system == {"logo": 1, "pump": 3, "red": 1}
    assert ok_json(client.get("/api/images/tags?imageSubType=SCADA_SYMBOL", headers=admin.headers)) == {}


def test_bulk_tags_add_and_remove_each_image_on_its_own(client: FlaskClient, admin: Actor, sysadmin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    ok_json(put_info(client, admin, "a.png", {"tags": ["old", "keep"]}))
    ok_json(upload(client, admin.headers, png(), "b.png"))
    ok_json(upload(client, admin.headers, png(), "full.png"))
    ok_json(put_info(client, admin, "full.png", {"tags": [f"t{n}" for n in range(MAX_TAGS)]}))
    ok_json(upload(client, sysadmin.headers, png(), "s.png"))
    images = [
        {"type": "tenant", "key": "a.png"},
        {"type": "tenant", "key": "b.png"},
        {"type": "tenant", "key": "full.png"},
        {"type": "system", "key": "s.png"},
        {"type": "tenant", "key": "missing.png"},
    ]
    body = {"images": images, "add": ["New Tag"], "remove": ["old"]}
    result = ok_json(client.post("/api/images/bulkTags", json=body, headers=admin.headers))
    assert (result["success"], result["updated"]) == (False, 2)
    outcomes = {o["key"]: (o["success"], o.get("error", {}).get("status")) for o in result["results"]}
    assert outcomes == {
        "a.png": (True, None),
        "b.png": (True, None),
        "full.png": (False, 400),  # a 21st tag: this one refused, the rest done
        "s.png": (False, 403),
        "missing.png": (False, 404),
    }
    assert info(client, admin, "a.png")["tags"] == ["keep", "new-tag"]
    assert info(client, admin, "b.png")["tags"] == ["new-tag"]
    assert len(info(client, admin, "full.png")["tags"]) == MAX_TAGS
    for bad, message in [
        ({"images": images, "add": []}, "Name a tag to add or to remove"),
        ({"images": [], "add": ["x"]}, "Name at least one image"),
        ({"images": images, "add": ["a/b"]}, "must be letters and digits"),
        ({"images": images, "add": "x"}, "'add' must be a list of strings"),
    ]:
        assert message in error_of(client.post("/api/images/bulkTags", json=bad, headers=admin.headers), 400)["message"]
    assert info(client, admin, "a.png")["tags"] == ["keep", "new-tag"]


def test_export_and_import_carry_the_texts(client: FlaskClient, admin: Actor) -> None:
    ok_json(upload(client, admin.headers, png(), "a.png"))
    texts = {"altText": "A red pump", "description": "Two\nlines", "tags": ["pump", "red"]}
    ok_json(put_info(client, admin, "a.png", texts))
    exported = ok_json(client.get("/api/images/tenant/a.png/export", headers=admin.headers))
    assert {k: exported[k] for k in texts} == texts
    ok_json(client.delete("/api/images/tenant/a.png", headers=admin.headers))
    restored = ok_json(client.put("/api/image/import", json=exported, headers=admin.headers))
    assert {k: restored[k] for k in texts} == texts
    # A ThingsBoard export file has none of them: importing it over the image keeps those the image has.
    plain = {k: v for k, v in exported.items() if k not in texts}
    assert {k: ok_json(client.put("/api/image/import", json=plain, headers=admin.headers))[k] for k in texts} == texts
    bad = {**exported, "tags": ["a/b"]}
    assert (
        "must be letters and digits"
        in error_of(client.put("/api/image/import", json=bad, headers=admin.headers), 400)["message"]
    )
