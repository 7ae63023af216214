"""GIVEN the Dockerfile as it is, built with Debian's podman from the repository root (.dockerignore applied) FROM a
stand-in for public.ecr.aws/lambda/python:3.13 (testkit.container: Debian trixie's Python 3.13 from mmdebstrap, the
base image's entry point, runtime interface client, SDK and AWS's emulator), once per session
WHEN the image runs as Lambda runs a function (uid 1051, a read-only root, only a 512 MB /tmp writable) in both its
modes: its own entry point and command (the emulator), and `--entrypoint python IMAGE -m handler.http_host`
THEN the emulator answers every HTTP event file as expected, the HTTP host answers GET /health and POST /predict,
is healthy by the image's HEALTHCHECK and exits 0 on SIGTERM; every process runs as 1051 and only /tmp takes a
file; the HTTP_HOST=false and IMAGE_INPUTS=false builds (on request) are smaller and lack what they drop;
PYTHON_VERSION=3.11 stops at the Dockerfile's guard. The sizes (base, image, the Dockerfile's layers) go to the
deployment figures.

The traps on these hosts, and how each is avoided:
- The base image cannot be pulled: the stand-in is tagged public.ecr.aws/lambda/python:3.13 (and :3.11, for the
  guard) and every build says --pull=never. The tags live in a private store (podman --root), so they never replace
  a real pulled base image; the stand-in's tag there is a hash of its definition, so a second run reuses it, and the
  build's layers are cached there too.
- crun fails on these hosts' cgroups ("cgroups in hybrid mode not supported"): runc, named in a private
  containers.conf (CONTAINERS_CONF) for runs and build steps alike, and to apt-get (podman depends on `crun | runc`).
- Podman's default rlimits (nofile 1048576, nproc 4194304) are above the host's hard limits, which root without
  CAP_SYS_RESOURCE cannot raise: runc fails with "error setting rlimit type 7 (then 6): operation not permitted",
  even with nproc at the host's own hard limit (conmon, podman's monitor, runs with 32768 here). The containers.conf
  sets Lambda's limits, 1024 file descriptors and 1024 processes, for every container and every build step.
- The egress proxy has its own CA: this machine's CA bundle is mounted over the base image's for the build (podman
  build --volume: nothing is left in the image), and pip index settings other than this machine's own folders, if
  any, as /etc/pip.conf. No --build-arg or --env: --env would write the variables into the image.
- Podman builds OCI images by default, which drop HEALTHCHECK: --format docker, as Docker builds.
- Podman 4.3 runs healthchecks from systemd timers; without systemd it logs an error and schedules none, so the
  check is run as a container host would, `podman healthcheck run`.
- HTTP mode imports the SDK's jmespath (Powertools) from a plain `python`: the 3.11 and later base images keep boto3
  and its dependencies in the interpreter's site-packages, so the stand-in does too (in /var/runtime only, INIT
  fails with "No module named 'jmespath'").
A kernel that refuses containers (namespaces, cgroups, mounts) makes the module skip, saying what it refused.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort
import pytest

from tests.testkit import container
from tests.testkit.container import Built, Podman, fetch
from tests.testkit.emulator import INVOCATIONS
from tests.testkit.event_answers import HTTP_FILES, check_answer, check_predict
from tests.testkit.events import load_event, response_json
from tests.testkit.http_host import free_port
from tests.testkit.lambda_base import LAMBDA_USER
from tests.testkit.paths import DEFAULT_MODEL
from tests.testkit.readme_docker import run_section

TAG = "localhost/onnx-lambda-test"
Report = Callable[[str], None]
# Every HTTP event file (health first: its answer is read below), each checked as testkit.event_answers says.
EVENTS = (
    "http-api-v2.health.json",
    *sorted(path.name for path in HTTP_FILES if path.name != "http-api-v2.health.json"),
)
PREDICT = {"instances": [[0.0] * 64]}
# Each variant's build argument, and the top-level modules it drops.
VARIANTS = {"HTTP_HOST=false": ("uvicorn", "h11", "click"), "IMAGE_INPUTS=false": ("PIL", "multipart")}
# The variants cost make test about 45 s on a cold cache (a pip step each), so they are built on request:
# ONNX_LAMBDA_IMAGE_VARIANTS=1 make test (their sizes, measured so, are in docs/deploy.md and the CHANGELOG).
WITH_VARIANTS = os.environ.get("ONNX_LAMBDA_IMAGE_VARIANTS") == "1"
BUILT_VARIANTS = VARIANTS if WITH_VARIANTS else {}
BUILDS = {"": (), **{argument: (argument,) for argument in BUILT_VARIANTS}, "3.11": ("PYTHON_VERSION=3.11",)}
# Run inside a container, as its user: the uids of its processes and which folders take a new file.
SANDBOX_FACTS = """
import json, pathlib
def writable(folder):
    try:
        (pathlib.Path(folder) / ".probe").write_text("")
    except OSError:
        return False
    return True
