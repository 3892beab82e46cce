"""botocore's exceptions become ours at the edge of the AWS adapters: nothing above them sees botocore.

Throttling, 5xx and connection failures are 503 "try again", a missing table or bucket a 503 that names `gallery
provision`, a failed condition a 409. Where an error code is an answer rather than a failure (an absent object, a
bucket that is not there yet, bytes already stored), the caller names, for that code, the error it wants raised
instead (`answers`), and catches that: no caller looks behind a translated error for the code.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

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
# How S3 says an object is not there: GetObject's code, and HeadObject's bare status (a HEAD answer has no body).
_MISSING = ("404", "NoSuchKey", "NotFound")


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def when_missing(error: errors.GalleryError | None = None) -> dict[str, errors.GalleryError]:
    """Answers that raise `error` (by default `NotFound`) when S3 says the object is not there."""
    missing = error or errors.NotFound()
    return dict.fromkeys(_MISSING, missing)


@contextlib.contextmanager
def translated(answers: Mapping[str, errors.GalleryError] | None = None) -> Iterator[None]:
    """botocore's errors raised in the block, as ours; a code in `answers` raises the error given for it."""
    try:
        yield
    except NoCredentialsError as exc:
        raise errors.Unavailable("No AWS credentials are configured") from exc
    except NoRegionError as exc:
        raise errors.ConfigError("No AWS region is configured (set AWS_DEFAULT_REGION)") from exc
    except ClientError as exc:
        code = error_code(exc)
        if answers and code in answers:
            raise answers[code] from exc
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
