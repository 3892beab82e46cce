"""Lost updates are impossible: an update based on a version that moved on is a 409, and the other writer wins."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient

from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, jpeg, ok_json, png, put_file, upload


@pytest.fixture
def interloper(gallery: Gallery, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Before each update reaches the catalog, another writer renames the same image (a real catalog write)."""
    catalog = gallery.images.catalog
    real_update = catalog.update_image
    titles: list[str] = []

    def update_after_someone_else(image: Any, expected_version: int, max_total: int) -> None:
        current = catalog.get_image(image.tenant_id, image.resource_key)
        assert current is not None
        title = f"renamed by someone else {len(titles)}"
        real_update(replace(current, title=title, version=current.version + 1), current.version, 0)
        titles.append(title)
        real_update(image, expected_version, max_total)

    monkeypatch.setattr(catalog, "update_image", update_after_someone_else)
    return titles


def test_a_rename_based_on_an_old_version_is_a_409(
    client: FlaskClient, gallery: Gallery, admin: Actor, interloper: list[str]
) -> None:
    ok_json(upload(client, admin.headers, png(), "race.png"))
    body = error_of(client.put("/api/images/tenant/race.png/info", json={"title": "mine"}, headers=admin.headers), 409)
    assert body["errorCode"] == 35
    info = ok_json(client.get("/api/images/tenant/race.png/info", headers=admin.headers))
    assert info["title"] == interloper[-1]


def test_new_bytes_based_on_an_old_version_are_a_409_and_change_nothing(
    client: FlaskClient, gallery: Gallery, admin: Actor, interloper: list[str]
) -> None:
    original = png()
    ok_json(upload(client, admin.headers, original, "race.png"))
    usage = gallery.images.usage(admin.tenant_id)
    error_of(put_file(client, "/api/images/tenant/race.png", admin.headers, jpeg(), "new.jpg"), 409)
    assert client.get("/api/images/tenant/race.png", headers=admin.headers).get_data() == original
    assert gallery.images.usage(admin.tenant_id) == usage
    assert gallery.images.keeper.collect_garbage() == []  # the refused bytes were not left behind
