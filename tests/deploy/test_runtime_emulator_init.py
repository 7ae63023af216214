"""GIVEN the image's task root laid out from the Dockerfile's own lines and AWS's Runtime Interface Emulator started on
it as the base image starts it WHEN it starts with a bad model, a bad setting or a handler the image cannot import
THEN INIT fails with one clear message (a 502 carrying errorType and errorMessage) before any event reaches the
handler, and an import of a package the image lacks fails as it would in Lambda: here the package is truly absent
from the task root, not blocked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.testkit import onnx_models
from tests.testkit.emulator import emulator
from tests.testkit.events import load_event
from tests.testkit.lambda_base import Layout
from tests.testkit.paths import DEFAULT_MODEL
from tests.testkit.runtime_client import IMAGE_LACKS


def truncated_model(directory: Path) -> dict[str, str]:
    data = DEFAULT_MODEL.read_bytes()
    (directory / "model.onnx").write_bytes(data[: len(data) // 2])
    return {"MODEL_PATH": str(directory / "model.onnx")}


def missing_model(directory: Path) -> dict[str, str]:
    return {"MODEL_PATH": str(directory / "model.onnx")}


def not_onnx(directory: Path) -> dict[str, str]:
    (directory / "model.onnx").write_bytes(b"this is not a protobuf" * 10)
    return {"MODEL_PATH": str(directory / "model.onnx")}


def zero_batch(_: Path) -> dict[str, str]:
    return {"MAX_BATCH_SIZE": "0"}


def built(build: Callable[[Path], Path], **settings: str) -> Callable[[Path], dict[str, str]]:
    """A case whose model file ``build`` writes into the test's directory, with extra settings."""

    def make_env(directory: Path) -> dict[str, str]:
        return {"MODEL_PATH": str(build(directory / "model.onnx")), **settings}

    return make_env


MODEL = "MODEL_PATH='{path}'"
UNSERVABLE = MODEL + " cannot be served: "
LOAD_FAILED = MODEL + " is not a loadable ONNX model: Load model from {path} failed: "
WARM_UP = "the warm-up inference on '{path}' failed for "
# Each message is matched piece by piece: it starts with the first piece and holds the others in order.
INIT_FAILURES: dict[str, tuple[Callable[[Path], dict[str, str]], str, str]] = {
    "truncated-model": (truncated_model, "ModelLoadError", MODEL + " is not a loadable ONNX model: "),
    "missing-model": (missing_model, "ModelLoadError", MODEL + " is not a file: export a model first (make model)"),
    "not-onnx": (not_onnx, "ModelLoadError", MODEL + " is not a loadable ONNX model: "),
    "max-batch-size-0": (
        zero_batch,
        "SettingsError",
        "invalid configuration: MAX_BATCH_SIZE='0': Input should be greater than or equal to 1",
    ),
    # Mismatched: a valid ONNX file this server cannot serve as it is.
    "bfloat16-input": (
        built(onnx_models.bfloat16_input),
        "ModelLoadError",
        UNSERVABLE + "input 'x' is tensor(bfloat16), which no request can carry",
    ),
    "bfloat16-output": (
        built(onnx_models.bfloat16_output),
        "ModelLoadError",
        UNSERVABLE + "output 'y' with shape [batch, 2] and datatype BF16 is tensor(bfloat16), which onnxruntime "
        "cannot return to Python",
    ),
    "no-tensor-output": (
        built(onnx_models.sequence_output),
        "ModelLoadError",
        UNSERVABLE + "none of its outputs is a tensor the protocol can carry: 'y' (seq(tensor(float)))",
    ),
    "batch-fixed-over-max-batch-size": (
        built(lambda path: onnx_models.fixed_batch(path, 16), MAX_BATCH_SIZE="8"),
        "ModelLoadError",
        UNSERVABLE + "input 'x' with shape [16, 3] and datatype FP32 has its first (batch) dimension fixed at 16, "
        "over MAX_BATCH_SIZE=8",
    ),
    "warm-up-fails": (
        built(lambda path: onnx_models.fixed_reshape(path, rows=2)),
        "ModelLoadError",
        WARM_UP + "one instance: ... running Reshape node ... Input shape:{{1,3}}, requested shape:{{2,3}}",
    ),
    "runs-only-one-instance": (
        built(lambda path: onnx_models.fixed_reshape(path, rows=1)),
        "ModelLoadError",
        WARM_UP + "2 instances (its first dimension is dynamic): ... Input shape:{{2,3}}, requested shape:{{1,3}}",
    ),
    "opset-too-new": (
        built(lambda path: onnx_models.future_version(path, opset=99)),
        "ModelLoadError",
        LOAD_FAILED + "... Opset 99 is under development",
    ),
    "ir-version-too-new": (
        built(lambda path: onnx_models.future_version(path, ir_version=99)),
        "ModelLoadError",
        LOAD_FAILED + "Unsupported model IR version: 99",
    ),
    # Hostile metadata: JSON a parser must not be made to read (nested 100k deep; an integer of 5,000 digits).
    "metadata-nested-100k-deep": (
        built(lambda path: onnx_models.scaler(path, metadata={"class_labels": "[" * 100_000 + "]" * 100_000})),
        "ModelLoadError",
        "the model's metadata_props['class_labels'] is nested too deeply: expected plain JSON",
    ),
    "metadata-integer-past-the-digit-limit": (
        built(lambda path: onnx_models.scaler(path, metadata={"inputs": '{"x": ' + "9" * 5000 + "}"})),
        "ModelLoadError",
        "the model's metadata_props['inputs'] holds an integer too long to read: expected plain JSON",
    ),
    "class-labels-mismatch": (
        built(lambda path: onnx_models.classifier(path, 3, ["cat", "dog"])),
        "ModelLoadError",
        UNSERVABLE + "metadata_props 'class_labels' names 2 classes but output 'probabilities' gives 3 "
        "probabilities per instance",
    ),
}


