"""The stage's secrets in SSM Parameter Store, made once (random, SecureString) and never printed: the functions
read them at cold start (`GALLERY_SECRETS_PATH`), and so does the `gallery` command on an operator's machine."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from deploy.stage import SECRETS, Stage

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient


def ensure(ssm: SSMClient, stage: Stage) -> dict[str, str]:
    """Each secret's value, made when missing; returns them (the proxy secret also goes to CloudFront)."""
    values = {}
    for name in SECRETS:
        parameter = stage.parameter(name)
        try:
            found = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
            values[name] = found["Value"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ParameterNotFound":
                raise
            values[name] = secrets.token_urlsafe(48)
            ssm.put_parameter(
                Name=parameter,
                Value=values[name],
                Type="SecureString",
                Description=f"Image Gallery {stage.name}: {name}",
            )
    return values


def remove(ssm: SSMClient, stage: Stage) -> None:
    ssm.delete_parameters(Names=[stage.parameter(name) for name in SECRETS])
