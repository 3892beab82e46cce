"""One stage as the deploy sees it: its names, read from zappa_settings.json (the one place they are declared), and
the account and region the caller's AWS credentials point at."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gallery.config import secret_settings
from gallery.storage.aws.secrets import parameter_name

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "zappa_settings.json"
TEMPLATE = ROOT / "deploy" / "stack.yaml"
SECRETS = tuple(setting.env for setting in secret_settings())  # what the app reads from the parameter store


class DeployError(Exception):
    """A step that failed: the deploy stops there and says which, in one line."""


@dataclass(frozen=True)
class Stage:
    name: str  # `dev`: the API's Zappa stage; the publisher's is `<name>_publisher`
    project: str
    region: str
    account: str
    api_env: dict[str, str]
    publisher_env: dict[str, str]

    @property
    def publisher(self) -> str:
        return f"{self.name}_publisher"

    @property
    def api_function(self) -> str:
        return f"{self.project}-{self.name}"  # as Zappa names it: slugify(project_name + "-" + stage)

    @property
    def publisher_function(self) -> str:
        return f"{self.project}-{self.name}-publisher"

    @property
    def stack(self) -> str:
        return f"{self.project}-{self.name}-infrastructure"  # Zappa's own stack is `<project>-<stage>`

    @property
    def code_bucket(self) -> str:
        """Where Zappa uploads the zips: one name per account and region, never a random one left behind."""
        return f"{self.project}-{self.name}-code-{self.account}-{self.region}"

    @property
    def table(self) -> str:
        return self.api_env["GALLERY_TABLE"]

    @property
    def bucket(self) -> str:
        return self.api_env["GALLERY_BUCKET"]

    @property
    def site_bucket(self) -> str:
        return self.publisher_env["GALLERY_SITE_BUCKET"]

    @property
    def secrets_path(self) -> str:
        return self.api_env["GALLERY_SECRETS_PATH"]

    def parameter(self, secret: str) -> str:
        return parameter_name(self.secrets_path, secret)

    def gallery_env(self) -> dict[str, str]:
        """What the `gallery` command needs to work on this stage from an operator's machine: the publisher's
        settings (a superset of the API's), the secrets read from SSM as the functions read them."""
        return {**self.publisher_env, "AWS_DEFAULT_REGION": self.region}


def stage_settings(settings: dict[str, Any], stage: str) -> dict[str, Any]:
    """A stage of zappa_settings.json with `extends` followed, as Zappa reads it."""
    if stage not in settings:
        raise DeployError(f"zappa_settings.json has no stage {stage!r} (stages: {', '.join(sorted(settings))})")
    chain = [settings[stage]]
    while "extends" in chain[-1]:
        chain.append(settings[chain[-1]["extends"]])
    merged: dict[str, Any] = {}
    for layer in reversed(chain):
        merged.update({k: v for k, v in layer.items() if k != "extends"})
    return merged


def load_stage(name: str, region: str, account: str) -> Stage:
    settings = json.loads(SETTINGS.read_text())
    api = stage_settings(settings, name)
    publisher = stage_settings(settings, f"{name}_publisher")
    return Stage(
        name=name,
        project=str(api["project_name"]),
        region=region,
        account=account,
        api_env=dict(api["aws_environment_variables"]),
        publisher_env=dict(publisher["aws_environment_variables"]),
    )
