"""The roles in deploy/stack.yaml, evaluated as IAM evaluates them (tests/iam_ledger.py): what the functions and
API Gateway do is allowed, and nothing beside it. The aws suites hold every call the app makes against the API's
role (tests/conftest.py), the publisher's tests every call it makes against its own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam_ledger import ACCOUNT, REGION, Call, allowed, authorizations, refusals, role_statements

API = {
    "Project": "image-gallery",
    "Stage": "dev",
    "Table": "t",
    "DataBucket": "b",
    "SecretsPath": "/image-gallery/dev/",
}
PUBLISHER = {"Project": "image-gallery", "Stage": "dev", "Table": "t", "DataBucket": "b", "SiteBucket": "s"}


def test_api_gateway_may_invoke_the_api_as_its_role() -> None:
    """Zappa puts the role on each integration as its credentials: API Gateway then calls Lambda as the role, which
    needs lambda:InvokeFunction on the function (the shipped policy had none: every request would have failed)."""
    statements = role_statements("ApiRole", API)
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:image-gallery-dev"
    assert allowed(statements, "lambda:InvokeFunction", function)
    assert not allowed(statements, "lambda:InvokeFunction", function + "-publisher")


def test_the_api_reads_its_own_secrets_and_no_other_parameter() -> None:
    statements = role_statements("ApiRole", API)
    read = Call("ssm", "GetParameters", {"Names": ["/image-gallery/dev/GALLERY_JWT_SECRET"]})
    assert refusals([read], lambda _: statements) == []
    elsewhere = Call("ssm", "GetParameters", {"Names": ["/image-gallery/prod/GALLERY_JWT_SECRET"]})
    assert refusals([elsewhere], lambda _: statements) == [
        f"ssm:GetParameters needs ssm:GetParameters on arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/image-gallery/prod/"
        "GALLERY_JWT_SECRET"
    ]


@pytest.mark.parametrize(
    ("call", "refused"),
    [
        (Call("dynamodb", "GetItem", {"TableName": "other"}), True),
        (Call("dynamodb", "Query", {"TableName": "t", "IndexName": "by_title"}), False),
        (Call("dynamodb", "Scan", {"TableName": "t"}), True),
        (Call("dynamodb", "BatchWriteItem", {"RequestItems": {"t": []}}), False),  # search postings
        (Call("dynamodb", "BatchWriteItem", {"RequestItems": {"other": []}}), True),
        (Call("s3", "GetObject", {"Bucket": "b", "Key": "blobs/x"}), False),
        (Call("s3", "GetObject", {"Bucket": "b", "Key": "elsewhere/x"}), True),
        (Call("s3", "PresignedPost", {"Bucket": "b", "Key": "staging/t/u"}), False),
        (Call("s3", "PresignedPost", {"Bucket": "s", "Key": "staging/x"}), True),
        (Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "staging/"}), False),
        (Call("s3", "PutObject", {"Bucket": "s", "Key": "index.html"}), True),  # the site is the publisher's
    ],
)
def test_the_api_role_allows_what_the_api_does_and_no_more(call: Call, refused: bool) -> None:
    statements = role_statements("ApiRole", API)
    try:
        answer = refusals([call], lambda _: statements)
    except KeyError:
        answer = ["no IAM mapping: an action the code never calls"]
    assert bool(answer) is refused, answer


def test_a_transaction_is_authorized_item_by_item() -> None:
    call = Call(
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "t"}}, {"ConditionCheck": {"TableName": "t"}}]},
    )
    assert authorizations(call) == [
        ("dynamodb:PutItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
        ("dynamodb:ConditionCheckItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/t"),
    ]


def test_the_publisher_writes_the_site_and_in_the_table_only_the_sites_state() -> None:
    statements = role_statements("PublisherRole", PUBLISHER)
    assert refusals([Call("s3", "CopyObject", {"Bucket": "s", "Key": "a", "CopySource": {"Bucket": "s", "Key": "a"}})],
                    lambda _: statements) == []  # fmt: skip

    def item(pk: str) -> dict[str, Any]:
        return {"pk": {"S": pk}, "sk": {"S": "x"}}

    def put(pk: str) -> Call:
        return Call("dynamodb", "PutItem", {"TableName": "t", "Item": item(pk)})

    def batch(*pks: str) -> Call:
        return Call(
            "dynamodb", "BatchWriteItem", {"RequestItems": {"t": [{"PutRequest": {"Item": item(k)}} for k in pks]}}
        )

    def transaction(pk: str) -> Call:
        return Call(
            "dynamodb", "TransactWriteItems", {"TransactItems": [{"Delete": {"TableName": "t", "Key": item(pk)}}]}
        )

    assert refusals([put("W#site"), batch("W#a", "W#b"), transaction("W#site#I#x")], lambda _: statements) == []
    for call in (put("T#tenant"), batch("W#a", "T#tenant"), transaction("U#user"), put("W")):
        assert refusals([call], lambda _: statements), call  # a row of the catalog, never
    assert refusals([Call("dynamodb", "PutItem", {"TableName": "t"})], lambda _: statements)
    assert refusals([Call("s3", "PutObject", {"Bucket": "b", "Key": "blobs/x"})], lambda _: statements)
    queue = f"arn:aws:sqs:{REGION}:{ACCOUNT}:image-gallery-dev-publisher-failures"
    # the stream mapping sends a batch that keeps failing to its queue as the function's role
    assert allowed(statements, "sqs:SendMessage", queue)
    assert not allowed(statements, "sqs:SendMessage", queue.replace("dev", "prod"))


def test_an_operation_without_a_mapping_fails_loudly() -> None:
    with pytest.raises(KeyError, match="add one"):
        authorizations(Call("s3", "PutBucketPolicy", {"Bucket": "b"}))
