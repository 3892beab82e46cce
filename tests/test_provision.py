"""`gallery provision`: creates the aws backend's table and bucket, idempotently, and says what it did (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from click.testing import CliRunner

from gallery.cli import main
from tests.conftest import JWT_SECRET
from tests.storage_fixtures import AWS_ENV, aws_env

ENV = {**AWS_ENV, "GALLERY_BACKEND": "aws", "GALLERY_TABLE": "gallery-prov", "GALLERY_BUCKET": "gallery-prov-bucket"}


@pytest.fixture
def mocked() -> Iterator[None]:
    from moto import mock_aws

    with aws_env(), mock_aws():
        yield


def run(*args: str, **env: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, list(args), env={**ENV, **env})
    return result.exit_code, result.output.strip().splitlines()


def test_provision_creates_then_leaves_alone(mocked: None) -> None:
    code, first = run("provision")
    assert code == 0, first
    assert first[0] == "created DynamoDB table gallery-prov"
    assert "created S3 bucket gallery-prov-bucket" in first
    code, second = run("provision")
    assert code == 0
    assert second[0] == "DynamoDB table gallery-prov already exists"
    assert "S3 bucket gallery-prov-bucket already exists" in second
    # sessions and failed sign-ins expire by DynamoDB's TTL, so nothing has to scan for them
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName="gallery-prov")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "expires_at")

    table = boto3.client("dynamodb").describe_table(TableName="gallery-prov")["Table"]
    assert {index["IndexName"] for index in table["GlobalSecondaryIndexes"]} == {"by_created", "by_title"}
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    rules = boto3.client("s3").get_bucket_lifecycle_configuration(Bucket="gallery-prov-bucket")["Rules"]
    expiring = [(r["Filter"]["Prefix"], r["Expiration"]["Days"], r["Status"]) for r in rules]
    assert expiring == [("staging/", 1, "Enabled")]
    uploads, downloads = boto3.client("s3").get_bucket_cors(Bucket="gallery-prov-bucket")["CORSRules"]
    assert (uploads["AllowedMethods"], uploads["AllowedOrigins"]) == (["POST"], ["*"])
    assert (downloads["AllowedMethods"], downloads["AllowedHeaders"]) == (["GET", "HEAD"], ["x-authorization"])
    # the catalog is the one record of who owns which bytes: restorable, and not deleted by a slip
    backups = boto3.client("dynamodb").describe_continuous_backups(TableName="gallery-prov")
    recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"
    assert table["DeletionProtectionEnabled"] is True
    blocked = boto3.client("s3").get_public_access_block(Bucket="gallery-prov-bucket")
    assert all(blocked["PublicAccessBlockConfiguration"].values())


def test_provision_keeps_an_operators_own_bucket_rules(mocked: None) -> None:
    assert run("provision")[0] == 0
    s3 = boto3.client("s3")
    theirs = {"ID": "their-rule", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 30}}
    rules = s3.get_bucket_lifecycle_configuration(Bucket="gallery-prov-bucket")["Rules"]
    s3.put_bucket_lifecycle_configuration(
        Bucket="gallery-prov-bucket",
        LifecycleConfiguration={"Rules": [theirs, *rules]},  # type: ignore[list-item]
    )
    cors = s3.get_bucket_cors(Bucket="gallery-prov-bucket")["CORSRules"]
    their_cors = {"ID": "their-cors", "AllowedMethods": ["PUT"], "AllowedOrigins": ["https://them.example"]}
    s3.put_bucket_cors(Bucket="gallery-prov-bucket", CORSConfiguration={"CORSRules": [*cors, their_cors]})  # type: ignore[list-item]
    assert run("provision")[0] == 0
    kept = s3.get_bucket_lifecycle_configuration(Bucket="gallery-prov-bucket")["Rules"]
    assert [rule["ID"] for rule in kept] == ["their-rule", "expire-abandoned-staging-uploads"]
    kept_cors = s3.get_bucket_cors(Bucket="gallery-prov-bucket")["CORSRules"]
    assert [rule.get("ID") for rule in kept_cors] == ["presigned-uploads", "redirected-downloads", "their-cors"]


def test_provisioned_backend_serves_the_cli(mocked: None) -> None:
    assert run("provision")[0] == 0
    code, out = run("tenants", "create", "Acme", GALLERY_JWT_SECRET=JWT_SECRET)
    assert code == 0, out
    code, listed = run("tenants", "list", GALLERY_JWT_SECRET=JWT_SECRET)
    assert code == 0
    assert listed[0].endswith("\t0\tAcme")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GALLERY_BACKEND": "local"}, "is for GALLERY_BACKEND=aws"),
        ({"GALLERY_BUCKET": ""}, "GALLERY_BUCKET must be set"),
    ],
)
def test_provision_mistakes_are_one_line(mocked: None, env: dict[str, str], message: str) -> None:
    code, out = run("provision", **env)
    assert code == 1
    assert message in out[-1]
    assert len(out) == 1
