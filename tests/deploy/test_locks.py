"""GIVEN the three locks (requirements/*.lock), pyproject.toml, requirements/tools.txt, the Makefile and what
.venv and .venv-tools hold WHEN they are read offline THEN each lock was made by the command `make lock` runs for
it, pins everything its sources ask for (through every dependency's own requirements) at versions they allow,
the runtime lock pins nothing else and hashes a wheel per platform, and each venv holds exactly what its lock pins.

None of this asks the registry (testkit.offline refuses the network for the module), so the outcome changes only
when the project does. The live re-resolution
(what the registry would answer today) is `make lock-check`, run on request; see docs/deploy.md.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path

import pytest

from tests.testkit.image import base_python
from tests.testkit.locks import (
    DEV_LOCK,
    HERE,
    RUNTIME_LOCK,
    TOOLS_LOCK,
    Installed,
    closure_problems,
    command_of,
    installed_packages,
    linux,
    make_lock_commands,
    options,
    parse_lock,
    pyproject_roots,
    read_lock,
    requirement_lines,
    stale_pins,
    version_problems,
    walk,
)
from tests.testkit.offline import offline  # noqa: F401 - autouse: this module's tests run with the network refused
from tests.testkit.paths import REPO
from tests.testkit.tools import TOOLS, require

# Where the image runs: the base image's Python on both architectures the template allows.
IMAGE = [linux(base_python(), machine) for machine in ("aarch64", "x86_64")]
RUNTIME_ENVIRONMENTS = [HERE, *IMAGE]


@pytest.fixture(scope="module")
def project() -> Mapping[str, object]:
    with (REPO / "pyproject.toml").open("rb") as file:
        table: Mapping[str, object] = tomllib.load(file)["project"]
    return table


@pytest.fixture(scope="module")
def venv() -> dict[str, Installed]:
    return installed_packages()


@pytest.fixture(scope="module")
def tools_venv() -> dict[str, Installed]:
    sites = sorted(require(TOOLS / "lib").glob("python*/site-packages"))
    assert len(sites) == 1, f"expected one site-packages in {TOOLS}, found {sites}"
    return installed_packages(sites[0])


@pytest.mark.parametrize("path", [RUNTIME_LOCK, DEV_LOCK, TOOLS_LOCK], ids=lambda path: path.name)
def test_each_lock_records_the_command_make_lock_runs_for_it(path: Path) -> None:
    lock = read_lock(path)
    assert lock.command, f"{path.name} has no `uv pip compile` header: regenerate it with `make lock`"
    assert lock.command == make_lock_commands()[path.name], f"{path.name} was not made by `make lock`: run it"


def test_the_runtime_lock_pins_every_requirement_of_pyproject_at_a_version_it_allows(
    project: Mapping[str, object], venv: dict[str, Installed]
) -> None:
    """Through the runtime packages' own requirements (read from the locked versions installed here), in this
    environment and the image's, extras included (aws-lambda-powertools[tracer] brings aws-xray-sdk)."""
    lock = read_lock(RUNTIME_LOCK)
    left_out = options(lock.command, "--no-emit-package")
    assert version_problems(lock, venv, [pin.name for pin in lock.pins], ".venv") == []
    for environment in RUNTIME_ENVIRONMENTS:
        found = walk(pyproject_roots(project), venv, environment)
        assert found.unreadable == set()
        assert closure_problems(lock, found, environment, left_out) == []
    assert "aws-xray-sdk" in walk(pyproject_roots(project), venv, HERE).reached


def test_the_runtime_lock_pins_nothing_pyproject_does_not_ask_for(
    project: Mapping[str, object], venv: dict[str, Installed]
) -> None:
    """The image installs every line (`--no-deps -r`), so a stale pin would ship; what the base image provides
    (the header's --no-emit-package) stays out."""
    lock = read_lock(RUNTIME_LOCK)
    walks = [walk(pyproject_roots(project), venv, environment) for environment in RUNTIME_ENVIRONMENTS]
    assert stale_pins(lock, walks, RUNTIME_ENVIRONMENTS) == set()
    left_out = set(options(lock.command, "--no-emit-package"))
    assert {"boto3", "botocore"} <= left_out
    assert left_out.isdisjoint(pin.name for pin in lock.pins)


def test_every_runtime_pin_is_hashed_and_each_binary_package_for_more_than_one_platform(
    venv: dict[str, Installed],
) -> None:
    """`--require-hashes` needs a hash for the very file each architecture downloads: a package with compiled
    code has a wheel per platform, so one hash cannot serve arm64 and x86_64 (the installs for both, in
    test_runtime_set.py, prove each hash against the files themselves)."""
    lock = read_lock(RUNTIME_LOCK)
    assert all(pin.hashes and all(h.startswith("sha256:") for h in pin.hashes) for pin in lock.pins)
    binary = {pin.name: len(pin.hashes) for pin in lock.pins if not venv[pin.name].pure}
    assert {"numpy", "onnxruntime", "pydantic-core"} <= set(binary)
    assert {name: count for name, count in binary.items() if count < 2} == {}


