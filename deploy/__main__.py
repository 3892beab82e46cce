"""`python -m deploy up|down|admin|env --stage NAME`: what `make deploy`, `make destroy` and `make admin` run.

`up`, in order, each step said as it is done and the first failure ending it with a one-line error:
1. the table (stream, TTL, recovery, protection) and the buckets, private (`gallery provision`);
2. the secrets, made once in SSM Parameter Store;
3. the roles, the failure queue and the log groups (deploy/stack.yaml, before Zappa);
4. both functions, by Zappa, from the checked zips (build/lambda-<stage>.zip);
5. the rest of the stack, now that the functions and the API exist: the stream mapping, the schedule, CloudFront;
6. the API stage redeployed (so its gateway responses apply), the publisher told its distribution;
7. the site published once from here, then checked: the mapping is there, with its starting position.
It runs against whatever endpoint boto3 is given (`AWS_ENDPOINT_URL`): the test suite deploys to a moto server.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError

from deploy import cloudformation, secrets, zappa
from deploy.stage import DeployError, Stage, load_stage
from gallery.domain.errors import GalleryError


def _session() -> Any:
    session = boto3.session.Session()
    if not session.region_name:
        raise DeployError("No AWS region: set AWS_DEFAULT_REGION (or a profile's region)")
    return session


def _stage(session: Any, name: str) -> Stage:
    account = session.client("sts").get_caller_identity()["Account"]
    return load_stage(name, session.region_name, account)


def _say(text: str) -> None:
    click.echo(f"• {text}")


def _api_id(session: Any, stage: Stage) -> str:
    for page in session.client("apigateway").get_paginator("get_rest_apis").paginate():
        for api in page.get("items", []):
            if api.get("name") == stage.api_function:
                return str(api["id"])
    return ""


def _function_exists(session: Any, name: str) -> bool:
    try:
        session.client("lambda").get_function(FunctionName=name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True


def _stack_parameters(stage: Stage, stream_arn: str, api_id: str, proxy_secret: str) -> dict[str, str]:
    return {
        "Project": stage.project,
        "Stage": stage.name,
        "Table": stage.table,
        "StreamArn": stream_arn,
        "DataBucket": stage.bucket,
        "SiteBucket": stage.site_bucket,
        "SecretsPath": stage.secrets_path,
        "ApiId": api_id,
        "ProxySecret": proxy_secret,
    }


def up(name: str, site_tenant: str) -> dict[str, str]:
    from gallery.config import Settings
    from gallery.publisher import publish_site
    from gallery.storage.aws.provision import provision

    session = _session()
    stage = _stage(session, name)
    _say(f"stage {stage.name} in account {stage.account}, {stage.region}")
    publisher_env = {**stage.publisher_env, "GALLERY_SITE_TENANT": site_tenant}
    settings = Settings.from_env({**publisher_env, "AWS_ENDPOINT_URL": os.environ.get("AWS_ENDPOINT_URL", "")})
    provision(settings)
    stream_arn = session.client("dynamodb").describe_table(TableName=stage.table)["Table"]["LatestStreamArn"]
    _say(f"table {stage.table}, buckets {stage.bucket} and {stage.site_bucket}: provisioned")
    values = secrets.ensure(session.client("ssm"), stage)
    _say(f"secrets under {stage.secrets_path} in SSM Parameter Store")

    cfn = session.client("cloudformation")
    api_id = _api_id(session, stage)
    outputs = cloudformation.apply(
        cfn, stage.stack, _stack_parameters(stage, stream_arn, api_id, values["GALLERY_PROXY_SECRET"])
    )
    _say(f"stack {stage.stack}: roles, failure queue, logs{' and the rest' if api_id else ''}")

    with tempfile.TemporaryDirectory() as folder:
        publisher_env["GALLERY_SITE_DISTRIBUTION"] = outputs.get("DistributionId", "")
        settings_path = zappa.settings_file(stage, Path(folder), publisher_env)
        for zappa_stage, function in ((stage.name, stage.api_function), (stage.publisher, stage.publisher_function)):
            exists = _function_exists(session, function)
            zappa.deploy_or_update(zappa_stage, exists, settings_path)
            _say(f"function {function}: {'updated' if exists else 'deployed'} from build/lambda-{zappa_stage}.zip")

    api_id = _api_id(session, stage)
    if not api_id:
        raise DeployError(f"Zappa made no API named {stage.api_function}")
    outputs = cloudformation.apply(
        cfn, stage.stack, _stack_parameters(stage, stream_arn, api_id, values["GALLERY_PROXY_SECRET"])
    )
    _say("stack: stream mapping, hourly schedule, CloudFront")

    session.client("apigateway").create_deployment(restApiId=api_id, stageName=stage.name)
    distribution = outputs.get("DistributionId", "")
    lambda_client = session.client("lambda")
    configured = lambda_client.get_function_configuration(FunctionName=stage.publisher_function)
    variables = dict(configured.get("Environment", {}).get("Variables", {}))
    if variables.get("GALLERY_SITE_DISTRIBUTION", "") != distribution:
        variables["GALLERY_SITE_DISTRIBUTION"] = distribution
        lambda_client.update_function_configuration(
            FunctionName=stage.publisher_function, Environment={"Variables": variables}
        )
    _say("API stage redeployed; the publisher knows its distribution")

    published = publish_site(settings.evolve(site_distribution=distribution), "first publish from make deploy")
    _say(f"site published: {len(published.uploaded)} file(s) uploaded")
    _check_mapping(lambda_client, configured["FunctionArn"], stream_arn)

    api_url = f"https://{api_id}.execute-api.{stage.region}.amazonaws.com/{stage.name}"
    domain = outputs.get("DistributionDomain", "")
    urls = {"api": api_url, "site": f"https://{domain}/" if domain else "", "manage": ""}
    if domain:
        urls["manage"] = f"https://{domain}/manage/"
    return urls


def _check_mapping(lambda_client: Any, function_arn: str, stream_arn: str) -> None:
    """Zappa 0.63 reported success for a mapping AWS had refused: this deploy looks for its own."""
    found = lambda_client.list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
    mapping = [m for m in found if m.get("FunctionArn") == function_arn]
    if not mapping or mapping[0].get("State") not in {"Enabled", "Enabling", "Creating", "Updating"}:
        raise DeployError(f"the publisher has no working stream mapping: {found}")
    if not mapping[0].get("StartingPosition"):
        raise DeployError("the stream mapping has no starting position")
    _say(f"stream mapping {mapping[0]['UUID']}: {mapping[0]['State']}, {mapping[0]['StartingPosition']}")


def down(name: str, with_data: bool) -> None:
    session = _session()
    stage = _stage(session, name)
    with tempfile.TemporaryDirectory() as folder:
        settings_path = zappa.settings_file(stage, Path(folder), {})
        for zappa_stage, function in ((stage.publisher, stage.publisher_function), (stage.name, stage.api_function)):
            if _function_exists(session, function):
                zappa.undeploy(zappa_stage, settings_path)
                _say(f"function {function}: removed")
    if cloudformation.delete(session.client("cloudformation"), stage.stack):
        _say(f"stack {stage.stack}: deleted")
    s3 = session.client("s3")
    _delete_bucket(s3, stage.code_bucket)
    if not with_data:
        _say(f"kept: table {stage.table}, buckets {stage.bucket} and {stage.site_bucket}, secrets (--with-data)")
        return
    dynamodb = session.client("dynamodb")
    try:
        dynamodb.update_table(TableName=stage.table, DeletionProtectionEnabled=False)
        dynamodb.delete_table(TableName=stage.table)
        _say(f"table {stage.table}: deleted")
    except dynamodb.exceptions.ResourceNotFoundException:
        pass
    for bucket in (stage.bucket, stage.site_bucket):
        _delete_bucket(s3, bucket)
    secrets.remove(session.client("ssm"), stage)
    _say("secrets: deleted")


def _delete_bucket(s3: Any, bucket: str) -> None:
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": entry["Key"], "VersionId": entry["VersionId"]}
                for entry in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed})
        s3.delete_bucket(Bucket=bucket)
    except s3.exceptions.NoSuchBucket:
        return
    _say(f"bucket {bucket}: emptied and deleted")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """One stage of the gallery on AWS (credentials and region as boto3 finds them; AWS_ENDPOINT_URL for moto)."""


def _reported(action: Any) -> Any:
    try:
        return action()
    except (DeployError, ClientError, BotoCoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    except GalleryError as exc:  # from provision or the first publish
        raise click.ClickException(exc.message) from exc


@main.command("up")
@click.option("--stage", "name", required=True)
@click.option("--site-tenant", default="", help="The tenant (name or id) whose public images the site shows.")
def up_command(name: str, site_tenant: str) -> None:
    """Deploy or update the stage; prints its URLs."""
    urls = _reported(lambda: up(name, site_tenant))
    if not site_tenant:
        click.echo("The site shows the system's images only: pass SITE_TENANT=<tenant> to show a tenant's too.")
    click.echo(f"API:    {urls['api']}")
    if urls["site"]:
        click.echo(f"Site:   {urls['site']}")
        click.echo(f"Manage: {urls['manage']}")
    else:
        click.echo("Site:   no CloudFront distribution was made (this endpoint has none)")


@main.command("down")
@click.option("--stage", "name", required=True)
@click.option("--with-data", is_flag=True, help="Also delete the table, both buckets and the secrets.")
def down_command(name: str, with_data: bool) -> None:
    """Remove what `up` made (the data only with --with-data)."""
    _reported(lambda: down(name, with_data))


@main.command("env")
@click.option("--stage", "name", required=True)
def env_command(name: str) -> None:
    """Print `export` lines that point the `gallery` command at the stage (no secret among them)."""
    stage = _reported(lambda: _stage(_session(), name))
    for key, value in sorted(stage.gallery_env().items()):
        click.echo(f"export {key}='{value}'")


if __name__ == "__main__":
    main()
