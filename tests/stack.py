"""deploy/stack.yaml read as CloudFormation reads it, for tests of what it says: the short-form tags (`!Sub`,
`!Ref`…) become their long forms, and `resolve` evaluates the intrinsic functions the template uses for given
parameters, as CloudFormation would when it creates the stack."""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "deploy" / "stack.yaml"


class _Loader(yaml.SafeLoader):
    pass


def _tag(name: str) -> Any:
    def construct(loader: _Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = str(value).split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        return {name: value}

    return construct


for _short, _long in {
    "!Ref": "Ref",
    "!Sub": "Fn::Sub",
    "!GetAtt": "Fn::GetAtt",
    "!If": "Fn::If",
    "!Not": "Fn::Not",
    "!Equals": "Fn::Equals",
}.items():
    _Loader.add_constructor(_short, _tag(_long))


def template() -> dict[str, Any]:
    """A fresh copy each time (callers may change it), parsed once."""
    return copy.deepcopy(_parsed())


@functools.cache
def _parsed() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(TEMPLATE.read_text(), Loader=_Loader)  # noqa: S506 (a safe loader)
    return loaded


def resolve(value: Any, parameters: dict[str, str]) -> Any:
    """`value` with `Ref` and `Fn::Sub` of parameters and pseudo parameters replaced (what these tests read)."""
    if isinstance(value, list):
        return [resolve(item, parameters) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"}:
        return parameters[value["Ref"]]
    if set(value) == {"Fn::GetAtt"}:  # given as a parameter named `Resource.Attribute`
        return parameters[".".join(value["Fn::GetAtt"])]
    if set(value) == {"Fn::Sub"}:
        return re.sub(r"\$\{([^}]+)\}", lambda m: parameters[m.group(1)], value["Fn::Sub"])
    return {key: resolve(item, parameters) for key, item in value.items()}


def pseudo(region: str, account: str = "123456789012") -> dict[str, str]:
    return {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}