def test_the_project_venv_holds_what_the_dev_lock_pins_for_every_extra(
    project: Mapping[str, object], venv: dict[str, Installed]
) -> None:
    lock = read_lock(DEV_LOCK)
    assert "--all-extras" in lock.command
    extras: Mapping[str, list[str]] = project["optional-dependencies"]  # type: ignore[assignment]
    found = walk(pyproject_roots(project, extras), venv, HERE)
    assert found.unreadable == set()
    assert closure_problems(lock, found, HERE) == []
    assert version_problems(lock, venv, found.reached, ".venv") == []


def test_the_dev_lock_pins_the_runtime_packages_as_the_image_lock_does() -> None:
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    assert "requirements/runtime.lock" in options(dev.command, "-c")
    for environment in RUNTIME_ENVIRONMENTS:
        shipped = runtime.versions(environment)
        assert {name: dev.versions(environment).get(name) for name in shipped} == shipped


def test_the_tools_venv_holds_what_the_tools_lock_pins(tools_venv: dict[str, Installed]) -> None:
    lock = read_lock(TOOLS_LOCK)
    found = walk(requirement_lines(REPO / "requirements" / "tools.txt"), tools_venv, HERE)
    assert {"aws-sam-cli", "cfn-lint", "checkov", "uv", "aws-sam-translator"} <= found.reached
    assert found.unreadable == set()
    assert closure_problems(lock, found, HERE) == []
    assert version_problems(lock, tools_venv, found.reached, ".venv-tools") == []


def test_the_suite_runs_on_exactly_the_versions_the_image_installs(venv: dict[str, Installed]) -> None:
    lock = read_lock(RUNTIME_LOCK)
    assert {pin.name for pin in lock.pins} - set(venv) == set()
    assert version_problems(lock, venv, [pin.name for pin in lock.pins], ".venv") == []


# The checks above must be able to fail: each fires on a small lock and venv made to be wrong.
SMALL_LOCK = """# This file was autogenerated by uv via the following command:
#    uv pip compile pyproject.toml --universal -o small.lock
app-core==2.0.1 \\
    --hash=sha256:aa \\
    --hash=sha256:bb
    # via app
tracer-sdk==1.0 ; sys_platform == 'linux' \\
    --hash=sha256:cc
leftover==0.1 \\
    --hash=sha256:dd
"""
SMALL_VENV = {
    "app": Installed("1.0", ("app-core>=2,<3", "tracer-sdk>=1; extra == 'tracer'", "winonly; sys_platform == 'win32'")),
    "app-core": Installed("2.0.1", ()),
    "tracer-sdk": Installed("1.0+cpu", ()),
}


def test_a_lock_is_parsed_into_pins_markers_hashes_and_its_command() -> None:
    lock = parse_lock(SMALL_LOCK, "small.lock")
    assert lock.command == ("uv", "pip", "compile", "pyproject.toml", "--universal", "-o", "small.lock")
    assert [(pin.name, pin.version, pin.hashes) for pin in lock.pins][:2] == [
        ("app-core", "2.0.1", ("sha256:aa", "sha256:bb")),
        ("tracer-sdk", "1.0", ("sha256:cc",)),
    ]
    assert lock.pinned("Tracer_SDK", HERE) is not None
    assert lock.pinned("tracer-sdk", {**HERE, "sys_platform": "darwin"}) is None
    assert command_of([".venv-tools/bin/uv", "pip", "compile", "--quiet", "x.txt"]) == ("uv", "pip", "compile", "x.txt")


def test_the_walk_follows_an_extra_only_when_it_is_asked_for() -> None:
    assert walk(["app==1.0"], SMALL_VENV, HERE).reached == {"app", "app-core"}
    assert walk(["app[tracer]==1.0"], SMALL_VENV, HERE).reached == {"app", "app-core", "tracer-sdk"}
    assert walk(["app[tracer]==1.0"], SMALL_VENV, {**HERE, "sys_platform": "win32"}).unreadable == {"winonly"}


def test_the_closure_check_names_a_missing_pin_and_a_pin_the_specifier_refuses() -> None:
    lock = parse_lock(SMALL_LOCK.replace("app-core==2.0.1", "app-core==3.0"), "small.lock")
    problems = closure_problems(lock, walk(["app[tracer]==1.0"], SMALL_VENV, HERE), HERE)
    assert problems == [
        "small.lock has no pin for app, which pyproject.toml asks for (`app[tracer]==1.0`)",
        "small.lock pins app-core==3.0, which app's `app-core<3,>=2` does not allow",
    ]
    assert closure_problems(lock, walk(["app==1.0"], SMALL_VENV, HERE), HERE, left_out=["App", "app-core"]) == []


def test_stale_pins_and_other_installed_versions_are_found() -> None:
    lock = parse_lock(SMALL_LOCK, "small.lock")
    found = walk(["app[tracer]==1.0"], SMALL_VENV, HERE)
    assert stale_pins(lock, [found], [HERE]) == {"leftover"}
    assert version_problems(lock, SMALL_VENV, found.reached, "venv") == []
    older = {**SMALL_VENV, "app-core": Installed("2.0.0", ())}
    assert version_problems(lock, older, found.reached, "venv") == ["venv has app-core 2.0.0; small.lock pins 2.0.1"]
