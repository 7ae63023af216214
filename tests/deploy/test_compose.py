"""GIVEN compose.yaml WHEN it is read beside the Dockerfile, the handler's settings, the docs and the dev lock
THEN both function services run the one image the Dockerfile builds (the HTTP one with the documented entry point,
the Lambda one unchanged), as Lambda's user on a read-only root with the model folder mounted read-only, set only
variables the function reads, publish the ports the docs give ("Run the image anywhere", docs/deploy.md), and run
the moto the tests run."""

from __future__ import annotations

from typing import Any

import yaml

from handler.settings import ENV_NAMES
from tests.testkit import docs_pages
from tests.testkit.locks import DEV_LOCK, read_lock
from tests.testkit.paths import REPO

COMPOSE = REPO / "compose.yaml"
HTTP_MODE = ["python", "-m", "handler.http_host"]
# Variables the base image's runtime and the emulator read (not the handler's settings).
RUNTIME_VARIABLES = {"AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID"}
RUNTIME_VARIABLES |= {"AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL"}


def services() -> dict[str, Any]:
    found: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())["services"]
    return found


def test_both_functions_run_the_one_image_the_http_one_with_the_documented_entry_point() -> None:
    http, function = services()["http"], services()["lambda"]
    assert http["build"] == function["build"] == "."
    assert http["image"] == function["image"]
    assert http["entrypoint"] == HTTP_MODE
    assert "entrypoint" not in function  # the image's own entry point and CMD, as Lambda runs them
    assert "command" not in function
    assert docs_pages.holding("--entrypoint python onnx-lambda -m handler.http_host")  # docs/deploy.md today
    assert "--entrypoint python IMAGE -m handler.http_host" in (REPO / "Dockerfile").read_text()


def test_each_function_runs_as_lambdas_user_on_a_read_only_root_with_the_models_mounted_read_only() -> None:
    for name in ("http", "lambda"):
        service = services()[name]
        assert (service["user"], service["read_only"], service["tmpfs"]) == ("1051:1051", True, ["/tmp"])
        assert service["volumes"] == ["./models:/models:ro"]
        assert service["environment"]["MODEL_PATH"].startswith("/models/")


def test_only_variables_the_function_or_its_runtime_reads_are_set() -> None:
    for name in ("http", "lambda"):
        variables = set(services()[name]["environment"])
        assert variables - set(ENV_NAMES.values()) - RUNTIME_VARIABLES == set(), name


def test_ports_are_the_documented_ones_and_moto_is_the_version_the_tests_run() -> None:
    found = services()
    assert (found["http"]["ports"], found["lambda"]["ports"]) == (["8080:8080"], ["9000:8080"])
    moto = [pin.version for pin in read_lock(DEV_LOCK).pins if pin.name == "moto"]
    assert found["moto"]["image"] == f"motoserver/moto:{moto[0]}"
    assert found["moto"]["profiles"] == ["batch"]
    assert found["lambda"]["environment"]["AWS_ENDPOINT_URL"] == "http://moto:5000"
