"""botocore's exceptions become ours at the edge of the AWS adapters: nothing above them sees botocore."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from gallery.domain import errors

_TRANSIENT = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "SlowDown",
        "RequestTimeout",
    }
)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def translated(reraise_conditions: bool = False) -> Iterator[None]:
    try:
        yield
    except NoCredentialsError as exc:
        raise errors.Unavailable("No AWS credentials are configured") from exc
    except NoRegionError as exc:
        raise errors.ConfigError("No AWS region is configured (set AWS_DEFAULT_REGION)") from exc
    except ClientError as exc:
        code = error_code(exc)
        if reraise_conditions and code in {"TransactionCanceledException", "ConditionalCheckFailedException"}:
            raise
        if code == "ConditionalCheckFailedException":
            raise errors.Conflict() from exc
        if code == "ResourceNotFoundException":
            raise errors.Unavailable("The DynamoDB table does not exist; run `gallery provision`") from exc
        if code == "NoSuchBucket":
            raise errors.Unavailable("The S3 bucket does not exist; run `gallery provision`") from exc
        if code in _TRANSIENT or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise errors.Unavailable() from exc
        raise errors.GalleryError(f"Storage request failed ({code})") from exc
    except BotoCoreError as exc:
        # Connection failures, timeouts, bad endpoints: nothing was written that the caller can see.
        raise errors.Unavailable() from exc
