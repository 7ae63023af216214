"""template.yaml as data, for the tests that check it against the code it deploys.

CloudFormation's short tags (!Ref, !Sub, !GetAtt, ...) become their long forms, so the tests can tell a
literal value from a reference without a CloudFormation library in the project venv.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from tests.testkit.paths import REPO

TEMPLATE = REPO / "template.yaml"
DOCKERFILE = REPO / "Dockerfile"


class _CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


@cache
def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template, parsed once."""
    template: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader subclass
    return template


def resources(kind: str, template: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """Logical id -> resource, for every resource of one type."""
    found = (template or load_template())["Resources"]
    return {name: resource for name, resource in found.items() if resource["Type"] == kind}


def function_environment(name: str, template: dict[str, Any] | None = None) -> dict[str, Any]:
    """A function's environment: the Globals' variables overlaid with its own, as SAM merges them."""
    template = template or load_template()
    shared = template["Globals"]["Function"]["Environment"]["Variables"]
    own = template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
    return {**shared, **own}


def parameter_default(name: str, template: dict[str, Any] | None = None) -> Any:
    """The default of a template parameter."""
    return (template or load_template())["Parameters"][name]["Default"]


# What a deployed stack's references resolve to, for checking the values the template sets.
RESOLVED = {"InputBucket": "onnx-lambda-input-1c2fa620", "OutputBucket": "onnx-lambda-output-1c2fa620"}


def resolve(value: Any, resolved: dict[str, str] | None = None) -> str:
    """A literal, a parameter's default or a resource's deployed name, as the function would see it."""
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        return (resolved or RESOLVED).get(name) or str(parameter_default(name))
    assert isinstance(value, str | int | float), f"unexpected environment value {value!r}"
    return str(value)


def resolved_environment(function: str, resolved: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a deployed function gets: the template's variables, references resolved."""
    return {name: resolve(value, resolved) for name, value in function_environment(function).items()}


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined as the builder joins them (the
    backslash and the line break go; the next line's own spaces stay), comments dropped."""
    joined = path.read_text().replace("\\\n", "")
    instructions = []
    for line in joined.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions
