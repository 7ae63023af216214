"""GIVEN template.yaml WHEN the real AWS tools check it offline (cfn-lint, on the template and on its SAM
expansion; `sam validate --lint`; checkov; `sam build` up to where it needs Docker) THEN they find
nothing, every checkov skip says why, and each tool does fail on a broken copy, so a clean run means
something."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.testkit.paths import REPO
from tests.testkit.template import TEMPLATE
from tests.testkit.tools import TOOLS_BIN, run_tool

TRANSFORM = Path(__file__).with_name("sam_transform.py")
# After the SAM transform, a parameter SAM resolved itself (DeploymentType) looks unused to cfn-lint.
EXPANDED_IGNORES = ["--ignore-checks=W2001"]


def expand(template: Path, out: Path) -> Path:
    """The SAM translator's CloudFormation for ``template``, written to ``out``."""
    result = run_tool("python", str(TRANSFORM), str(template), str(out))
    assert result.returncode == 0, result.stderr
    return out


def checkov(template: Path) -> dict[str, Any]:
    """checkov's JSON report for one CloudFormation/SAM file (no download of guidelines)."""
    result = run_tool("checkov", "-f", str(template), "--framework", "cloudformation", "--skip-download", "-o", "json")
    assert result.returncode in (0, 1), result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def broken_copy(tmp_path: Path, old: str, new: str) -> Path:
    """template.yaml with one text replaced (the replacement must happen)."""
    text = TEMPLATE.read_text()
    assert old in text
    copy = tmp_path / "template.yaml"
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_cfn_lint_finds_nothing_in_the_template() -> None:
    result = run_tool("cfn-lint", str(TEMPLATE))
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_cfn_lint_finds_nothing_in_what_sam_generates(tmp_path: Path) -> None:
    expanded = expand(TEMPLATE, tmp_path / "expanded.json")
    result = run_tool("cfn-lint", *EXPANDED_IGNORES, str(expanded))
    assert (result.returncode, result.stdout) == (0, "")


def test_cfn_lint_catches_a_typo_and_sam_generated_values_out_of_range(tmp_path: Path) -> None:
    typo = broken_copy(tmp_path, "VisibilityTimeout: 5400", "VisibilityTimout: 5400")
    result = run_tool("cfn-lint", str(typo))
    assert result.returncode == 2
    assert "VisibilityTimout" in result.stdout
    # cfn-lint alone misses this one inside a SAM event; the expansion is what catches it.
    batch = broken_copy(tmp_path, "BatchSize: 10\n", "BatchSize: 20000\n")
    assert run_tool("cfn-lint", str(batch)).returncode == 0
    result = run_tool("cfn-lint", *EXPANDED_IGNORES, str(expand(batch, tmp_path / "expanded.json")))
    assert result.returncode == 2
    assert "20000 is greater than the maximum of 10000" in result.stdout


# Both forms: `--lint` runs cfn-lint *instead of* the SAM translator's checks, so a bad event type passes
# it (samconfig.toml must not set `lint = true` for the same reason: plain validate would lint only).
@pytest.mark.parametrize("lint", [[], ["--lint"]], ids=["translator", "lint"])
@pytest.mark.parametrize("config_env", ["default", "prod"])
def test_sam_validate_passes_offline_for_each_environment(config_env: str, lint: list[str]) -> None:
    result = run_tool("sam", "validate", *lint, "--config-env", config_env, "--template-file", str(TEMPLATE))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout


def test_sam_validate_fails_on_a_bad_event_type_which_lint_alone_misses(tmp_path: Path) -> None:
    bad = broken_copy(tmp_path, "Type: Schedule\n", "Type: Shedule\n")
    result = run_tool("sam", "validate", "--template-file", str(bad))
    assert result.returncode == 1
    assert "Event Type is: Shedule" in result.stdout + result.stderr
    assert run_tool("sam", "validate", "--lint", "--template-file", str(bad)).returncode == 0


def test_checkov_fails_nothing_and_every_skip_gives_its_reason(tmp_path: Path, report: Callable[[str], None]) -> None:
    for name, path in (("template.yaml", TEMPLATE), ("SAM expansion", expand(TEMPLATE, tmp_path / "x.json"))):
        summary, results = (found := checkov(path))["summary"], found["results"]
        failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
        assert failed == []
        for skipped in results["skipped_checks"]:
            assert len(skipped["check_result"].get("suppress_comment") or "") >= 30, skipped["check_id"]
        report(
            f"checkov on {name}: {summary['passed']} passed, {summary['failed']} failed, {summary['skipped']} skipped"
        )
        assert summary["passed"] >= 25


def test_checkov_fails_nothing_with_the_optional_rest_api_switched_on(tmp_path: Path) -> None:
    """checkov leaves out resources whose condition is false by default: the REST API is checked switched on."""
    marker = 'Default: "false"\n    Description: >-\n      Also put the API function behind an API Gateway REST API'
    switched_on = broken_copy(tmp_path, marker, marker.replace('"false"', '"true"', 1))
    results = checkov(switched_on)["results"]
    assert [(c["check_id"], c["resource"]) for c in results["failed_checks"]] == []
    checked = {check["resource"] for check in results["passed_checks"] + results["skipped_checks"]}
    assert {"AWS::ApiGateway::Stage.RestApiStage", "AWS::ApiGateway::Method.RestApiProxyMethod"} <= checked


def test_checkov_does_fail_a_public_unencrypted_bucket(tmp_path: Path) -> None:
    bad = broken_copy(tmp_path, "BlockPublicPolicy: true", "BlockPublicPolicy: false")
    failed = {check["check_id"] for check in checkov(bad)["results"]["failed_checks"]}
    assert "CKV_AWS_54" in failed


def sam_build_plan(*args: str, tmp_path: Path) -> str:
    """What `sam build` says it will build before it stops for lack of a container runtime."""
    result = run_tool("sam", "build", "--build-dir", str(tmp_path / "build"), *args, timeout=120)
    assert "requires a container runtime" in result.stdout + result.stderr, result.stdout + result.stderr
    output = result.stdout + result.stderr
    found = re.search(r"Building codeuri: (\S+) runtime: None architecture: (\S+) functions: (.+)", output)
    assert found, output
    return f"{Path(found[1]) == REPO} {found[2]} {found[3].strip()}"


def test_sam_build_builds_one_arm64_image_for_both_functions_with_an_x86_64_switch(tmp_path: Path) -> None:
    assert sam_build_plan(tmp_path=tmp_path) == "True arm64 ApiFunction, BatchFunction"
    switched = sam_build_plan("--parameter-overrides", "Architecture=x86_64", tmp_path=tmp_path)
    assert switched == "True x86_64 ApiFunction, BatchFunction"
    assert (TOOLS_BIN / "sam").is_file()
