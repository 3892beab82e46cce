"""`make deploy` against a moto server held to AWS's rules (tests/moto_strict.py): the deploy command as a
subprocess, from the zips `make package` builds, then everything it made inspected through the AWS APIs; a second
deploy updates in place; `make destroy --with-data` leaves nothing. What moto cannot make (CloudFront, a bucket
policy, gateway responses) is named exactly, and tested from the template instead (tests/test_deploy_stack.py)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from gallery.storage.aws import keys
from tests.storage_fixtures import AWS_ENV

ROOT = Path(__file__).resolve().parent.parent
STAGE = "dev"
REGION = "us-east-1"
ACCOUNT = "123456789012"
# What moto's CloudFormation cannot create; AWS's rules for them are checked from the template and by cfn-lint.
NOT_MADE_BY_MOTO = {
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::Distribution",
    "AWS::S3::BucketPolicy",
    "AWS::ApiGateway::GatewayResponse",
}


@pytest.fixture(scope="module")
def zips() -> None:
    """The zips `make deploy` deploys: built by `make package` (before the tests in `make test`) when missing."""
    if not all((ROOT / "build" / f"lambda-{s}.zip").is_file() for s in (STAGE, f"{STAGE}_publisher")):
        subprocess.run(["make", "package", f"STAGE={STAGE}"], cwd=ROOT, check=True, capture_output=True)


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.moto_strict"], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=_env("")
    )
    assert server.stdout
    port = server.stdout.readline().strip()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def _env(endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "GALLERY_"))}
    env.update({**AWS_ENV, "AWS_DEFAULT_REGION": REGION})
    env.pop("AWS_SESSION_TOKEN", None)
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def deploy(endpoint: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deploy", *arguments],
        cwd=ROOT,
        env=_env(endpoint),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def client(endpoint: str, service: str) -> Any:
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    return session.client(service, endpoint_url=endpoint)  # type: ignore[call-overload]


def test_the_strict_server_refuses_a_stream_mapping_without_a_starting_position(endpoint: str) -> None:
    """What Zappa 0.63 sent for the publisher's stream (FunctionName, EventSourceArn, BatchSize, Enabled): AWS
    refuses it; plain moto filled in TRIM_HORIZON and said yes."""
    iam, lambda_client = client(endpoint, "iam"), client(endpoint, "lambda")
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    role = iam.create_role(RoleName="strict-probe", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    dynamodb = client(endpoint, "dynamodb")
    table = dynamodb.create_table(
        TableName="strict-probe",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )["TableDescription"]
    lambda_client.create_function(
        FunctionName="strict-probe", Runtime="python3.11", Role=role, Handler="x.y", Code={"ZipFile": _tiny_zip()}
    )
    with pytest.raises(ClientError, match="startingPosition"):
        lambda_client.create_event_source_mapping(
            FunctionName="strict-probe", EventSourceArn=table["LatestStreamArn"], BatchSize=100, Enabled=True
        )
    ec2 = iam.create_role(RoleName="strict-ec2", AssumeRolePolicyDocument=json.dumps(_trust("ec2.amazonaws.com")))
    with pytest.raises(ClientError, match="cannot be assumed by Lambda"):
        lambda_client.create_function(
            FunctionName="strict-ec2",
            Runtime="python3.11",
            Role=ec2["Role"]["Arn"],
            Handler="x.y",
            Code={"ZipFile": _tiny_zip()},
        )
    with pytest.raises(ClientError, match="Could not unzip"):
        lambda_client.create_function(
            FunctionName="strict-bytes", Runtime="python3.11", Role=role, Handler="x.y", Code={"ZipFile": b"not a zip"}
        )


def _trust(service: str) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}


def _tiny_zip() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x.py", "def y(event, context):\n    return event\n")
    return buffer.getvalue()


def test_make_deploy_makes_the_whole_stage_and_make_destroy_takes_it_away(
    endpoint: str, zips: None, tmp_path: Path
) -> None:
    done = deploy(endpoint, "up", "--stage", STAGE, "--site-tenant", "Acme")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "API:    https://" in done.stdout
    assert "stream mapping" in done.stdout
    lambda_client = client(endpoint, "lambda")

    # both functions, from the checked zips, with a reference to the secrets and never a secret
    api = lambda_client.get_function_configuration(FunctionName="image-gallery-dev")
    assert (api["Handler"], api["Role"]) == (
        "functions.api.lambda_handler",
        f"arn:aws:iam::{ACCOUNT}:role/image-gallery-dev",
    )
    variables = api["Environment"]["Variables"]
    assert variables["GALLERY_SECRETS_PATH"] == "/image-gallery/dev/"
    assert variables["GALLERY_MAX_REQUEST_BYTES"] == "4194304"  # under Lambda's 6 MB payload, in base64
    assert not {"GALLERY_JWT_SECRET", "GALLERY_PROXY_SECRET"} & set(variables)
    publisher = lambda_client.get_function_configuration(FunctionName="image-gallery-dev-publisher")
    assert publisher["Handler"] == "functions.publisher.lambda_handler"
    assert publisher["Environment"]["Variables"]["GALLERY_SITE_TENANT"] == "Acme"
    assert (
        lambda_client.get_function_concurrency(FunctionName="image-gallery-dev-publisher")[
            "ReservedConcurrentExecutions"
        ]
        == 1
    )  # reconcile and a stream batch never race on the site's index
    assert api["CodeSize"] == (ROOT / "build" / "lambda-dev.zip").stat().st_size

    # the secrets, made once, encrypted
    ssm = client(endpoint, "ssm")
    for name in ("GALLERY_JWT_SECRET", "GALLERY_PROXY_SECRET"):
        parameter = ssm.get_parameter(Name=f"/image-gallery/dev/{name}", WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        assert len(parameter["Value"]) >= 48

    # the stream mapping, as AWS requires it and as the publisher needs it
    table = client(endpoint, "dynamodb").describe_table(TableName="image-gallery-dev")["Table"]
    (mapping,) = lambda_client.list_event_source_mappings(EventSourceArn=table["LatestStreamArn"])[
        "EventSourceMappings"
    ]
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["MaximumBatchingWindowInSeconds"] == 2
    assert mapping["BisectBatchOnFunctionError"] is True
    pattern = mapping["FilterCriteria"]["Filters"][0]["Pattern"]
    assert json.loads(pattern) == keys.IMAGE_RECORDS, pattern
    queue = client(endpoint, "sqs").get_queue_url(QueueName="image-gallery-dev-publisher-failures")["QueueUrl"]
    queue_arn = client(endpoint, "sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == queue_arn["Attributes"]["QueueArn"]

    # the hourly run
    events = client(endpoint, "events")
    (target,) = events.list_targets_by_rule(Rule="image-gallery-dev-reconcile")["Targets"]
    assert target["Arn"].endswith(":function:image-gallery-dev-publisher")
    policy = json.loads(lambda_client.get_policy(FunctionName="image-gallery-dev-publisher")["Policy"])
    assert any(s["Principal"] == {"Service": "events.amazonaws.com"} for s in policy["Statement"])

    # API Gateway calls the function as the API's role, and that role may invoke it
    apigateway = client(endpoint, "apigateway")
    (rest,) = [a for a in apigateway.get_rest_apis()["items"] if a["name"] == "image-gallery-dev"]
    resources = apigateway.get_resources(restApiId=rest["id"])["items"]
    proxy = next(r for r in resources if r.get("pathPart") == "{proxy+}")
    integration = apigateway.get_integration(restApiId=rest["id"], resourceId=proxy["id"], httpMethod="ANY")
    assert integration["credentials"] == api["Role"]
    iam = client(endpoint, "iam")
    document = iam.get_role_policy(RoleName="image-gallery-dev", PolicyName="gallery")["PolicyDocument"]
    if isinstance(document, str):  # moto keeps a policy CloudFormation gave it as Python's text of the dict
        document = ast.literal_eval(document)
    statements = document["Statement"]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert api["FunctionArn"] in invoke["Resource"]
    assert api["FunctionArn"] + ":*" in invoke["Resource"]  # a version or alias an integration may name
    assert apigateway.get_stage(restApiId=rest["id"], stageName=STAGE)["stageName"] == STAGE

    # the site, published once by the deploy; the table and buckets private and protected
    s3 = client(endpoint, "s3")
    assert b"<html" in s3.get_object(Bucket="image-gallery-dev-site", Key="index.html")["Body"].read().lower()
    for bucket in ("image-gallery-dev-bytes", "image-gallery-dev-site"):
        assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert table["DeletionProtectionEnabled"] is True
    buckets = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert f"image-gallery-dev-code-{ACCOUNT}-{REGION}" in buckets
    assert not [b for b in buckets if b.startswith("zappa-")]  # no randomly named bucket left behind

    # exactly what moto could not make, and nothing else
    skipped = set(requests.get(f"{endpoint}/moto-api/strict/skipped", timeout=10).json())
    assert skipped == NOT_MADE_BY_MOTO

    # the first administrator, from the operator's machine: the stage's settings, the secret read from SSM
    exports = deploy(endpoint, "env", "--stage", STAGE)
    assert exports.returncode == 0, exports.stderr
    stage_env = dict(
        line.removeprefix("export ").replace("'", "").split("=", 1) for line in exports.stdout.split("\n") if line
    )
    assert not [value for key, value in stage_env.items() if "SECRET" in key and key != "GALLERY_SECRETS_PATH"]
    made = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gallery"), "users", "create", "root@example.com", "--role", "SYS_ADMIN"],
        env={**_env(endpoint), **stage_env, "GALLERY_USER_PASSWORD": "first-admin-password"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    from gallery.config import Settings
    from gallery.wiring import Gallery

    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**AWS_ENV, "AWS_ENDPOINT_URL": endpoint}.items():
            patch.setenv(key, value)
        gallery = Gallery.open(Settings.from_env({**stage_env, "AWS_ENDPOINT_URL": endpoint}))
        try:
            assert gallery.sessions.login("root@example.com", "first-admin-password", "127.0.0.1").token
        finally:
            gallery.close()

    # again: everything is updated in place
    again = deploy(endpoint, "up", "--stage", STAGE, "--site-tenant", "Acme")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "function image-gallery-dev: updated" in again.stdout
    assert (
        len(lambda_client.list_event_source_mappings(EventSourceArn=table["LatestStreamArn"])["EventSourceMappings"])
        == 1
    )

    # destroy, keeping the data; then with it
    kept = deploy(endpoint, "down", "--stage", STAGE)
    assert kept.returncode == 0, kept.stdout + kept.stderr
    names = [f["FunctionName"] for f in lambda_client.list_functions()["Functions"]]
    assert not [n for n in names if n.startswith("image-gallery-dev")]
    assert "image-gallery-dev-bytes" in {b["Name"] for b in s3.list_buckets()["Buckets"]}
    gone = deploy(endpoint, "down", "--stage", STAGE, "--with-data")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not {"image-gallery-dev-bytes", "image-gallery-dev-site"} & {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "image-gallery-dev" not in client(endpoint, "dynamodb").list_tables()["TableNames"]
    with pytest.raises(ClientError):
        ssm.get_parameter(Name="/image-gallery/dev/GALLERY_JWT_SECRET")


def test_a_failed_step_fails_the_deploy_in_one_line(endpoint: str) -> None:
    done = deploy(endpoint, "up", "--stage", "nosuchstage")
    assert done.returncode == 1
    assert "no stage 'nosuchstage'" in done.stderr
    assert "Traceback" not in done.stderr
