"""The API through Zappa's real Lambda handler, fed API Gateway REST (v1) proxy events, in a subprocess that stands
for a Lambda container. Its `zappa_settings.py` is the one `zappa package` generates from `zappa_settings.json`."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from urllib3 import encode_multipart_formdata

from tests.conftest import JWT_SECRET
from tests.helpers import png, sha256, svg
from tests.live import gallery_command

ROOT = Path(__file__).resolve().parent.parent
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
EMAIL, PASSWORD = "admin@lambda.example", "lambda-password"


def zappa_settings_module(stage: str) -> str:
    """What Zappa writes into the package as `zappa_settings.py` for this stage."""
    from zappa.cli import ZappaCLI

    cli = ZappaCLI()
    cli.api_stage = stage
    cli.load_settings(str(ROOT / "zappa_settings.json"))
    return str(cli.get_zappa_settings_string())


class Container:
    def __init__(self, settings_dir: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "lambda_driver.py"), str(settings_dir)],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    def invoke(self, event: dict[str, Any], unwrapped: bool = False, publisher: bool = False) -> dict[str, Any]:
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.write(json.dumps({"event": event, "unwrapped": unwrapped, "publisher": publisher}) + "\n")
        self.process.stdin.flush()
        for line in self.process.stdout:
            if line.startswith("@@response "):
                response: dict[str, Any] = json.loads(line.removeprefix("@@response "))
                return response
        raise AssertionError(f"the container exited with {self.process.wait()}")

    def close(self) -> None:
        assert self.process.stdin
        assert self.process.stdout
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


def event(
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    query: dict[str, str] | None = None,
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """An API Gateway REST proxy event, binary bodies base64-encoded as `binary_support` makes API Gateway send."""
    all_headers = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443", **(headers or {})}
    encoded = isinstance(body, bytes)
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            "identity": {"sourceIp": source_ip, "userAgent": "pytest"},
        },
        "body": base64.b64encode(body).decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": encoded,
    }


def body_of(response: dict[str, Any]) -> bytes:
    body = response.get("body", "")
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def header(response: dict[str, Any], name: str) -> str | None:
    found = [v for k, v in response.get("headers", {}).items() if k.lower() == name.lower()]
    return found[0] if found else None


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory, backend_env: dict[str, str]) -> Iterator[Container]:
    settings_dir = tmp_path_factory.mktemp("lambda-task")
    (settings_dir / "zappa_settings.py").write_text(zappa_settings_module("dev"))
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(settings_dir),
        "GALLERY_DATA_DIR": str(settings_dir / "data"),
        "GALLERY_JWT_SECRET": JWT_SECRET,
        "GALLERY_PROXY_SECRET": PROXY_SECRET,
        **backend_env,
    }
    gallery_command("tenants", "create", "Lambda", env=env)
    gallery_command(
        "users", "create", EMAIL, "--password", PASSWORD, "--role", "TENANT_ADMIN", "--tenant", "Lambda", env=env
    )
    ledger = settings_dir / "aws-calls.jsonl"
    if backend_env:  # on the aws backend, every call the function makes is held against its role
        env["GALLERY_IAM_LEDGER"] = str(ledger)
    running = Container(settings_dir, env)
    yield running
    running.close()
    if backend_env:
        from tests.iam_ledger import assert_role_allows

        name = backend_env["GALLERY_TABLE"]
        assert_role_allows(ledger, "ApiRole", {"Table": name, "DataBucket": name, "SecretsPath": "/image-gallery/dev/"})


@pytest.fixture(scope="module")
def auth(container: Container) -> dict[str, str]:
    response = container.invoke(
        event(
            "POST",
            "/api/auth/login",
            {"Content-Type": "application/json"},
            json.dumps({"username": EMAIL, "password": PASSWORD}),
        )
    )
    assert response["statusCode"] == 200, response
    assert not response.get("isBase64Encoded")
    token = json.loads(response["body"])["token"]
    return {"X-Authorization": f"Bearer {token}"}


def upload(container: Container, auth: dict[str, str], data: bytes, name: str) -> dict[str, Any]:
    body, content_type = encode_multipart_formdata({"file": (name, data), "title": name})
    response = container.invoke(event("POST", "/api/image", {**auth, "Content-Type": content_type}, body))
    assert response["statusCode"] == 200, response
    info: dict[str, Any] = json.loads(response["body"])
    return info


def test_a_multipart_upload_in_a_base64_body_arrives_byte_identical(container: Container, auth: dict[str, str]) -> None:
    data = png(123, 45, (10, 20, 30))
    info = upload(container, auth, data, "lambda logo.png")
    assert info["etag"] == sha256(data)
    assert info["descriptor"]["width"] == 123
    assert info["resourceKey"] == "lambda logo.png"


def test_a_binary_download_comes_back_base64_with_its_headers(container: Container, auth: dict[str, str]) -> None:
    data = png(64, 64, (200, 100, 0))
    upload(container, auth, data, "download.png")
    response = container.invoke(event("GET", "/api/images/tenant/download.png", auth))
    assert response["statusCode"] == 200
    assert response["isBase64Encoded"] is True
    assert body_of(response) == data
    assert header(response, "Content-Type") == "image/png"
    assert header(response, "ETag") == f'"{sha256(data)}"'
    assert header(response, "Cache-Control") == "no-cache"
    assert header(response, "Content-Disposition") == "attachment;filename=download.png"


def test_a_304_has_no_content_type(container: Container, auth: dict[str, str]) -> None:
    data = png(32, 32, (1, 1, 1))
    upload(container, auth, data, "cached.png")
    revalidate = event("GET", "/api/images/tenant/cached.png", {**auth, "If-None-Match": f'"{sha256(data)}"'})
    response = container.invoke(revalidate)
    assert response["statusCode"] == 304
    assert header(response, "ETag") == f'"{sha256(data)}"'
    assert header(response, "Content-Type") is None
    assert not any(k.lower() == "content-type" for k in response.get("multiValueHeaders", {}))
    assert body_of(response) == b""
    # Zappa's handler on its own does add one: the wrapper in functions/api.py is what takes it away.
    assert header(container.invoke(revalidate, unwrapped=True), "Content-Type") is not None


def test_svg_comes_back_as_text(container: Container, auth: dict[str, str]) -> None:
    data = svg(80, 20)
    upload(container, auth, data, "icon.svg")
    response = container.invoke(event("GET", "/api/images/tenant/icon.svg", auth))
    assert response["statusCode"] == 200
    assert not response.get("isBase64Encoded")
    assert response["body"] == data.decode()
    assert header(response, "Content-Type") == "image/svg+xml"
    gzipped = container.invoke(event("GET", "/api/images/tenant/icon.svg", {**auth, "Accept-Encoding": "gzip"}))
    assert gzipped["isBase64Encoded"] is True  # compressed bytes must travel as base64
    assert header(gzipped, "Content-Encoding") == "gzip"


def test_an_error_is_json(container: Container, auth: dict[str, str]) -> None:
    response = container.invoke(event("GET", "/api/images/tenant/missing.png/info", auth))
    assert response["statusCode"] == 404
    assert not response.get("isBase64Encoded")
    assert header(response, "Content-Type") == "application/json"
    body = json.loads(response["body"])
    assert (body["status"], body["errorCode"]) == (404, 32)
    unauthenticated = container.invoke(event("GET", "/api/images", query={"pageSize": "10", "page": "0"}))
    assert unauthenticated["statusCode"] == 401
    assert json.loads(unauthenticated["body"])["errorCode"] == 10


def test_query_strings_reach_the_app(container: Container, auth: dict[str, str]) -> None:
    upload(container, auth, png(10, 10, (5, 5, 5)), "findme.png")
    response = container.invoke(
        event("GET", "/api/images", auth, query={"pageSize": "5", "page": "0", "textSearch": "FINDME"})
    )
    assert response["statusCode"] == 200
    assert [i["resourceKey"] for i in json.loads(response["body"])["data"]] == ["findme.png"]


PROXY_SECRET = "our-cloudfront-says-this-0123456789"


def guess(container: Container, email: str, headers: dict[str, str], source_ip: str) -> int:
    body = json.dumps({"username": email, "password": "a-guess"})
    response = container.invoke(
        event("POST", "/api/auth/login", {"Content-Type": "application/json", **headers}, body, source_ip=source_ip)
    )
    return int(response["statusCode"])


def test_a_forged_forwarded_for_does_not_make_a_new_client(container: Container) -> None:
    """Calling API Gateway's own URL, each guess claims another address: the connection's address still counts."""
    codes = [
        guess(container, f"spray{n}@nowhere.example", {"X-Forwarded-For": f"10.9.{n}.1, 10.8.{n}.2"}, "198.51.100.99")
        for n in range(21)
    ]
    assert codes == [401] * 20 + [429]


def test_only_our_cloudfront_is_believed_about_the_viewer(container: Container) -> None:
    """With the secret origin header, the viewer CloudFront appended is the client: many viewers behind one edge
    are many clients; a wrong secret is an ordinary caller."""
    via_cdn = [
        guess(
            container,
            f"cdn{n}@nowhere.example",
            {"X-Gallery-Proxy": PROXY_SECRET, "X-Forwarded-For": f"192.0.2.{n}, 130.176.0.1"},
            "130.176.0.1",
        )
        for n in range(25)
    ]
    assert set(via_cdn) == {401}
    forged = [
        guess(
            container,
            f"forged{n}@nowhere.example",
            {"X-Gallery-Proxy": "a-guess-at-it", "X-Forwarded-For": f"192.0.2.{n}, 130.176.0.9"},
            "130.176.0.9",
        )
        for n in range(21)
    ]
    assert forged == [401] * 20 + [429]
