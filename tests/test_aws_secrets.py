"""Secrets in SSM Parameter Store (`GALLERY_SECRETS_PATH`): read once at start-up by the app and the CLI, so a
function's environment and an operator's shell hold where they are, never their values (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from gallery.cli import main
from gallery.config import Settings
from gallery.domain.errors import ConfigError
from gallery.storage.aws.provision import provision
from gallery.wiring import Gallery
from tests.iam_ledger import Call, record, refusals, role_statements
from tests.storage_fixtures import AWS_ENV, aws_env

PATH = "/image-gallery/test/"
SECRET = "a-secret-from-the-parameter-store-of-48-bytes!!!"
ENV = {**AWS_ENV, "GALLERY_BACKEND": "aws", "GALLERY_TABLE": "secrets", "GALLERY_BUCKET": "secrets-bucket"}


@pytest.fixture
def mocked(tmp_path: Path) -> Iterator[Settings]:
    from moto import mock_aws

    with aws_env(), mock_aws():
        settings = Settings.from_env(ENV, data_dir=tmp_path, secrets_path=PATH)
        provision(settings)
        yield settings


def put(name: str, value: str, kind: str = "SecureString") -> None:
    boto3.client("ssm").put_parameter(Name=PATH + name, Value=value, Type=kind)  # type: ignore[arg-type]


def test_the_secret_is_read_from_the_parameter_store(mocked: Settings) -> None:
    put("GALLERY_JWT_SECRET", SECRET)
    put("GALLERY_PROXY_SECRET", "the-proxy-secret")
    calls: list[Call] = []
    with record(lambda: True, calls.append):
        gallery = Gallery.open(mocked)
    # one request for the secrets at start-up, and all it did allowed by the API's role (deploy/stack.yaml)
    assert [c.operation for c in calls if c.service == "ssm"] == ["GetParameters"]
    names = {"Table": mocked.table, "DataBucket": mocked.bucket, "SecretsPath": PATH}
    role = role_statements("ApiRole", {"Project": "image-gallery", "Stage": "test", **names})
    assert refusals(calls, lambda _: role) == []
    assert (gallery.settings.jwt_secret, gallery.settings.proxy_secret) == (SECRET, "the-proxy-secret")
    assert mocked.jwt_secret == ""  # the settings read from the environment never held it


def test_a_secret_in_the_environment_wins(mocked: Settings) -> None:
    put("GALLERY_JWT_SECRET", SECRET)
    own = "x" * 40
    assert Gallery.open(mocked.evolve(jwt_secret=own)).settings.jwt_secret == own


def test_a_missing_secret_is_the_usual_error(mocked: Settings) -> None:
    with pytest.raises(ConfigError, match="GALLERY_JWT_SECRET must be set"):
        Gallery.open(mocked)


def test_a_plain_string_parameter_is_refused(mocked: Settings) -> None:
    put("GALLERY_JWT_SECRET", SECRET, kind="String")
    with pytest.raises(ConfigError, match="must be a SecureString"):
        Gallery.open(mocked)


def test_a_short_secret_is_refused_as_from_the_environment(mocked: Settings) -> None:
    put("GALLERY_JWT_SECRET", "short")
    with pytest.raises(ConfigError, match="at least 32 bytes"):
        Gallery.open(mocked)


@pytest.mark.parametrize("path", ["image-gallery/dev/", "/image-gallery/dev", "/a//b/"])
def test_a_malformed_path_names_the_variable(path: str) -> None:
    with pytest.raises(ConfigError, match="GALLERY_SECRETS_PATH"):
        Settings.from_env({"GALLERY_SECRETS_PATH": path})


def test_the_operator_cli_needs_only_the_path(mocked: Settings) -> None:
    put("GALLERY_JWT_SECRET", SECRET)
    env = {**ENV, "GALLERY_SECRETS_PATH": PATH, "GALLERY_JWT_SECRET": ""}
    created = CliRunner().invoke(main, ["tenants", "create", "Acme"], env=env)
    assert created.exit_code == 0, created.output
    listed = CliRunner().invoke(main, ["tenants", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "Acme" in listed.output
    without = CliRunner().invoke(main, ["tenants", "list"], env={**env, "GALLERY_SECRETS_PATH": ""})
    assert without.exit_code != 0
    assert "GALLERY_JWT_SECRET must be set" in without.output
