"""Secrets from SSM Parameter Store: on Lambda the function's environment names a parameter path
(`GALLERY_SECRETS_PATH`), and the values are read once, at start-up, in one call. A secret already in the
environment wins; a secret stored as a plain `String` is refused rather than used (anyone allowed to describe
parameters could read it)."""

from __future__ import annotations

from gallery.config import Settings, secret_settings
from gallery.domain import errors
from gallery.storage.aws.clients import ssm_client
from gallery.storage.aws.errors import translated


def parameter_name(path: str, env: str) -> str:
    """Where the secret read from `env` is kept under the path `GALLERY_SECRETS_PATH` names."""
    return f"{path}{env}"


def with_secrets(settings: Settings) -> Settings:
    wanted = [setting for setting in secret_settings() if not getattr(settings, setting.field)]
    if not settings.secrets_path or not wanted:
        return settings
    names = {parameter_name(settings.secrets_path, setting.env): setting for setting in wanted}
    denied = errors.ConfigError(f"Not allowed to read the parameters under {settings.secrets_path}")
    refused = {"AccessDeniedException": denied}
    with translated(refused):
        answer = ssm_client(settings).get_parameters(Names=list(names), WithDecryption=True)
    changes = {}
    for parameter in answer.get("Parameters", []):
        setting = names[parameter["Name"]]
        if parameter.get("Type") != "SecureString":
            raise errors.ConfigError(f"{parameter['Name']} must be a SecureString parameter")
        try:
            changes[setting.field] = setting.parse(parameter.get("Value", ""))
        except ValueError as exc:
            raise errors.ConfigError(f"{parameter['Name']}: {exc}") from exc
    return settings.evolve(**changes)
