"""An image's `link` leads back to that image whatever its key holds, and references by link protect it in either
form (run on both backends: the DynamoDB catalog finds references its own way)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.conftest import Actor
from tests.helpers import ok_json, png, upload


def test_a_key_with_a_question_mark_links_to_itself_not_to_another_image(client: FlaskClient, admin: Actor) -> None:
    plain = ok_json(upload(client, admin.headers, png(10, 10, (1, 2, 3)), "logo.png"))
    tricky = ok_json(upload(client, admin.headers, png(20, 20, (4, 5, 6)), "logo.png?v=2"))
    assert tricky["resourceKey"] == "logo.png?v=2"
    assert tricky["link"] == "/api/images/tenant/logo.png%3Fv%3D2"
    assert plain["link"] == "/api/images/tenant/logo.png"  # ordinary keys keep ThingsBoard's plain link
    served = client.get(tricky["link"], headers=admin.headers)
    assert served.status_code == 200
    assert served.headers["ETag"] == f'"{tricky["etag"]}"'
    assert ok_json(client.get(f"{tricky['link']}/info", headers=admin.headers))["etag"] == tricky["etag"]


@pytest.mark.parametrize("form", ["encoded", "raw", "encodeURIComponent"])
def test_a_dashboard_reference_by_either_link_protects_the_image(client: FlaskClient, admin: Actor, form: str) -> None:
    """References saved from the encoded `link`, and older ones (or hand-made ones) with the raw key."""
    image = ok_json(upload(client, admin.headers, png(), "my logo (1).png"))
    links = {
        "encoded": image["link"],  # as our `link` says: /api/images/tenant/my%20logo%20%281%29.png
        "raw": f"/api/images/tenant/{image['resourceKey']}",
        "encodeURIComponent": "/api/images/tenant/my%20logo%20(1).png",  # as a page's JavaScript would write it
    }
    link = links[form]
    assert image["link"] == "/api/images/tenant/my%20logo%20%281%29.png"
    dashboard = {"title": "Ops", "configuration": {"widgets": {"w": {"config": {"background": f"tb-image;{link}"}}}}}
    ok_json(client.post("/api/dashboard", json=dashboard, headers=admin.headers))
    refused = client.delete(image["link"], headers=admin.headers)
    assert refused.status_code == 400
    assert [d["title"] for d in refused.get_json()["references"]["DASHBOARD"]] == ["Ops"]
    assert client.delete(f"{image['link']}?force=true", headers=admin.headers).status_code == 200
