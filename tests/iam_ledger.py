"""Every AWS call the code makes, as IAM sees it, held against the roles deploy/stack.yaml gives the functions.

moto's own IAM enforcement cannot stand in for AWS here (it checks `dynamodb:TransactWriteItems`, an action IAM
does not have, matches no resource for DynamoDB or SSM, and fails every presigned request), so calls are recorded
where botocore makes them (`record`), each translated to the actions and resources IAM authorizes it by
(`authorizations`, from the Service Authorization Reference: a transaction is authorized item by item, HeadObject
is s3:GetObject, ListObjectsV2 is s3:ListBucket, CopyObject needs s3:GetObject on the source…), and evaluated against
the role's policy (`allowed`). An operation this table does not know fails the check: a new call needs its entry.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.stack import pseudo, resolve, template

REGION, ACCOUNT = "us-east-1", "123456789012"
_API_CALL = "_make_api_call"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"service": self.service, "operation": self.operation, "params": self.params}, default=str)

    @classmethod
    def from_json(cls, line: str) -> Call:
        found = json.loads(line)
        return cls(found["service"], found["operation"], found["params"])


def _table(name: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}"


def _object(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


_TRANSACT = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
             "ConditionCheck": "dynamodb:ConditionCheckItem"}  # fmt: skip


def authorizations(call: Call) -> list[tuple[str, str]]:
    """(action, resource ARN) pairs IAM checks for the call; KeyError for an operation not described here."""
    p = call.params
    if call.service == "dynamodb":
        if call.operation in {"GetItem", "PutItem", "UpdateItem", "DeleteItem"}:
            return [(f"dynamodb:{call.operation}", _table(p["TableName"]))]
        if call.operation == "Query":
            index = f"/index/{p['IndexName']}" if p.get("IndexName") else ""
            return [("dynamodb:Query", _table(p["TableName"]) + index)]
        if call.operation in {"BatchGetItem", "BatchWriteItem"}:
            return [(f"dynamodb:{call.operation}", _table(name)) for name in p["RequestItems"]]
        if call.operation == "TransactWriteItems":
            pairs = []
            for item in p["TransactItems"]:
                ((kind, body),) = item.items()
                pairs.append((_TRANSACT[kind], _table(body["TableName"])))
            return pairs
    if call.service == "s3":
        bucket = p.get("Bucket", "")
        if call.operation in {"GetObject", "HeadObject"}:
            return [("s3:GetObject", _object(bucket, p["Key"]))]
        if call.operation in {"PutObject", "PresignedPost"}:
            return [("s3:PutObject", _object(bucket, p["Key"]))]
        if call.operation == "DeleteObject":
            return [("s3:DeleteObject", _object(bucket, p["Key"]))]
        if call.operation == "DeleteObjects":
            return [("s3:DeleteObject", _object(bucket, o["Key"])) for o in p["Delete"]["Objects"]]
        if call.operation in {"ListObjectsV2", "ListObjects", "HeadBucket"}:
            return [("s3:ListBucket", f"arn:aws:s3:::{bucket}")]
        if call.operation == "CopyObject":
            source = p["CopySource"]
            source_arn = (
                _object(source["Bucket"], source["Key"]) if isinstance(source, dict) else f"arn:aws:s3:::{source}"
            )
            return [("s3:GetObject", source_arn), ("s3:PutObject", _object(bucket, p["Key"]))]
    if call.service == "dynamodbstreams":
        if call.operation in {"GetShardIterator", "DescribeStream"}:
            return [(f"dynamodb:{call.operation}", p["StreamArn"])]
        if call.operation == "GetRecords":  # an iterator starts with its stream's ARN, as AWS's and moto's do
            return [("dynamodb:GetRecords", p["ShardIterator"].split("|", 1)[0])]
    if call.service == "sqs" and call.operation == "GetQueueUrl":
        return [("sqs:GetQueueUrl", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{p['QueueName']}")]
    if call.service == "sqs" and call.operation in {"ReceiveMessage", "DeleteMessage", "SendMessage"}:
        return [(f"sqs:{call.operation}", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{p['QueueUrl'].rsplit('/', 1)[1]}")]
    if call.service == "ssm" and call.operation == "GetParameters":
        return [("ssm:GetParameters", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}") for name in p["Names"]]
    if call.service == "cloudfront" and call.operation == "CreateInvalidation":
        return [("cloudfront:CreateInvalidation", f"arn:aws:cloudfront::{ACCOUNT}:distribution/{p['DistributionId']}")]
    raise KeyError(f"{call.service}:{call.operation} has no IAM mapping in tests/iam_ledger.py: add one")


def _pk(key: dict[str, Any] | None) -> str:
    return str((key or {}).get("pk", {}).get("S", ""))


def leading_keys(call: Call) -> list[list[str] | None]:
    """For each of `authorizations(call)`, the partition keys it touches (IAM's `dynamodb:LeadingKeys`), None where
    this ledger does not say (a statement conditioned on them then refuses)."""
    p = call.params
    pairs = authorizations(call)
    if call.service != "dynamodb":
        return [None] * len(pairs)
    if call.operation == "PutItem":
        return [[_pk(p.get("Item"))]]
    if call.operation in {"GetItem", "UpdateItem", "DeleteItem"}:
        return [[_pk(p.get("Key"))]]
    if call.operation == "BatchWriteItem":
        return [
            [_pk(r["PutRequest"]["Item"]) if "PutRequest" in r else _pk(r["DeleteRequest"]["Key"]) for r in requests]
            for requests in p["RequestItems"].values()
        ]
    if call.operation == "TransactWriteItems":
        found: list[list[str] | None] = []
        for item in p["TransactItems"]:
            ((_, body),) = item.items()
            found.append([_pk(body["Item"] if "Item" in body else body["Key"])])
        return found
    return [None] * len(pairs)


def role_statements(role: str, parameters: dict[str, str]) -> list[dict[str, Any]]:
    """The role's policy statements from deploy/stack.yaml, with the stack's parameters put in."""
    (policy,) = template()["Resources"][role]["Properties"]["Policies"]
    queue = f"{parameters.get('Project')}-{parameters.get('Stage')}-publisher-failures"
    made = {"PublisherFailures.Arn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue}"}
    context = {**pseudo(REGION), **made, **parameters}
    statements: list[dict[str, Any]] = resolve(policy["PolicyDocument"]["Statement"], context)
    return statements


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


LEADING_KEYS = "dynamodb:LeadingKeys"


def allowed(statements: list[dict[str, Any]], action: str, resource: str, leading: list[str] | None = None) -> bool:
    """Whether an Allow statement covers the action on the resource; a statement conditioned on the partition keys
    (`ForAllValues:StringLike` on `dynamodb:LeadingKeys`, the one condition read here) only for `leading` keys that
    all match one of its patterns."""
    for statement in statements:
        unsupported = {"NotAction", "NotResource", "NotPrincipal"} & set(statement)
        if unsupported or statement.get("Effect") != "Allow":
            raise ValueError(f"this evaluator reads Allow statements only, not {unsupported or statement['Effect']}")
        # Actions match without regard to case; ARNs with it (IAM's rules); `*` and `?` are wildcards in both.
        if (
            any(fnmatch.fnmatch(action.lower(), a.lower()) for a in _listed(statement["Action"]))
            and any(fnmatch.fnmatchcase(resource, r) for r in _listed(statement["Resource"]))
            and _holds(statement.get("Condition"), leading)
        ):
            return True
    return False


def _holds(condition: dict[str, Any] | None, leading: list[str] | None) -> bool:
    if condition is None:
        return True
    if set(condition) != {"ForAllValues:StringLike"} or set(condition["ForAllValues:StringLike"]) != {LEADING_KEYS}:
        raise ValueError(f"this evaluator reads one condition, ForAllValues:StringLike on {LEADING_KEYS}: {condition}")
    patterns = _listed(condition["ForAllValues:StringLike"][LEADING_KEYS])
    return leading is not None and all(any(fnmatch.fnmatchcase(key, p) for p in patterns) for key in leading)


def refusals(calls: list[Call], statements_for: Callable[[Call], list[dict[str, Any]]]) -> list[str]:
    """What the role would refuse, one line each (empty when every call is allowed)."""
    refused = []
    for call in calls:
        statements = statements_for(call)
        for (action, resource), leading in zip(authorizations(call), leading_keys(call), strict=True):
            if not allowed(statements, action, resource, leading):
                refused.append(f"{call.service}:{call.operation} needs {action} on {resource}")
    return sorted(set(refused))


@contextmanager
def record(keep: Callable[[], bool], sink: Callable[[Call], object]) -> Iterator[None]:
    """Record every botocore call (and presigned URL or form) made while `keep()` says so."""
    import botocore.client
    import botocore.signers

    lock = threading.Lock()
    # Patched by name: botocore's private entry point, and the functions it binds into each new client.
    patched: list[tuple[Any, str]] = [
        (botocore.client.BaseClient, _API_CALL),
        (botocore.signers, "generate_presigned_url"),
        (botocore.signers, "generate_presigned_post"),
    ]
    make_api_call, presigned_url, presigned_post = (getattr(owner, name) for owner, name in patched)

    def note(service: str, operation: str, params: dict[str, Any]) -> None:
        if keep():
            with lock:
                sink(Call(service, operation, json.loads(json.dumps(params, default=str))))

    def api_call(self: Any, operation: str, params: dict[str, Any]) -> Any:
        note(self.meta.service_model.service_name, operation, params)
        return make_api_call(self, operation, params)

    def url(self: Any, ClientMethod: str, Params: Any = None, **kwargs: Any) -> Any:
        operation = self.meta.method_to_api_mapping.get(ClientMethod, ClientMethod)
        note(self.meta.service_model.service_name, operation, dict(Params or {}))
        return presigned_url(self, ClientMethod, Params, **kwargs)

    def post(self: Any, Bucket: str, Key: str, **kwargs: Any) -> Any:
        note("s3", "PresignedPost", {"Bucket": Bucket, "Key": Key})
        return presigned_post(self, Bucket, Key, **kwargs)

    originals = [getattr(owner, name) for owner, name in patched]
    for (owner, name), replacement in zip(patched, (api_call, url, post), strict=True):
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for (owner, name), original in zip(patched, originals, strict=True):
            setattr(owner, name, original)


def read(path: Path) -> list[Call]:
    return [Call.from_json(line) for line in path.read_text().splitlines() if line] if path.exists() else []


def assert_role_allows(ledger: Path, role: str, parameters: dict[str, str]) -> list[Call]:
    """Every call recorded in `ledger` (a function's, written by tests/lambda_driver.py) is one `role` allows."""
    calls = read(ledger)
    assert calls, f"no call was recorded in {ledger}"
    refused = refusals(
        calls, lambda _: role_statements(role, {"Project": "image-gallery", "Stage": "dev", **parameters})
    )
    assert not refused, f"{role} would refuse:\n" + "\n".join(refused)
    return calls
