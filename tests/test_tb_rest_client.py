"""ThingsBoard's official Python client (tb-rest-client, a client we did not write) against a live `gallery serve`.

Every image method of the reference's §10.3 runs over real HTTP on loopback.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gallery.config import Settings
from gallery.storage.backends import open_storage
from tests.conftest import JWT_SECRET
from tests.helpers import jpeg, png, sha256, svg
from tests.live import LiveServer, gallery_command, live_server

pytestmark = [
    # The client's generated code and its dependencies predate current Python and urllib3 warnings.
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
]

EMAIL, PASSWORD = "admin@acme.example", "acme-password"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, backend_env: dict[str, str]) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("live")
    env_extra = {"GALLERY_JWT_SECRET": JWT_SECRET, **backend_env}
    with live_server(data_dir, env_extra) as live:
        gallery_command("tenants", "create", "Acme", env=live.env)
        gallery_command(
            "users", "create", EMAIL, "--password", PASSWORD, "--role", "TENANT_ADMIN", "--tenant", "Acme", env=live.env
        )
        gallery_command(
            "users", "create", "root@example.com", "--password", PASSWORD, "--role", "SYS_ADMIN", env=live.env
        )
        # The commands (and the server beside them) wrote to this session's backend, not a stray default.
        storage = open_storage(Settings.from_env(live.env))
        assert storage.catalog.find_tenant("Acme") is not None
        storage.close()
        yield live


@pytest.fixture
def client(server: LiveServer):  # type: ignore[no-untyped-def]
    from tb_rest_client.rest_client import RestClient

    rest = RestClient(server.url)
    rest.login(EMAIL, PASSWORD)
    return rest


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_every_image_method(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tb_rest_client.models.tb_resource_info import TbResourceInfo
    from tb_rest_client.rest import ApiException

    original = png(400, 300)
    info = client.upload_image(write(tmp_path, "my logo (1).png", original), title="Logo")
    key = info.resource_key
    assert key == "my logo (1).png"
    assert info.title == "Logo"
    assert info.etag == sha256(original)
    assert info.descriptor["width"] == 400
    assert info.public is True

    page = client.get_images(
        10, 0, text_search="logo", include_system_images=True, sort_property="title", sort_order="DESC"
    )
    assert [i.resource_key for i in page.data] == [key]
    assert page.total_elements == 1
    assert page.has_next is False

    assert client.get_image_info("tenant", key).etag == info.etag
    assert client.download_image("tenant", key) == original
    with pytest.raises(ApiException) as not_modified:
        client.download_image("tenant", key, if_none_match=f'"{info.etag}"')
    assert not_modified.value.status == 304
    preview = client.download_image_preview("tenant", key)
    assert sha256(preview) == info.descriptor["previewDescriptor"]["etag"]

    replacement = jpeg(640, 480)
    updated = client.update_image("tenant", key, write(tmp_path, "new.jpg", replacement))
    assert updated.etag == sha256(replacement)
    assert updated.descriptor["mediaType"] == "image/jpeg"
    assert updated.resource_key == key

    renamed = client.update_image_info("tenant", key, TbResourceInfo(title="Renamed logo"))
    assert renamed.title == "Renamed logo"

    private = client.update_image_public_status("tenant", key, False)
    assert private.public is False
    with pytest.raises(ApiException) as hidden:
        client.download_public_image(info.public_resource_key)
    assert hidden.value.status == 404
    public = client.update_image_public_status("tenant", key, True)
    assert public.public_resource_key == info.public_resource_key
    assert client.download_public_image(info.public_resource_key) == replacement

    exported = client.export_image("tenant", key)
    assert exported.resource_key == key
    result = client.delete_image("tenant", key, force=False)
    assert result.success is True
    with pytest.raises(ApiException) as gone:
        client.get_image_info("tenant", key)
    assert gone.value.status == 404
    restored = client.import_image(exported)
    assert restored.resource_key == key
    assert restored.public_resource_key == info.public_resource_key
    assert client.download_image("tenant", key) == replacement


def test_svg_and_sub_types(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = svg(64, 32)
    info = client.upload_image(write(tmp_path, "pump.svg", data), image_sub_type="SCADA_SYMBOL")
    assert info.resource_sub_type == "SCADA_SYMBOL"
    assert client.download_image("tenant", info.resource_key) == data
    symbols = client.get_images(10, 0, image_sub_type="SCADA_SYMBOL")
    assert [i.resource_key for i in symbols.data] == ["pump.svg"]


def test_errors_reach_the_client_as_api_exceptions(client) -> None:  # type: ignore[no-untyped-def]
    from tb_rest_client.rest import ApiException

    with pytest.raises(ApiException) as missing:
        client.get_image_info("tenant", "does-not-exist.png")
    assert missing.value.status == 404
    with pytest.raises(ApiException) as bad_scope:
        client.get_image_info("customer", "x.png")
    assert bad_scope.value.status == 400


def test_alt_text_description_and_tags_survive_a_client_that_knows_only_titles(  # type: ignore[no-untyped-def]
    client, server: LiveServer, tmp_path: Path
) -> None:
    """Our additive keys do not trouble the client's models, and its rename (a body with a title alone) leaves them."""
    from tb_rest_client.models.tb_resource_info import TbResourceInfo

    info = client.upload_image(write(tmp_path, "pump.png", png(40, 30)), title="Pump")
    token = call(server.url, "POST", "/api/auth/login", {"username": EMAIL, "password": PASSWORD})["token"]
    texts = {"altText": "A red pump", "description": "In the boiler room.", "tags": ["Pump", "boiler room"]}
    described = call(server.url, "PUT", f"/api/images/tenant/{info.resource_key}/info", texts, token)
    assert described["tags"] == ["pump", "boiler-room"]

    renamed = client.update_image_info("tenant", info.resource_key, TbResourceInfo(title="Pump, renamed"))
    assert renamed.title == "Pump, renamed"
    assert client.get_images(10, 0, text_search="boiler").data[0].resource_key == info.resource_key
    kept = call(server.url, "GET", f"/api/images/tenant/{info.resource_key}/info", None, token)
    assert (kept["title"], kept["altText"], kept["description"], kept["tags"]) == (
        "Pump, renamed",
        "A red pump",
        "In the boiler room.",
        ["pump", "boiler-room"],
    )


def call(base: str, method: str, path: str, body: object, token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
