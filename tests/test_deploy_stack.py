"""deploy/stack.yaml, read for what AWS will do with it: rules moto's CloudFormation does not enforce (it skips
CloudFront and bucket policies, and evaluates no filter), checked against their sources — boto3's own presigned
URLs for the CSP, real stream records for the filter, the site's own headers for CloudFront's policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.events.models import EventPattern

from gallery.config import Settings
from gallery.demo import as_principal
from gallery.domain.model import Authority
from gallery.domain.serving import site_headers
from gallery.services.images import InfoChange
from gallery.storage.aws import keys
from gallery.storage.aws.provision import provision
from gallery.wiring import Gallery
from tests.conftest import JWT_SECRET
from tests.helpers import png
from tests.stack import pseudo, resolve, template
from tests.storage_fixtures import AWS_ENV, aws_env

REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "sa-east-1")
BUCKET = "image-gallery-dev-bytes"


def policy(name: str) -> Any:
    return template()["Resources"][name]["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]


def presigned_origins(region: str) -> set[str]:
    """Where a browser is sent for a large upload and a redirected download, as the app signs them on Lambda in
    `region` (no request is made: presigning is local)."""
    from gallery.storage.aws.clients import _s3

    _s3.cache_clear()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("AWS_DEFAULT_REGION", region)
            patch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLE")
            patch.setenv("AWS_SECRET_ACCESS_KEY", "example")
            patch.delenv("AWS_ENDPOINT_URL", raising=False)
            from gallery.storage.aws import open_aws_blobs
            from gallery.storage.aws.clients import s3_client
            from gallery.storage.aws.staging import S3Staging

            settings = Settings.from_env({}, backend="aws", bucket=BUCKET)
            upload, _ = S3Staging(s3_client(settings), BUCKET).post_form(
                "00000000-0000-0000-0000-000000000000/" + "0" * 32, 1, 60, "probe"
            )
            download = open_aws_blobs(settings).download_url("0" * 64, {}, 60)
            assert download
            origins = {"https://" + url.split("/")[2] for url in (upload, download)}
    finally:
        _s3.cache_clear()
    return origins


@pytest.mark.parametrize("region", REGIONS)
def test_the_pages_csp_lets_the_browser_reach_where_the_app_sends_it(region: str) -> None:
    """The CSP names `BUCKET.s3.REGION.amazonaws.com`; a URL signed for any other host (boto3's global name, say)
    would be blocked by the browser on every large upload and download."""
    params = {**pseudo(region), "DataBucket": BUCKET, "Project": "image-gallery", "Stage": "dev"}
    csp = resolve(policy("PagesHeaders")["ContentSecurityPolicy"]["ContentSecurityPolicy"], params)
    origins = presigned_origins(region)
    assert origins == {f"https://{BUCKET}.s3.{region}.amazonaws.com"}
    # and it is what `gallery serve` sends for a page, with those origins
    for page in ("index.html", "manage/index.html", "api-docs/index.html"):
        assert csp == site_headers(page, tuple(origins))["Content-Security-Policy"]


@pytest.mark.parametrize("path", ["originals/x.svg", "originals/x.png", "r/x-320.webp", "originals/planted.html"])
def test_users_bytes_get_what_gallery_serve_sends(path: str) -> None:
    config = policy("UserBytesHeaders")
    served = site_headers(path)
    assert config["ContentSecurityPolicy"]["ContentSecurityPolicy"] == served["Content-Security-Policy"]
    assert served["X-Content-Type-Options"] == "nosniff"
    assert config["ContentTypeOptions"]["Override"] is True
    behaviours = template()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]["CacheBehaviors"]
    folder = "/" + path.split("/")[0] + "/*"
    (behaviour,) = [b for b in behaviours if b["PathPattern"] == folder]
    assert behaviour["ResponseHeadersPolicyId"] == {"Ref": "UserBytesHeaders"}


def test_pages_policy_says_what_the_pages_say() -> None:
    config = policy("PagesHeaders")
    served = site_headers("index.html")
    assert config["ReferrerPolicy"]["ReferrerPolicy"] == served["Referrer-Policy"]
    assert config["FrameOptions"]["FrameOption"] == served["X-Frame-Options"]


def test_the_api_origin_is_zappas_stage_without_the_viewers_host() -> None:
    distribution = template()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    (api,) = [o for o in distribution["Origins"] if o["Id"] == "api"]
    params = {**pseudo("eu-west-1"), "ApiId": "abc123", "Stage": "dev", "ProxySecret": "s"}
    assert resolve(api["DomainName"], params) == "abc123.execute-api.eu-west-1.amazonaws.com"
    assert resolve(api["OriginPath"], params) == "/dev"
    assert api["OriginCustomHeaders"] == [{"HeaderName": "X-Gallery-Proxy", "HeaderValue": {"Ref": "ProxySecret"}}]
    (behaviour,) = [b for b in distribution["CacheBehaviors"] if b["TargetOriginId"] == "api"]
    assert behaviour["PathPattern"] == "/api/*"
    assert behaviour["OriginRequestPolicyId"] == "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # AllViewerExceptHostHeader
    assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert set(behaviour["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def test_the_stream_mapping_says_what_aws_requires() -> None:
    """AWS refuses a DynamoDB stream mapping without a starting position (Zappa 0.63 sent none, and moto fills one
    in); a batching window, bisecting and a failure destination keep a bad batch from blocking the stream."""
    mapping = template()["Resources"]["StreamMapping"]["Properties"]
    assert mapping["StartingPosition"] in {"LATEST", "TRIM_HORIZON"}
    assert 0 < mapping["MaximumBatchingWindowInSeconds"] <= 300
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["PublisherFailures", "Arn"]}
    (only,) = mapping["FilterCriteria"]["Filters"]
    assert json.loads(only["Pattern"]) == keys.IMAGE_RECORDS


@pytest.fixture
def written(tmp_path: Path) -> Iterator[list[dict[str, Any]]]:
    """The stream records real work writes: a tenant and its admin made, a sign-in, an upload, a rename, a
    delete (in-process moto)."""
    from moto import mock_aws

    with aws_env(), mock_aws():
        settings = Settings.from_env(
            AWS_ENV, backend="aws", table="stream", bucket="stream-bytes", jwt_secret=JWT_SECRET, data_dir=tmp_path
        )
        provision(settings)
        arn = boto3.client("dynamodb").describe_table(TableName="stream")["Table"]["LatestStreamArn"]
        gallery = Gallery.open(settings)
        tenant = gallery.accounts.create_tenant("Streamed")
        user = gallery.accounts.create_user("a@stream.example", "a-password", Authority.TENANT_ADMIN, tenant.id)
        gallery.sessions.login("a@stream.example", "a-password", "127.0.0.1")
        admin = as_principal(user)
        gallery.images.upload(admin, "one.png", png(20, 20), "One", None)
        from gallery.domain.model import Scope

        gallery.images.update_info(admin, Scope.TENANT, "one.png", InfoChange(title="Uno"))
        gallery.images.delete(admin, Scope.TENANT, "one.png", force=True)
        streams = boto3.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        yield json.loads(json.dumps(records, default=str))


def test_the_filter_admits_image_records_and_nothing_else(written: list[dict[str, Any]]) -> None:
    pattern = EventPattern.load(json.dumps(keys.IMAGE_RECORDS))
    admitted = [r for r in written if pattern.matches_event(r)]  # type: ignore[arg-type]
    images = [
        r
        for r in written
        if keys.image_owner(keys.Key(r["dynamodb"]["Keys"]["pk"]["S"], r["dynamodb"]["Keys"]["sk"]["S"]))
    ]
    assert [r["eventName"] for r in images] == ["INSERT", "MODIFY", "REMOVE"]
    assert admitted == images
    assert len(written) > 3 * len(images)  # sessions, sign-ins, counters: the function no longer starts for them


LAMBDA_PAYLOAD = 6_291_456  # bytes: Lambda's synchronous invocation payload (request and response), a quota


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_a_body_the_app_accepts_reaches_it_through_api_gateway(stage: str) -> None:
    """API Gateway hands a binary body to Lambda base64-encoded inside the event: a body the app would accept but
    Lambda's payload cannot carry fails before the app, with API Gateway's own error instead of our 413."""
    from deploy.stage import SETTINGS, stage_settings

    env = stage_settings(json.loads(SETTINGS.read_text()), stage)["aws_environment_variables"]
    largest = Settings.from_env(env).max_request_bytes
    encoded = -(-largest // 3) * 4
    headers_and_event = 128 * 1024  # the event's other fields and headers, generously
    assert encoded + headers_and_event <= LAMBDA_PAYLOAD, f"{largest} bytes is {encoded} in base64"


# AWS's managed cache policies the stack may use, with their minimum TTL (CloudFront Developer Guide, "Use managed
# cache policies"): an object served `no-cache` is kept at the edge for the minimum TTL, and no longer.
MANAGED_MIN_TTL = {"658327ea-f89d-4fab-a63d-7e88639e58f6": 1, "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": 0}


def test_pages_live_on_the_cdn_a_second_at_most_so_the_publisher_never_invalidates_them() -> None:
    """`gallery.site.sync.invalidations` tells CloudFront of content-named files alone: that holds only while every
    behaviour serving the site's fixed names keeps a `no-cache` object for a second at most."""
    config = template()["Resources"]["Distribution"]["Properties"]["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config["CacheBehaviors"]]
    for behaviour in behaviours:
        if behaviour["TargetOriginId"] == "site":
            assert MANAGED_MIN_TTL[behaviour["CachePolicyId"]] <= 1, behaviour
    for page in ("index.html", "gallery.json", "gallery-version.json", "images/x/index.html", "tags/a/index.html"):
        assert site_headers(page)["Cache-Control"] == "no-cache", page
