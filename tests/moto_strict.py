"""moto, held to rules AWS enforces and moto does not, for the deploy's test (`python -m tests.moto_strict`: a server
on loopback whose port is printed). Each rule names its source; each gap filled is one moto lacks and Zappa needs.

Rules (AWS refuses what breaks them; moto accepted it):
- A DynamoDB or Kinesis stream mapping needs a StartingPosition (Lambda API reference, CreateEventSourceMapping:
  "StartingPosition … Required for Amazon Kinesis, Amazon DynamoDB, and Amazon MSK event sources"). moto filled in
  TRIM_HORIZON, which hid that Zappa 0.63 sends none.
- A function's code is a zip of at most 50 MB sent directly, 250 MB unzipped (Lambda quotas, "Deployment package
  (.zip file archive) size": 50 MB zipped for direct upload, 250 MB unzipped).
- A function's role must trust lambda.amazonaws.com (CreateFunction: "The role defined for the function cannot be
  assumed by Lambda").
- CloudFormation resources moto cannot create are recorded rather than silently skipped
  (`/moto-api/strict/skipped`), so a test can say exactly which were not proven here.

Gaps filled: Lambda's ListFunctionUrlConfigs (every `zappa update` calls it); the API Gateway integration's
`Credentials`, which moto's CloudFormation dropped (Zappa sets the role there); outputs of resources moto could not
make, which failed every DescribeStacks; resources whose condition an update makes true, which moto created only
when something listed them.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
import zipfile
from typing import Any
from urllib.parse import unquote

ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
SKIPPED: list[str] = []


def _refuse(message: str) -> Any:
    from moto.awslambda.exceptions import InvalidParameterValueException

    return InvalidParameterValueException(message)


def _check_code(code: dict[str, Any], account_id: str) -> None:
    raw = code.get("ZipFile")
    if raw is not None:
        data = base64.b64decode(raw) if isinstance(raw, str) else raw
        if len(data) > ZIPPED_LIMIT:
            raise _refuse(f"Request must be smaller than {ZIPPED_LIMIT} bytes for a direct upload")
    elif code.get("S3Bucket") and code.get("S3Key"):  # the 50 MB limit is for direct uploads only
        from moto.s3.models import s3_backends

        stored = s3_backends[account_id]["aws"].get_object(code["S3Bucket"], code["S3Key"])
        if stored is None:
            return
        data = stored.value
    else:
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise _refuse("Could not unzip uploaded file. Please check your file, then try to upload again.") from exc
    if unzipped > UNZIPPED_LIMIT:
        raise _refuse(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")


def _trusts_lambda(backend: Any, role_arn: str) -> bool:
    from moto.iam.models import iam_backends

    iam = iam_backends[backend.account_id]["global"]
    for role in iam.roles.values():
        if role.arn == role_arn:
            document = role.assume_role_policy_document
            policy = json.loads(document) if isinstance(document, str) else document
            for statement in policy.get("Statement", []):
                services = statement.get("Principal", {}).get("Service", [])
                services = [services] if isinstance(services, str) else services
                if statement.get("Effect") == "Allow" and "lambda.amazonaws.com" in services:
                    return True
            return False
    return False


def apply() -> None:
    from moto.apigateway import models as apigateway
    from moto.awslambda import urls as lambda_urls
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse
    from moto.cloudformation import parsing

    create_mapping = LambdaBackend.create_event_source_mapping

    def strict_mapping(self: Any, spec: dict[str, Any]) -> Any:
        source = str(spec.get("EventSourceArn", ""))
        if (":dynamodb:" in source or ":kinesis:" in source) and not spec.get("StartingPosition"):
            raise _refuse("1 validation error detected: Value null at 'startingPosition' failed to satisfy constraint")
        return create_mapping(self, spec)

    create_function = LambdaBackend.create_function

    def strict_function(self: Any, spec: dict[str, Any]) -> Any:
        _check_code(spec.get("Code") or {}, self.account_id)
        if not _trusts_lambda(self, str(spec.get("Role", ""))):
            raise _refuse("The role defined for the function cannot be assumed by Lambda.")
        return create_function(self, spec)

    update_code = LambdaBackend.update_function_code

    def strict_update(self: Any, name: str, qualifier: Any, body: dict[str, Any]) -> Any:
        _check_code(body, self.account_id)
        return update_code(self, name, qualifier, body)

    LambdaBackend.create_event_source_mapping = strict_mapping  # type: ignore[method-assign]
    LambdaBackend.create_function = strict_function  # type: ignore[method-assign]
    LambdaBackend.update_function_code = strict_update  # type: ignore[method-assign,assignment]

    lambda_urls.url_paths[r"{0}/(?P<api_version>[^/]+)/functions/(?P<function_name>[\w_:%-]+)/urls/?$"] = (
        LambdaResponse.dispatch
    )

    def list_function_url_configs(self: Any) -> Any:
        function = self.backend.get_function(unquote(self.path.split("?")[0].rstrip("/").split("/")[-2]))
        configs = [function.url_config.to_dict()] if function.url_config else []
        return 200, {}, json.dumps({"FunctionUrlConfigs": configs})

    LambdaResponse.list_function_url_configs = list_function_url_configs  # type: ignore[attr-defined]

    from_template = apigateway.Method.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def method_with_credentials(cls: Any, name: str, template: Any, account_id: str, region: str, **kw: Any) -> Any:
        method = from_template(cls, name, template, account_id, region, **kw)
        properties = template["Properties"]
        integration = properties.get("Integration") or {}
        if integration.get("Credentials"):
            apigateway.apigateway_backends[account_id][region].put_integration(
                function_id=properties["RestApiId"],
                resource_id=properties["ResourceId"],
                method_type=properties["HttpMethod"],
                integration_type=integration["Type"],
                uri=integration["Uri"],
                integration_method=integration.get("IntegrationHttpMethod", "POST"),
                credentials=integration["Credentials"],
                passthrough_behavior=integration.get("PassthroughBehavior"),
                cache_namespace=integration.get("CacheNamespace"),
            )
        return method

    apigateway.Method.create_from_cloudformation_json = classmethod(method_with_credentials)  # type: ignore[assignment,arg-type]

    resource_class = parsing.resource_class_from_type

    def recording(resource_type: str) -> Any:
        found = resource_class(resource_type)
        if found is None and resource_type not in parsing.NULL_MODELS:
            SKIPPED.append(resource_type)
        return found

    parsing.resource_class_from_type = recording

    output = parsing.parse_output

    def output_of_what_exists(logical_id: str, output_json: Any, resources_map: Any) -> Any:
        """An output naming a resource moto could not make is left out, as moto already does for a `Ref` (its
        `Fn::GetAtt` failed the whole DescribeStacks instead)."""
        try:
            return output(logical_id, output_json, resources_map)
        except Exception as exc:
            if "references undefined resource" in str(exc):
                return None
            raise

    parsing.parse_output = output_of_what_exists  # type: ignore[assignment]

    update = parsing.ResourceMap.update

    def update_with_conditions(self: Any, template: dict[str, Any], parameters: Any = None) -> None:
        """A resource whose condition an update makes true is created, as AWS does: moto's diff compares the
        resources' text only, so one already in the template stayed uncreated until something listed it."""
        update(self, template, parameters)
        for logical_name in list(self._resource_json_map):
            _ = self[logical_name]

    parsing.ResourceMap.update = update_with_conditions  # type: ignore[method-assign]


def main() -> None:
    apply()
    import logging

    from moto.moto_server import werkzeug_app
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    dispatch = werkzeug_app.DomainDispatcherApplication.__call__

    def with_skipped(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == "/moto-api/strict/skipped":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(SKIPPED).encode()]
        return dispatch(self, environ, start_response)

    werkzeug_app.DomainDispatcherApplication.__call__ = with_skipped  # type: ignore[method-assign]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    sys.stdout.write(f"{server.get_host_and_port()[1]}\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
