"""`gallery provision`: the table (its key schema, the two listing indexes, TTL, and a stream of its changes for the
site publisher) and the bucket (a lifecycle rule for abandoned staging uploads, CORS for presigned POSTs from
browsers). Idempotent: what exists is left as it is."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from gallery.config import Settings
from gallery.domain import errors
from gallery.storage.aws import keys
from gallery.storage.aws.clients import clients
from gallery.storage.aws.errors import translated, when_missing
from gallery.storage.aws.staging import STAGING_PREFIX

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import StreamSpecificationTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType

STAGING_DAYS = 1
# Both images: the publisher reads only the keys, but a stream's view type cannot be changed without turning it off.
STREAM: StreamSpecificationTypeDef = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def provision(settings: Settings) -> list[str]:
    """Create what is missing; returns one line per resource saying what happened."""
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
    dynamodb, s3 = clients(settings)
    done = [_create_table(dynamodb, settings.table)]
    _enable_ttl(dynamodb, settings.table)
    done.append(f"TTL on {keys.TTL_ATTRIBUTE}: ended sessions and old failed sign-ins expire by themselves")
    done.append(f"stream {_enable_stream(dynamodb, settings.table)}: the site publisher's event source")
    done.append(_create_bucket(s3, settings.bucket))
    with translated():
        s3.put_bucket_lifecycle_configuration(
            Bucket=settings.bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-abandoned-staging-uploads",
                        "Filter": {"Prefix": STAGING_PREFIX},
                        "Status": "Enabled",
                        "Expiration": {"Days": STAGING_DAYS},
                        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": STAGING_DAYS},
                    }
                ]
            },
        )
    done.append(f"lifecycle rule: objects under {STAGING_PREFIX} expire after {STAGING_DAYS} day")
    # Browsers send large uploads straight to the bucket with a presigned POST (the management page). The signed
    # policy is the credential, so any origin may POST; nothing else is allowed across origins.
    with translated():
        s3.put_bucket_cors(
            Bucket=settings.bucket,
            CORSConfiguration={
                "CORSRules": [
                    {
                        "ID": "presigned-uploads",
                        "AllowedMethods": ["POST"],
                        "AllowedOrigins": ["*"],
                        "MaxAgeSeconds": 3600,
                    }
                ]
            },
        )
    done.append("CORS rule: browsers may POST presigned uploads")
    return done


def _create_table(dynamodb: DynamoDBClient, table: str) -> str:
    try:
        with translated({"ResourceInUseException": errors.AlreadyExists()}):
            dynamodb.create_table(
                TableName=table,
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": "S"}
                    for name in ("pk", "sk", keys.LISTING, *keys.INDEXES.values())
                ],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": name,
                        "KeySchema": [
                            {"AttributeName": keys.LISTING, "KeyType": "HASH"},
                            {"AttributeName": sort, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "ALL"},
                    }
                    for name, sort in keys.INDEXES.items()
                ],
                BillingMode="PAY_PER_REQUEST",
                StreamSpecification=STREAM,
            )
            dynamodb.get_waiter("table_exists").wait(TableName=table)
    except errors.AlreadyExists:
        return f"DynamoDB table {table} already exists"
    return f"created DynamoDB table {table}"


def _enable_stream(dynamodb: DynamoDBClient, table: str) -> str:
    """The table's stream of changes (turned on for a table made before the publisher); returns its ARN."""
    with translated():
        described = dynamodb.describe_table(TableName=table)["Table"]
        if not described.get("StreamSpecification", {}).get("StreamEnabled"):
            described = dynamodb.update_table(TableName=table, StreamSpecification=STREAM)["TableDescription"]
    return described.get("LatestStreamArn", "")


def _enable_ttl(dynamodb: DynamoDBClient, table: str) -> None:
    with translated():
        described = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
        if described.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"}:
            return
        dynamodb.update_time_to_live(
            TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": keys.TTL_ATTRIBUTE}
        )


def _create_bucket(s3: S3Client, bucket: str) -> str:
    # Ask first: in us-east-1, creating a bucket you already own succeeds silently.
    try:
        with translated({**when_missing(), "NoSuchBucket": errors.NotFound()}):
            s3.head_bucket(Bucket=bucket)
    except errors.NotFound:
        pass
    else:
        return f"S3 bucket {bucket} already exists"
    region = s3.meta.region_name
    with translated():
        if region in (None, "us-east-1"):
            s3.create_bucket(Bucket=bucket)
        else:
            # The client's region, whatever it is: S3 itself says if it takes no buckets.
            constraint = cast("BucketLocationConstraintType", region)
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": constraint})
    return f"created S3 bucket {bucket}"
