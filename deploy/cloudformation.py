"""deploy/stack.yaml applied as a CloudFormation stack: created, updated (no change is not a failure), waited for,
its outputs read back; deleted. A failed stack names the resources that failed and why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError, WaiterError

from deploy.stage import TEMPLATE, DeployError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.literals import CapabilityType
    from mypy_boto3_cloudformation.type_defs import ParameterTypeDef


def apply(cloudformation: CloudFormationClient, name: str, parameters: dict[str, str]) -> dict[str, str]:
    """Create or update the stack; returns its outputs."""
    given: list[ParameterTypeDef] = [{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()]
    body = TEMPLATE.read_text()
    capabilities: list[CapabilityType] = ["CAPABILITY_NAMED_IAM"]
    if exists(cloudformation, name):
        try:
            cloudformation.update_stack(
                StackName=name,
                TemplateBody=body,
                Parameters=given,
                Capabilities=capabilities,
            )
        except ClientError as exc:
            if "No updates are to be performed" not in str(exc):
                raise DeployError(f"CloudFormation refused the update of {name}: {exc}") from exc
        else:
            _wait(cloudformation, name, "stack_update_complete")
    else:
        cloudformation.create_stack(
            StackName=name,
            TemplateBody=body,
            Parameters=given,
            Capabilities=capabilities,
            OnFailure="DELETE",
        )
        _wait(cloudformation, name, "stack_create_complete")
    return outputs(cloudformation, name)


def exists(cloudformation: CloudFormationClient, name: str) -> bool:
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return False
        raise
    return any(stack["StackStatus"] != "DELETE_COMPLETE" for stack in stacks)


def outputs(cloudformation: CloudFormationClient, name: str) -> dict[str, str]:
    (stack,) = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs") or []}


def delete(cloudformation: CloudFormationClient, name: str) -> bool:
    if not exists(cloudformation, name):
        return False
    cloudformation.delete_stack(StackName=name)
    _wait(cloudformation, name, "stack_delete_complete")
    return True


def _wait(cloudformation: CloudFormationClient, name: str, waiter: str) -> None:
    try:
        cloudformation.get_waiter(waiter).wait(  # type: ignore[call-overload]
            StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
    except WaiterError as exc:
        raise DeployError(f"stack {name} failed: {'; '.join(_failures(cloudformation, name)) or exc}") from exc


def _failures(cloudformation: CloudFormationClient, name: str) -> list[str]:
    try:
        events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    except ClientError:
        return []
    return [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in events
        if event["ResourceStatus"].endswith("FAILED")
    ][:5]
