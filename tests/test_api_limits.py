"""Tenant-profile limits (reference §12 items 34–35), enforced atomically under concurrent uploads."""

from __future__ import annotations

import threading

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gallery.domain.model import FileLimits
from gallery.wiring import Gallery
from tests.conftest import Actor
from tests.helpers import error_of, ok_json, png, put_file, upload


def limit_tenant(gallery: Gallery, tenant_id: str, limits: FileLimits) -> None:
    profile = gallery.accounts.create_profile(f"limits {limits}", limits)
    tenant = gallery.accounts.get_tenant(tenant_id)
    gallery.accounts.update_tenant(tenant.id, tenant.name, profile.id)


def test_max_resource_size(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    limit_tenant(gallery, admin.tenant_id, FileLimits(max_resource_size=100))
    body = error_of(upload(client, admin.headers, png(), "a.png"), 400)
    assert body["message"] == "Resource exceeds the maximum size of 100 bytes"
    assert body["errorCode"] == 31
    assert ok_json(client.get("/api/system/params", headers=admin.headers))["maxResourceSize"] == 100
    assert gallery.images.usage(admin.tenant_id) == 0


def test_display_size_uses_whole_units(client: FlaskClient, gallery: Gallery, admin: Actor) -> None:
    limit_tenant(gallery, admin.tenant_id, FileLimits(max_resource_size=1500))
    # The per-file limit is checked on the byte count before any decoding.
    body = error_of(upload(client, admin.headers, png() + b"\0" * 2000, "a.png"), 400)
    assert body["message"] == "Resource exceeds the maximum size of 1 KB"


def test_total_limit_counts_every_image_and_update_counts_the_delta(
    client: FlaskClient, gallery: Gallery, admin: Actor
) -> None:
    small, other = png(10, 10, (1, 1, 1)), png(10, 10, (2, 2, 2))
    limit_tenant(gallery, admin.tenant_id, FileLimits(max_resources_in_bytes=len(small) + len(other)))
    ok_json(upload(client, admin.headers, small, "a.png"))
    ok_json(upload(client, admin.headers, other, "b.png"))
    body = error_of(upload(client, admin.headers, png(10, 10, (3, 3, 3)), "c.png"), 400)
    assert body["message"].startswith("Resources total size exceeds the maximum of ")
    # Replacing an image with one of the same size fits: the old size is given back.
    same_size = png(10, 10, (4, 4, 4))
    assert len(same_size) == len(small)
    ok_json(put_file(client, "/api/images/tenant/a.png", admin.headers, same_size, "a.png"))
    bigger = png(200, 200, (5, 6, 7)) + b"\0" * 100
    error_of(put_file(client, "/api/images/tenant/a.png", admin.headers, bigger, "a.png"), 400)
    assert gallery.images.usage(admin.tenant_id) == len(same_size) + len(other)
    ok_json(client.delete("/api/images/tenant/b.png", headers=admin.headers))
    assert gallery.images.usage(admin.tenant_id) == len(same_size)


def test_system_administrator_is_not_limited(client: FlaskClient, sysadmin: Actor) -> None:
    assert ok_json(client.get("/api/system/params", headers=sysadmin.headers))["maxResourceSize"] == 0
    ok_json(upload(client, sysadmin.headers, png(500, 500), "big.png"))


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_uploads_never_exceed_the_quota(app: Flask, gallery: Gallery, admin: Actor, round_: int) -> None:
    images = [png(16, 16, (n, round_, 7)) for n in range(20)]
    size = max(len(i) for i in images)
    allowed = 5
    limit = size * allowed
    limit_tenant(gallery, admin.tenant_id, FileLimits(max_resources_in_bytes=limit))
    barrier = threading.Barrier(len(images))
    statuses: list[int] = []

    def send(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(upload(client, admin.headers, images[n], f"img{n}.png").status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(images))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = statuses.count(200)
    assert sorted(set(statuses)) == [200, 400]
    assert allowed <= accepted <= limit // min(len(i) for i in images)
    usage = gallery.images.usage(admin.tenant_id)
    assert usage <= limit
    listed = ok_json(app.test_client().get("/api/images?pageSize=100&page=0", headers=admin.headers))
    assert listed["totalElements"] == accepted
    assert usage == sum(i["descriptor"]["size"] for i in listed["data"])