uids = set()
for status in pathlib.Path("/proc").glob("[0-9]*/status"):
    try:
        uids |= {int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("Uid:")}
    except OSError:
        pass
folders = ["/", "/etc", "/var/task", "/var/runtime", "/tmp"]
print(json.dumps({"uids": sorted(uids), "writable": [folder for folder in folders if writable(folder)]}))
"""


@pytest.fixture(scope="module")
def podman() -> Podman:
    return container.podman()


@pytest.fixture(scope="module")
def base(podman: Podman) -> str:
    """The stand-in base image (built once per definition), proven to run a trivial container here."""
    tag = container.stand_in_base(podman)
    container.refuse_unless_containers_run(podman, tag)
    return tag


def tag(key: str) -> str:
    """The tag of BUILDS' ``key``: latest, http-host-false, image-inputs-false, 3.11."""
    return f"{TAG}:{re.sub('[^a-z0-9.]+', '-', key.lower()) or 'latest'}"


@pytest.fixture(scope="module")
def builds(podman: Podman, base: str, default_model: Path) -> dict[str, Built]:
    """Each of BUILDS (the default one under ""), all at once: on a cold cache each spends half a minute in its pip
    step, and together they take two thirds of the time they take one after another."""
    with ThreadPoolExecutor(max_workers=len(BUILDS)) as pool:
        futures = {key: pool.submit(container.build, podman, tag(key), *arguments) for key, arguments in BUILDS.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.fixture(scope="module")
def image(builds: dict[str, Built]) -> str:
    """The default build's image ID."""
    built = builds[""]
    assert built.done.returncode == 0, f"podman build failed:\n{built.output[-5000:]}"
    return built.image


@dataclass(frozen=True)
class LambdaRun:
    answers: dict[str, tuple[int, Any]]
    facts: dict[str, Any]


@dataclass(frozen=True)
class HttpRun:
    health: tuple[int, Any]
    predict: tuple[int, Any]
    healthcheck: tuple[int, str]  # `podman healthcheck run`'s status, then the container's health
    facts: dict[str, Any]
    exit_code: int
    logs: str


def sandbox_facts(podman: Podman, name: str) -> dict[str, Any]:
    facts: dict[str, Any] = json.loads(podman("exec", name, "python", "-c", SANDBOX_FACTS).stdout)
    return facts


def lambda_mode(podman: Podman, running: container.Container) -> LambdaRun:
    """Each of EVENTS posted to the emulator's invocations URL (the first one's INIT included)."""
    answers = {event: fetch(running.url + INVOCATIONS, load_event(event)) for event in EVENTS}
    return LambdaRun(answers, sandbox_facts(podman, running.name))


def http_mode(podman: Podman, running: container.Container) -> HttpRun:
    """/health (once INIT lets it answer) and /predict asked, the HEALTHCHECK run, then `podman stop` (SIGTERM)."""
    health = fetch(running.url + "/health")
    predict = fetch(running.url + "/predict", PREDICT)
    checked = podman("healthcheck", "run", running.name, check=False).returncode
    status = podman("inspect", "--format", "{{.State.Health.Status}}", running.name).stdout.strip()
    facts = sandbox_facts(podman, running.name)
    podman("stop", "-t", "30", running.name, timeout=60)
    exit_code = int(podman("inspect", "--format", "{{.State.ExitCode}}", running.name).stdout)
    return HttpRun(health, predict, (checked, status), facts, exit_code, podman("logs", running.name).stdout)


@pytest.fixture(scope="module")
def runs(podman: Podman, image: str) -> tuple[LambdaRun, HttpRun]:
    """The image in both modes at once, each on its own loopback port: its own entry point and command (AWS's
    emulator), and `--entrypoint python IMAGE -m handler.http_host`. Both removed after."""
    suffix = os.getpid()
    http = ["--entrypoint", "python", image, "-m", "handler.http_host"]
    with (
        container.container(podman, f"onnx-lambda-test-lambda-{suffix}", free_port(), image) as emulated,
        container.container(podman, f"onnx-lambda-test-http-{suffix}", free_port(), *http) as served,
    ):
        return lambda_mode(podman, emulated), http_mode(podman, served)


@pytest.fixture(scope="module")
def lambda_run(runs: tuple[LambdaRun, HttpRun]) -> LambdaRun:
    return runs[0]


@pytest.fixture(scope="module")
def http_run(runs: tuple[LambdaRun, HttpRun]) -> HttpRun:
    return runs[1]


def test_lambda_mode_answers_the_event_files(lambda_run: LambdaRun) -> None:
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CPUExecutionProvider"])
    for event, (status, answer) in lambda_run.answers.items():
        assert status == 200, answer
        check_answer(event, answer, session)  # statusCode 200; health ready, predictions as onnxruntime's
    health = response_json(lambda_run.answers[EVENTS[0]][1])
    assert (health["ready"], health["init"]["initialization_type"]) == (True, "on-demand")


def test_http_mode_serves_health_and_predict_and_is_healthy(http_run: HttpRun) -> None:
    status, health = http_run.health
    assert (status, health["ready"]) == (200, True)
    status, answer = http_run.predict
    assert status == 200, answer
    session = ort.InferenceSession(str(DEFAULT_MODEL), providers=["CPUExecutionProvider"])
    check_predict(answer, PREDICT, session)  # the labels and probabilities onnxruntime gives
    assert http_run.healthcheck == (0, "healthy")


def test_http_mode_exits_0_on_sigterm(http_run: HttpRun) -> None:
    assert http_run.exit_code == 0, http_run.logs[-3000:]


@pytest.mark.parametrize("mode", ["lambda", "http"])
def test_every_process_runs_as_lambdas_user_and_only_tmp_is_writable(
    mode: str, lambda_run: LambdaRun, http_run: HttpRun
) -> None:
    facts = lambda_run.facts if mode == "lambda" else http_run.facts
    assert facts == {"uids": [LAMBDA_USER], "writable": ["/tmp"]}


def test_the_image_sizes(podman: Podman, base: str, image: str, builds: dict[str, Built], report: Report) -> None:
    base_size, image_size = podman.size(base), podman.size(image)
    report(f"container image (podman, stand-in base {base_size / 1e6:.1f} MB): {image_size / 1e6:.1f} MB, of which")
    report(f"  the Dockerfile's layers: {(image_size - base_size) / 1e6:.1f} MB by default")
    for argument in BUILT_VARIANTS:
        built = builds[argument]
        assert built.done.returncode == 0, f"podman build --build-arg {argument} failed:\n{built.output[-5000:]}"
        size = podman.size(built.image)
        report(f"  the Dockerfile's layers: {(size - base_size) / 1e6:.1f} MB with {argument}")
        assert size < image_size


@pytest.mark.parametrize("argument", VARIANTS)
def test_a_variant_lacks_what_it_drops(podman: Podman, builds: dict[str, Built], argument: str) -> None:
    if not WITH_VARIANTS:
        pytest.skip("the image variants are built with ONNX_LAMBDA_IMAGE_VARIANTS=1 (45 s more on a cold cache)")
    assert builds[argument].done.returncode == 0, builds[argument].output[-5000:]
    script = "import importlib.util as u, sys; print(sorted(m for m in sys.argv[1:] if u.find_spec(m)))"
    found = podman("run", "--rm", "--entrypoint", "python", builds[argument].image, "-c", script, *VARIANTS[argument])
    assert found.stdout.strip() == "[]"


def test_python_3_11_stops_at_the_dockerfiles_guard(builds: dict[str, Built]) -> None:
    built = builds["3.11"]
    assert built.done.returncode != 0
    assert "PYTHON_VERSION=3.11 is not supported" in built.output, built.output[-3000:]


def test_the_readmes_section_runs_as_written(podman: Podman, image: str) -> None:
    """docs/deploy.md, "Run the image anywhere", command by command (`docker` answered by podman, host ports free)."""
    printed = [entry.stdout for entry in run_section(podman) if entry.command.startswith("curl")]
    health, predicted, invoked = (json.loads(text) for text in printed)
    assert (health["ready"], health["init"]["initialization_type"]) == (True, "local")
    assert [p["label"] for p in predicted["predictions"]] == ["0"]  # the page's digit is a zero
    assert invoked["statusCode"] == 200
    assert [p["label"] for p in json.loads(invoked["body"])["predictions"]]
