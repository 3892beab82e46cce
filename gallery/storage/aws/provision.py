"""`gallery provision`: the table (its key schema, the two listing indexes, TTL, a stream of its changes for the
site publisher, point-in-time recovery, deletion protection) and the bucket (public access blocked, a lifecycle
rule for abandoned staging uploads, CORS for what browsers do with presigned URLs). Idempotent: what exists is kept,
what is off is turned on, and an operator's own bucket rules stay."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from gallery.config import Settings
from gallery.domain import errors
from gallery.domain.model import SYSTEM_TENANT_ID
from gallery.storage.aws import keys
from gallery.storage.aws.clients import clients
from gallery.storage.aws.errors import translated, when_missing
from gallery.storage.aws.images import DynamoImages
from gallery.storage.aws.staging import STAGING_PREFIX
from gallery.storage.aws.table import Table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import StreamSpecificationTypeDef
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.literals import BucketLocationConstraintType
    from mypy_boto3_s3.type_defs import (
        CORSRuleTypeDef,
        LifecycleRuleTypeDef,
        PublicAccessBlockConfigurationTypeDef,
    )

STAGING_DAYS = 1
# Both images: the publisher reads only the keys, but a stream's view type cannot be changed without turning it off.
STREAM: StreamSpecificationTypeDef = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


# Browsers send large uploads straight to the bucket with a presigned POST (the management page): a multipart form
# and no header of ours, so no preflight. A download over GALLERY_REDIRECT_ABOVE_BYTES is a 302 to a presigned GET,
# which `fetch` follows carrying the caller's `X-Authorization`: a preflighted GET. The signature is the credential,
# so any origin may do either; nothing else crosses origins. Rules of ours are found by their IDs.
CORS_RULES: list[CORSRuleTypeDef] = [
    {"ID": "presigned-uploads", "AllowedMethods": ["POST"], "AllowedOrigins": ["*"], "MaxAgeSeconds": 3600},
    {
        "ID": "redirected-downloads",
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": ["*"],
        "AllowedHeaders": ["x-authorization"],
        "MaxAgeSeconds": 3600,
    },
]
LIFECYCLE_RULES: list[LifecycleRuleTypeDef] = [
    {
        "ID": "expire-abandoned-staging-uploads",
        "Filter": {"Prefix": STAGING_PREFIX},
        "Status": "Enabled",
        "Expiration": {"Days": STAGING_DAYS},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": STAGING_DAYS},
    }
]
# Nothing in the bucket is public: bytes leave it through the API or a presigned URL, never an ACL or policy.
PRIVATE: PublicAccessBlockConfigurationTypeDef = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def provision(settings: Settings) -> list[str]:
    """Create what is missing and turn on what is off; returns one line per resource saying what happened. Rules an
    operator added to the bucket (lifecycle, CORS) are kept: only ours, by their IDs, are put or replaced."""
    if not settings.bucket:
        raise errors.ConfigError("GALLERY_BUCKET must be set for the aws backend")
    dynamodb, s3 = clients(settings)
    done = [_create_table(dynamodb, settings.table)]
    _enable_ttl(dynamodb, settings.table)
    done.append(f"TTL on {keys.TTL_ATTRIBUTE}: ended sessions and old failed sign-ins expire by themselves")
    done.append(f"stream {_enable_stream(dynamodb, settings.table)}: the site publisher's event source")
    done.append(_protect_table(dynamodb, settings.table))
    done.append(_post_images_from_before(Table(dynamodb, settings.table)))
    done.append(_create_bucket(s3, settings.bucket))
    with translated():
        s3.put_public_access_block(Bucket=settings.bucket, PublicAccessBlockConfiguration=PRIVATE)
    done.append("public access blocked on the bucket")
    rules = _merged(_lifecycle_rules(s3, settings.bucket), LIFECYCLE_RULES)
    if rules is not None:
        with translated():
            s3.put_bucket_lifecycle_configuration(Bucket=settings.bucket, LifecycleConfiguration={"Rules": rules})
    done.append(f"lifecycle rule: objects under {STAGING_PREFIX} expire after {STAGING_DAYS} day")
    cors = _merged(_cors_rules(s3, settings.bucket), CORS_RULES)
    if cors is not None:
        with translated():
            s3.put_bucket_cors(Bucket=settings.bucket, CORSConfiguration={"CORSRules": cors})
    done.append("CORS rules: browsers may POST presigned uploads and follow redirected downloads")
    if settings.site_bucket:
        # The published site: read by CloudFront alone (origin access control), never public itself.
        done.append(_create_bucket(s3, settings.site_bucket))
        with translated():
            s3.put_public_access_block(Bucket=settings.site_bucket, PublicAccessBlockConfiguration=PRIVATE)
        done.append("public access blocked on the site bucket")
    return done


def _post_images_from_before(table: Table) -> str:
    """Search postings (`grams.py`) for the images of tenants made before they were kept: each tenant once, then
    marked; a table made now has none to post."""
    tenants = [SYSTEM_TENANT_ID, *(str(entry["id"]) for entry in table.partition(keys.TENANTS))]
    images = DynamoImages(table)
    posted = sum(images.index_grams(tenant) for tenant in tenants)
    return f"search postings: {posted} image(s) from before posted"


Rule = TypeVar("Rule", "CORSRuleTypeDef", "LifecycleRuleTypeDef")


def _merged(existing: list[Rule], ours: list[Rule]) -> list[Rule] | None:
    """`existing` with ours put in place by ID (others kept, in their order); None when nothing would change."""
    by_id = {rule.get("ID"): rule for rule in ours}
    merged = [by_id.pop(rule.get("ID"), rule) for rule in existing]
    merged += list(by_id.values())
    return None if merged == existing else merged


def _lifecycle_rules(s3: S3Client, bucket: str) -> list[LifecycleRuleTypeDef]:
    return _configured(
        lambda: cast("list[LifecycleRuleTypeDef]", s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]),
        "NoSuchLifecycleConfiguration",
    )


def _cors_rules(s3: S3Client, bucket: str) -> list[CORSRuleTypeDef]:
    return _configured(
        lambda: cast("list[CORSRuleTypeDef]", s3.get_bucket_cors(Bucket=bucket)["CORSRules"]), "NoSuchCORSConfiguration"
    )


def _configured(read: Callable[[], list[Rule]], missing: str) -> list[Rule]:
    """A bucket's rules of one kind; none when S3 answers that it has no configuration of that kind."""
    try:
        with translated({missing: errors.NotFound()}):
            return read()
    except errors.NotFound:
        return []


def _protect_table(dynamodb: DynamoDBClient, table: str) -> str:
    """Point-in-time recovery (35 days of restorable history) and deletion protection: the catalog is the one
    copy of who owns which bytes. `make destroy --with-data` turns protection off first."""
    with translated():
        backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        recovery = backups.get("PointInTimeRecoveryDescription", {}).get("PointInTimeRecoveryStatus")
        if recovery != "ENABLED":
            dynamodb.update_continuous_backups(
                TableName=table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
            )
        if not dynamodb.describe_table(TableName=table)["Table"].get("DeletionProtectionEnabled"):
            dynamodb.update_table(TableName=table, DeletionProtectionEnabled=True)
    return f"point-in-time recovery and deletion protection on {table}"


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
