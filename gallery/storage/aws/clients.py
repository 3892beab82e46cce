"""The boto3 clients of the aws backend and of `gallery publish`: DynamoDB and S3, from boto3's client layer
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
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

_CONFIG = Config(signature_version="s3v4", retries={"max_attempts": 4, "mode": "standard"})


def clients(settings: Settings) -> tuple[DynamoDBClient, S3Client]:
    with translated():
        return _clients(settings.aws_endpoint_url or None)


@functools.cache
def _clients(endpoint: str | None) -> tuple[DynamoDBClient, S3Client]:
    # Building a client loads botocore's service models (~0.1 s); clients are thread-safe, so one pair per endpoint
    # serves every table and bucket for the life of the process (a Lambda container keeps them warm).
    session = boto3.session.Session()
    dynamodb = session.client("dynamodb", endpoint_url=endpoint, config=_CONFIG)
    # A custom endpoint (moto, LocalStack, MinIO) is an address, not a domain buckets can be subdomains of.
    s3_config = _CONFIG.merge(Config(s3={"addressing_style": "path"})) if endpoint else _CONFIG
    s3 = session.client("s3", endpoint_url=endpoint, config=s3_config)
    return dynamodb, s3
