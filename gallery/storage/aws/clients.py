"""The boto3 clients of the aws backend and of `gallery publish`: DynamoDB, S3 and CloudFront, from boto3's client layer
(thread-safe), S3 with SigV4 for presigning. `AWS_ENDPOINT_URL` points both at moto, LocalStack or another
compatible endpoint.

The clients are typed with boto3-stubs (a dev dependency), imported for the type checker alone, so the Lambda
package needs no stubs.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from gallery.config import Settings
from gallery.storage.aws.errors import translated

if TYPE_CHECKING:
    from mypy_boto3_cloudfront import CloudFrontClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

_CONFIG = Config(signature_version="s3v4", retries={"max_attempts": 4, "mode": "standard"})


def clients(settings: Settings) -> tuple[DynamoDBClient, S3Client]:
    return dynamodb_client(settings), s3_client(settings)


def dynamodb_client(settings: Settings) -> DynamoDBClient:
    with translated():
        return _dynamodb(settings.aws_endpoint_url or None)


def s3_client(settings: Settings) -> S3Client:
    """S3 alone, for what touches no table (a rendering worker, `gallery publish`)."""
    with translated():
        return _s3(settings.aws_endpoint_url or None)


def cloudfront_client(settings: Settings) -> CloudFrontClient:
    """CloudFront, for the published site's invalidations."""
    with translated():
        return _cloudfront(settings.aws_endpoint_url or None)


def sqs_client(settings: Settings) -> SQSClient:
    """SQS, for the publisher's failure queue."""
    with translated():
        return boto3.session.Session().client("sqs", endpoint_url=settings.aws_endpoint_url or None, config=_CONFIG)


def streams_client(settings: Settings) -> DynamoDBStreamsClient:
    """The table's stream, read back by the publisher for the batches Lambda gave up on."""
    with translated():
        endpoint = settings.aws_endpoint_url or None
        return boto3.session.Session().client("dynamodbstreams", endpoint_url=endpoint, config=_CONFIG)


def ssm_client(settings: Settings) -> SSMClient:
    """Parameter Store, for the secrets read once at start-up."""
    with translated():
        return boto3.session.Session().client("ssm", endpoint_url=settings.aws_endpoint_url or None, config=_CONFIG)


# Building a client loads botocore's service models (~0.1 s); clients are thread-safe, so one per service and
# endpoint serves every table and bucket for the life of the process (a Lambda container keeps them warm).
@functools.cache
def _dynamodb(endpoint: str | None) -> DynamoDBClient:
    return boto3.session.Session().client("dynamodb", endpoint_url=endpoint, config=_CONFIG)


@functools.cache
def _cloudfront(endpoint: str | None) -> CloudFrontClient:
    return boto3.session.Session().client("cloudfront", endpoint_url=endpoint, config=_CONFIG)


@functools.cache
def _s3(endpoint: str | None) -> S3Client:
    # A custom endpoint (moto, LocalStack, MinIO) is an address, not a domain buckets can be subdomains of. On AWS,
    # presigned URLs name the bucket's own region (`BUCKET.s3.REGION.amazonaws.com`, what the pages' CSP allows):
    # the global name botocore would sign for answers a new bucket outside us-east-1 with a 307 for up to a day,
    # which a browser's CORS request does not survive.
    regional = Config(s3={"addressing_style": "virtual", "us_east_1_regional_endpoint": "regional"})
    config = _CONFIG.merge(Config(s3={"addressing_style": "path"}) if endpoint else regional)
    return boto3.session.Session().client("s3", endpoint_url=endpoint, config=config)
