"""GIVEN a fresh interpreter, as Lambda's INIT WHEN the entry point is imported and invoked THEN it runs
without any export-time package, emits the right metrics and logs, and fails INIT clearly when it must."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.testkit import onnx_models
from tests.testkit.events import response_json
from tests.testkit.paths import EVENTS
from tests.testkit.process import BLOCK_EXPORT_PACKAGES, INVOKE_EVENT, json_lines, response_of, run_python


def test_the_handler_imports_and_serves_with_torch_sklearn_onnx_and_model_export_unimportable(
    default_model: Path,
) -> None:
    script = (
        BLOCK_EXPORT_PACKAGES
        + INVOKE_EVENT
        + "\nprint('LOADED', sorted(m for m in sys.modules if m.split('.')[0] in BLOCKED))"
    )
    result = run_python(script, str(EVENTS / "http-api-v2.predict.json"))
    assert result.returncode == 0, result.stderr
    response = response_of(result.stdout)
    assert response["statusCode"] == 200
    assert len(response_json(response)["predictions"]) == 2
    assert "LOADED []" in result.stdout


def test_the_blocker_really_blocks_so_the_test_above_can_fail() -> None:
    result = run_python(BLOCK_EXPORT_PACKAGES + "import onnxruntime\nimport torch")
    assert result.returncode != 0
    assert "No module named 'torch' (not in the Lambda image)" in result.stderr


@pytest.mark.parametrize(("init_type", "cold_start"), [("on-demand", True), ("provisioned-concurrency", False)])
def test_metrics_count_a_cold_start_only_for_on_demand_init_and_logs_carry_the_request_id(
    default_model: Path, init_type: str, cold_start: bool
) -> None:
    env = {"AWS_LAMBDA_INITIALIZATION_TYPE": init_type, "AWS_LAMBDA_FUNCTION_NAME": "fn"}
    result = run_python(INVOKE_EVENT, str(EVENTS / "http-api-v2.predict.json"), env=env)
    assert result.returncode == 0, result.stderr
    records = json_lines(result.stdout)
    metrics = {name for record in records if "_aws" in record for name in record if name[:1].isupper()}
    assert {"InferenceLatency", "BatchSize"} <= metrics
    assert ("ColdStart" in metrics) is cold_start
    batch = next(record["BatchSize"] for record in records if "BatchSize" in record)
    assert batch in (2, [2], [2.0])  # EMF writes a single value or a list of values
    ready = next(record for record in records if record.get("message") == "model ready")
    assert ready["initialization_type"] == init_type


def test_log_lines_carry_the_correlation_id_and_lambda_context(default_model: Path) -> None:
    script = INVOKE_EVENT + "\nfrom handler.observability import logger\nlogger.info('after')"
    result = run_python(script, str(EVENTS / "http-api-v2.predict.json"))
    after = next(record for record in json_lines(result.stdout) if record.get("message") == "after")
    assert after["correlation_id"] == "req-predict"
    assert after["function_name"] == "onnx-lambda-local"
    assert "function_request_id" in after


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ORT_INTRA_OP_THREADS": "lots"}, "invalid configuration: ORT_INTRA_OP_THREADS='lots'"),
        ({"MODEL_PATH": "/nonexistent/model.onnx"}, "MODEL_PATH='/nonexistent/model.onnx' is not a file"),
    ],
)
def test_bad_settings_fail_init_with_one_clear_message(env: dict[str, str], message: str) -> None:
    result = run_python("import handler.entrypoint", env=env)
    assert result.returncode == 1
    assert message in result.stderr
    failures = [r for r in json_lines(result.stdout) if r.get("level") == "ERROR"]
    assert len(failures) == 1
    assert failures[0]["message"].startswith("INIT failed: ")
    assert message in failures[0]["message"]


def test_a_file_that_is_not_onnx_fails_init_with_a_log_line_naming_it(tmp_path: Path) -> None:
    corrupt = tmp_path / "model.onnx"
    corrupt.write_bytes(b"this is not a protobuf" * 10)
    result = run_python("import handler.entrypoint", env={"MODEL_PATH": str(corrupt)})
    assert result.returncode == 1
    failures = [r for r in json_lines(result.stdout) if r.get("level") == "ERROR"]
    assert len(failures) == 1
    assert failures[0]["message"].startswith(f"INIT failed: MODEL_PATH={str(corrupt)!r} is not a loadable ONNX model")
    assert json.dumps(failures[0])  # one structured line, not a bare traceback


MISMATCHED: dict[str, tuple[Callable[[Path], Path], str]] = {
    "runs-only-one-instance": (
        lambda path: onnx_models.fixed_reshape(path, rows=1),
        "the warm-up inference on '{path}' failed for 2 instances (its first dimension is dynamic): ",
    ),
    "warm-up-fails": (
        lambda path: onnx_models.fixed_reshape(path, rows=2),
        "the warm-up inference on '{path}' failed for one instance: ",
    ),
    "class-labels-mismatch": (
        lambda path: onnx_models.classifier(path, 3, ["cat", "dog"]),
        "MODEL_PATH='{path}' cannot be served: metadata_props 'class_labels' names 2 classes",
    ),
    "ir-version-too-new": (
        lambda path: onnx_models.future_version(path, ir_version=99),
        "MODEL_PATH='{path}' is not a loadable ONNX model: ",
    ),
}


@pytest.mark.parametrize("case", MISMATCHED)
def test_a_model_the_server_cannot_serve_fails_init_with_one_log_line_and_no_onnxruntime_noise(
    tmp_path: Path, case: str
) -> None:
    build, message = MISMATCHED[case]
    path = build(tmp_path / "model.onnx")
    result = run_python("import handler.entrypoint", env={"MODEL_PATH": str(path)})
    assert result.returncode == 1
    records = json_lines(result.stdout)
    assert [r["level"] for r in records] == ["ERROR"]  # no "model ready": it never served
    assert records[0]["message"].startswith("INIT failed: " + message.format(path=path))
    assert "\n" not in records[0]["message"]
    assert "onnxruntime_src" not in records[0]["message"]  # onnxruntime's C++ source location is noise here
    assert ":onnxruntime:" not in result.stderr  # onnxruntime did not print the failure a second time


@pytest.mark.parametrize(("setting", "sdk_loaded"), [("", False), ("false", False), ("true", True)])
def test_the_xray_sdk_is_imported_only_when_inference_tracing_is_on(setting: str, sdk_loaded: bool) -> None:
    script = INVOKE_EVENT + "\nprint('SDK', 'aws_xray_sdk.core' in sys.modules, 'botocore.client' in sys.modules)"
    result = run_python(
        script, str(EVENTS / "http-api-v2.predict.json"), env={"TRACE_INFERENCE": setting, "INPUT_BUCKET": ""}
    )  # the API function
    assert result.returncode == 0, result.stderr
    assert response_of(result.stdout)["statusCode"] == 200
    assert f"SDK {sdk_loaded} {sdk_loaded}" in result.stdout  # the SDK is what builds a botocore client


def test_an_api_function_never_imports_the_batch_code_and_a_batch_function_does_at_init() -> None:
    script = "import sys\nimport handler.entrypoint\nprint('BATCH', 'handler.batch.triggers' in sys.modules)"
    assert "BATCH False" in run_python(script, env={"INPUT_BUCKET": ""}).stdout
    assert "BATCH True" in run_python(script, env={"INPUT_BUCKET": "onnx-lambda-input"}).stdout
