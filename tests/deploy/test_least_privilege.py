"""GIVEN the Dockerfile, .dockerignore, the runtime lock, the handler's code and template.yaml WHEN they are read
as an auditor would THEN the image runs as Lambda's own user with only the lock, the handler and the model, holds
no development or export package, writes nowhere but /tmp, and the API cannot be deployed unauthenticated while
IAM grants no wildcard action and a wildcard resource only where AWS offers no other.
(Authentication defaults and the comment on every wildcard: test_template_consistency.py.)"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from typing import Any

from tests.testkit.locks import RUNTIME_LOCK, read_lock
from tests.testkit.paths import REPO
from tests.testkit.template import dockerfile_instructions, load_template

# --- the image: what it holds and where it writes -----------------------------------------------------------

IMAGE_SOURCES = {"requirements/runtime.lock", "requirements/runtime-prune.txt", "handler/", "${MODEL_FILE}"}


def test_the_image_runs_as_lambdas_own_user_with_only_the_lock_the_handler_and_the_model() -> None:
    instructions = dockerfile_instructions()
    keywords = {keyword for keyword, _ in instructions}
    assert "USER" not in keywords  # Lambda runs the image as its own unprivileged user; root would be a choice
    assert "ADD" not in keywords  # ADD fetches URLs and unpacks archives: COPY says what it does
    assert not [args for keyword, args in instructions if re.search(r"chmod\s+(-R\s+)?(0?777|[ao]\+w)", args)]
    copies = [args.split() for keyword, args in instructions if keyword == "COPY"]
    modes = [int(word.split("=")[1], 8) for args in copies for word in args if word.startswith("--chmod=")]
    assert modes
    assert all(mode & 0o022 == 0 for mode in modes)  # readable by Lambda's user, writable by no other
    paths = [[word for word in args if not word.startswith("--chmod=")] for args in copies]
    assert {source for args in paths if not args[0].startswith("--from=") for source in args[:-1]} == IMAGE_SOURCES
    assert [args for args in paths if args[0].startswith("--from=")] == [
        ["--from=dependencies", "/opt/runtime", "${LAMBDA_TASK_ROOT}"]
    ]  # the installed lock, from the build stage
    ignored = [line for line in (REPO / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert ignored[0] == "*"  # the build context is an allow-list: tests, model_export, bench never enter it
    assert {line[1:] for line in ignored if line.startswith("!")} == {
        "requirements/runtime.lock",
        "requirements/runtime-prune.txt",
        "handler/",
        "models/*.onnx",
        "models/**/*.onnx",  # a folder of models (flat or NAME/VERSION/model.onnx): MODEL_FILE may name one
    }
    assert [line for line in ignored if line.startswith("handler/")] == []  # handler/ is copied whole
    dev_servers = [path.name for path in (REPO / "handler").rglob("*.py") if "http.server" in path.read_text()]
    assert dev_servers == []  # the local gateway is the command line's (onnx_lambda/local_gateway.py)
    runs = [args for keyword, args in instructions if keyword == "RUN" and "pip install" in args]
    assert len(runs) == 1
    assert re.findall(r"-r (\S+)", runs[0]) == ["/tmp/runtime.lock"]
    assert {"--require-hashes", "--no-deps", "--only-binary=:all:"} <= set(runs[0].split())
    assert not [args for keyword, args in instructions if re.search(r"\b(curl|wget)\b", args)]


def test_the_lock_holds_no_development_export_or_bench_package() -> None:
    extras = load_pyproject()["project"]["optional-dependencies"]
    named = {normalized(re.split(r"[<>=\[;\s]", spec, maxsplit=1)[0]) for group in extras.values() for spec in group}
    assert {"pytest", "moto", "torch", "onnx", "matplotlib"} <= named
    assert named & {pin.name for pin in read_lock(RUNTIME_LOCK).pins} == set()


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def load_pyproject() -> dict[str, Any]:
    with (REPO / "pyproject.toml").open("rb") as file:
        return tomllib.load(file)


# Calls that can write a file: every shutil and tempfile function, these of os, these methods (Path, numpy).
WRITING_MODULES = {"os", "shutil", "tempfile"}
OS_WRITES = {"open", "makedirs", "mkdir", "remove", "unlink", "rename", "replace", "rmdir", "chmod", "truncate", "link"}
PATH_WRITES = {"write_text", "write_bytes", "touch", "mkdir", "tofile", "save", "savez"}
ALLOWED_WRITES = {("handler/batch/outputs.py", "tempfile.SpooledTemporaryFile")}  # spills to gettempdir(): /tmp
# The contract's atomic write is the offline half's and the command line's (an export, a local score); the image
# ships it because it ships handler/ whole, and nothing in the function calls it (checked below).
CONTRACT_WRITES = {("handler/contract.py", call) for call in ("os.chmod", "os.replace", "os.unlink", ".mkdir()")}
CONTRACT_WRITES |= {("handler/contract.py", "tempfile.mkstemp")}


def file_writes(source: str) -> set[str]:
    """The calls in ``source`` that could write a file: open() for writing, os/shutil/tempfile, Path and numpy."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module in {"shutil", "tempfile"}:
            found.add(f"from {node.module} import")
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id == "open":
            mode = (
                node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            if not (isinstance(mode, ast.Constant) and set(str(mode.value)) <= set("rbt")):
                found.add("open for writing")
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in WRITING_MODULES:
            if func.value.id != "os" or func.attr in OS_WRITES:
                found.add(f"{func.value.id}.{func.attr}")
        elif isinstance(func, ast.Attribute) and func.attr in PATH_WRITES:
            found.add(f".{func.attr}()")
    return found


def test_nothing_in_the_image_writes_outside_tmp() -> None:
    shipped = sorted((REPO / "handler").rglob("*.py"))  # the image copies handler/ whole
    writes = {(str(path.relative_to(REPO)), call) for path in shipped for call in file_writes(path.read_text())}
    assert writes == ALLOWED_WRITES | CONTRACT_WRITES
    callers = [path.name for path in shipped if "write_atomic" in path.read_text() and path.name != "contract.py"]
    assert callers == []  # the function never writes that way
    assert file_writes("open(p, 'w')\nPath(p).write_text('x')\nimport shutil\nshutil.copy(a, b)") == {
        "open for writing",
        ".write_text()",
        "shutil.copy",
    }  # the scan sees a write when there is one


# --- template.yaml: authentication and IAM ------------------------------------------------------------------


def statements(node: Any) -> list[dict[str, Any]]:
    """Every IAM policy statement anywhere in the template (a mapping with Effect and Action)."""
    if isinstance(node, dict):
        own = [node] if {"Effect", "Action"} <= set(node) else []
        return own + [found for value in node.values() for found in statements(value)]
    if isinstance(node, list):
        return [found for item in node for found in statements(item)]
    return []


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_way_to_deploy_the_api_unauthenticated() -> None:
    template = load_template()
    assert "NONE" not in template["Parameters"]["ApiAuth"]["AllowedValues"]
    text = json.dumps(template["Resources"])
    assert not re.search(r'"(AuthorizationType|AuthType)": "NONE"', text)
    permissions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Permission"]
    assert permissions
    assert all("SourceArn" in permission or "SourceAccount" in permission for permission in permissions)


def test_iam_grants_no_wildcard_action_and_a_wildcard_resource_only_to_log_delivery() -> None:
    allowed = [s for s in statements(load_template()["Resources"]) if s["Effect"] == "Allow"]
    assert len(allowed) >= 4
    for statement in allowed:
        actions = as_list(statement["Action"])
        assert not [action for action in actions if action == "*" or str(action).endswith(":*")], statement
        if "*" in as_list(statement.get("Resource")):
            assert {str(action).split(":")[0] for action in actions} == {"logs"}, statement
    templates = [
        policy
        for resource in load_template()["Resources"].values()
        for policy in resource.get("Properties", {}).get("Policies", [])
        if isinstance(policy, dict) and "Statement" not in policy
    ]
    assert templates
    for policy in templates:  # SAM policy templates: each scoped to one resource of this stack
        for parameters in policy.values():
            assert all(isinstance(value, dict) and "Ref" in value for value in parameters.values()), policy


def test_the_batch_function_writes_only_under_the_output_and_jobs_prefixes() -> None:
    batch = load_template()["Resources"]["BatchFunction"]["Properties"]
    writes = [
        resource
        for statement in statements(batch["Policies"])
        if "s3:PutObject" in as_list(statement["Action"])
        for resource in as_list(statement["Resource"])
    ]
    assert writes == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${OutputBucket}/${OutputPrefix}*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::${OutputBucket}/${JobsResultPrefix}*"},
    ]
    environment = batch["Environment"]["Variables"]
    assert environment["JOBS_RESULT_BUCKET"] == {"Ref": "OutputBucket"}
    assert environment["JOBS_RESULT_PREFIX"] == {"Ref": "JobsResultPrefix"}
    parameters = load_template()["Parameters"]
    for name in ("OutputPrefix", "JobsResultPrefix"):  # never empty: an empty prefix is the whole bucket
        assert not re.fullmatch(parameters[name]["AllowedPattern"], ""), name