def assert_pieces(text: str, message: str) -> None:
    """``text`` starts with the message's first piece and holds the others (split at " ... ") in order."""
    first, *others = message.split(" ... ")
    assert text.startswith(first), text
    at = len(first)
    for piece in others:
        found = text.find(piece, at)
        assert found >= 0, f"{piece!r} not in {text[at:]!r}"
        at = found + len(piece)


@dataclass(frozen=True)
class FailedInit:
    """What a caller saw of an INIT that must fail, and what the emulator printed."""

    status: int
    error: dict[str, Any]
    output: list[str]
    log_records: list[dict[str, Any]]


def fail_init(layout: Layout, env: dict[str, str]) -> FailedInit:
    """One invoke of an emulator whose INIT must fail."""
    with emulator(layout, layout.environment(**env)) as rie:
        status, error = rie.invoke(load_event("http-api-v2.health"))
    return FailedInit(status, error, rie.output, rie.log_records())


def case_directory(layout: Layout, case: str) -> Path:
    """A folder in the stand-in root for one case's files: Lambda's user reads them (pytest's tmp_path is root's)."""
    directory = layout.root / "cases" / case
    directory.mkdir(parents=True)
    return directory


@pytest.mark.parametrize("case", INIT_FAILURES)
def test_init_failures_reach_the_caller_with_one_clear_message_before_any_event_is_handled(
    layout: Layout, case: str
) -> None:
    make_env, error_type, message = INIT_FAILURES[case]
    env = make_env(case_directory(layout, case))
    failed = fail_init(layout, env)
    assert (failed.status, failed.error["errorType"]) == (502, error_type), failed.error
    text = failed.error["errorMessage"]
    assert_pieces(text, message.format(path=env.get("MODEL_PATH")))
    assert "\n" not in text
    assert "Traceback" not in text
    assert not text.startswith((error_type, "<", "("))  # the message itself, not a repr of the exception
    assert failed.error["stackTrace"]  # the trace travels beside the message, not in it
    assert not [record for record in failed.log_records if "function_request_id" in record]  # no event handled
    assert any("exited: exit status 1" in line for line in failed.output)


@pytest.mark.parametrize("package", sorted(IMAGE_LACKS))
def test_the_image_cannot_import_what_it_lacks(layout: Layout, package: str) -> None:
    failed = fail_init(layout, {"_HANDLER": f"{package}.handler"})
    assert (failed.status, failed.error["errorType"]) == (502, "Runtime.ImportModuleError")
    assert failed.error["errorMessage"] == f"Unable to import module '{package}': No module named '{package}'"
