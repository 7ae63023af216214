"""GIVEN a small ONNX graph WHEN it is loaded, described and fed THEN its name, version, task and outputs come from the
settings, its metadata or its file, feeds whose names, datatypes, shapes or batch differ from the graph's are refused
in words saying what the model expects, values the graph cannot run on are the client's to fix (not a 500), and a
model that cannot be served fails to load naming the file and the cause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from handler.errors import BadRequest, ModelLoadError, PayloadTooLarge, Unprocessable, ort_reason
from handler.model import (
    ModelInfo,
    OnnxModel,
    _probabilities_output,
    load_model,
    servable_problem,
)
from handler.settings import Settings
from handler.signature import TensorSpec
from handler.warmup import batch_axis_proven
from tests.testkit import onnx_models

EXPECTS_INPUT = "'input' with shape [batch, 3] and datatype FP32"


def spec(name: str, datatype: str, shape: tuple[int, ...], onnx_type: str = "") -> TensorSpec:
    names = tuple("batch" if size < 0 else None for size in shape)
    return TensorSpec(name, datatype, shape, names, onnx_type or f"tensor({datatype.lower()})")


def info_of(inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...]) -> ModelInfo:
    return ModelInfo("m", "1", inputs, outputs, {}, "regression", None, None)


def loaded(path: Path, **settings: Any) -> OnnxModel:
    model, _ = load_model(Settings(model_path=path, **settings), "on-demand")
    return model


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model-unit")


@pytest.fixture(scope="module")
def scaler(models: Path) -> OnnxModel:
    """output = input * 2, float32 [batch, 3]; at most 2 instances a request."""
    return loaded(onnx_models.scaler(models / "scaler.onnx", factor=2.0), max_batch_size=2)


def test_unknown_and_missing_inputs_are_named_together_with_what_the_model_expects(models: Path) -> None:
    model = loaded(onnx_models.two_inputs(models / "two.onnx"))
    feeds = {"a": np.zeros((1, 2), np.float32), "c": np.zeros((1, 2), np.float32)}
    with pytest.raises(BadRequest) as raised:
        model.check_inputs(feeds)
    assert raised.value.message == (
        "unknown input 'c'; missing input 'b': the model expects 'a' with shape [batch, 2] and datatype FP32, "
        "'b' with shape [batch, 2] and datatype FP32"
    )


def test_a_feed_of_another_datatype_is_refused_naming_the_expected_one(scaler: OnnxModel) -> None:
    with pytest.raises(BadRequest) as raised:
        scaler.check_inputs({"input": np.zeros((1, 3), np.float64)})
    assert raised.value.message == f"input 'input' has the wrong datatype: expected {EXPECTS_INPUT}"


@pytest.mark.parametrize("shape", [(1, 4), (3,), (1, 3, 1)])
def test_a_feed_whose_shape_does_not_fit_is_refused_quoting_its_shape(
    scaler: OnnxModel, shape: tuple[int, ...]
) -> None:
    with pytest.raises(BadRequest) as raised:
        scaler.check_inputs({"input": np.zeros(shape, np.float32)})
    assert (
        raised.value.message == f"input 'input' has shape {list(shape)}, which does not fit: expected {EXPECTS_INPUT}"
    )


def test_a_batch_up_to_max_batch_size_runs_and_one_more_is_payload_too_large(scaler: OnnxModel) -> None:
    assert scaler.infer({"input": np.ones((2, 3), np.float32)})["output"].shape == (2, 3)
    with pytest.raises(PayloadTooLarge) as raised:
        scaler.infer({"input": np.ones((3, 3), np.float32)})
    assert raised.value.message == (
        "input 'input' has a batch of 3, over the limit of 2 (MAX_BATCH_SIZE); split the request"
    )


def test_an_empty_batch_is_refused_asking_for_one_instance_at_least(scaler: OnnxModel) -> None:
    with pytest.raises(BadRequest) as raised:
        scaler.check_inputs({"input": np.zeros((0, 3), np.float32)})
    assert raised.value.message == "input 'input' is empty (shape [0, 3]): send at least one instance"


def test_infer_gives_the_graphs_values_and_the_three_phases_it_took(scaler: OnnxModel) -> None:
    phases: list[int] = []
    results = scaler.infer({"input": np.array([[1.0, -2.0, 0.5]], np.float32)}, ["output"], phases)
    assert list(results) == ["output"]
    assert results["output"].tolist() == [[2.0, -4.0, 1.0]]
    assert len(phases) == 3
    assert all(isinstance(phase, int) and phase >= 0 for phase in phases)


def test_outputs_are_every_tensor_output_unless_named_and_each_name_counts_once(default_model: Path) -> None:
    model = loaded(default_model)
    assert model.output_names(None) == ["label", "probabilities"]
    assert model.output_names([]) == ["label", "probabilities"]
    assert model.output_names(["probabilities", "label", "probabilities"]) == ["probabilities", "label"]
    with pytest.raises(BadRequest) as raised:
        model.output_names(["label", "logits", "scores"])
    assert raised.value.message == "unknown output 'logits', 'scores': the model's outputs are 'label', 'probabilities'"


def test_values_the_graph_cannot_run_on_are_unprocessable_in_onnxruntimes_words_without_its_noise(
    models: Path,
) -> None:
    model = loaded(onnx_models.gather_by_index(models / "gather.onnx"))
    assert model.infer({"index": np.array([[2]], np.int64)})["y"].tolist() == [[30.0]]
    with pytest.raises(Unprocessable) as raised:
        model.infer({"index": np.array([[5]], np.int64)})
    message = raised.value.message
    assert message.startswith("the model could not run on this input: Non-zero status code returned while running")
    assert "idx=5" in message
    assert "[ONNXRuntimeError]" not in message
    assert "\n" not in message


def test_onnxruntimes_status_prefix_and_source_location_are_dropped_and_the_message_is_one_line() -> None:
    raw = (
        "[ONNXRuntimeError] : 2 : INVALID_ARGUMENT : /onnxruntime_src/onnxruntime/core/providers/cpu/tensor/"
        "reshape_helper.h:47 onnxruntime::ReshapeHelper::ReshapeHelper(const onnxruntime::TensorShape&, "
        "onnxruntime::TensorShapeVector&, bool) input_shape_size == requested_shape_size was false.\n"
        "  The input tensor cannot be reshaped."
    )
    assert ort_reason(Exception(raw)) == (
        "input_shape_size == requested_shape_size was false. The input tensor cannot be reshaped."
    )
    assert ort_reason(Exception("plain  words\tonly")) == "plain words only"
    const_method = (
        "/onnxruntime_src/onnxruntime/core/op.cc:12 void Op::Compute(OpKernelContext*) const idx out of range"
    )
    assert ort_reason(Exception(const_method)) == "idx out of range"  # a const method's qualifier goes too


@pytest.mark.parametrize(
    ("settings", "metadata", "expected"),
    [
        ({}, {}, ("scaler", "1")),
        ({}, {"model_name": "meta", "model_version": "5"}, ("meta", "5")),
        ({"model_name": "given", "model_version": "9"}, {"model_name": "meta", "model_version": "5"}, ("given", "9")),
    ],
)
def test_the_name_and_version_come_from_the_settings_then_the_metadata_then_the_file(
    tmp_path: Path, settings: dict[str, str], metadata: dict[str, str], expected: tuple[str, str]
) -> None:
    model = loaded(onnx_models.scaler(tmp_path / "scaler.onnx", metadata=metadata), **settings)
    assert (model.info.name, model.info.version) == expected
    assert model.info.task == "regression"
    assert model.info.probabilities_output is None


def test_a_graph_giving_probabilities_is_a_classifier_unless_its_metadata_says_otherwise(tmp_path: Path) -> None:
    classifier = loaded(onnx_models.classifier(tmp_path / "c.onnx", 2, ["cat", "dog"]))
    assert (classifier.info.task, classifier.info.probabilities_output) == ("classification", "probabilities")
    assert classifier.info.class_labels == ["cat", "dog"]
    declared = onnx_models.one_op(
        tmp_path / "r.onnx",
        "Softmax",
        inputs=[onnx_models.tensor("x", onnx_models.DATATYPES["FP32"], ["batch", 2])],
        outputs=[onnx_models.tensor("probabilities", onnx_models.DATATYPES["FP32"], ["batch", 2])],
        metadata={"task": "regression"},
    )
    regressor = loaded(declared)
    assert (regressor.info.task, regressor.info.probabilities_output) == ("regression", None)


def test_the_probabilities_output_is_the_one_so_named_else_a_2d_float_output_whose_name_says_prob() -> None:
    exact = spec("probabilities", "FP32", (-1, 3))
    guessed = spec("output_Probability", "FP64", (-1, 3))
    assert _probabilities_output([guessed, exact]) == "probabilities"
    assert _probabilities_output([spec("label", "INT64", (-1,)), guessed]) == "output_Probability"
    assert _probabilities_output([spec("probabilities", "FP32", (-1,))]) is None  # not one row per instance
    assert _probabilities_output([spec("prob", "INT64", (-1, 3))]) is None  # not floats
    assert _probabilities_output([spec("scores", "FP32", (-1, 3))]) is None


@pytest.mark.parametrize(
    ("inputs", "outputs", "problem"),
    [
        ((spec("x", "FP32", (-1, 0)),), (spec("y", "FP32", (-1,)),), "has a dimension fixed at 0"),
        ((spec("x", "FP32", (4, 3)),), (spec("y", "FP32", (4,)),), None),  # a fixed batch of exactly MAX_BATCH_SIZE
        ((spec("x", "FP32", (5, 3)),), (spec("y", "FP32", (5,)),), "first (batch) dimension fixed at 5, over "),
        ((spec("x", "BF16", (-1, 2)),), (spec("y", "FP32", (-1,)),), "which no request can carry"),
        ((spec("x", "FP32", (-1, 2)),), (spec("y", "BF16", (-1, 2)),), "which onnxruntime cannot return to Python"),
        (
            (spec("x", "FP32", (-1, 2)),),
            (spec("y", "NOT_A_TENSOR", (), "seq(tensor(float))"),),
            "none of its outputs is a tensor the protocol can carry: 'y' (seq(tensor(float)))",
        ),
    ],
)
def test_a_signature_that_cannot_be_served_is_named_before_any_inference(
    inputs: tuple[TensorSpec, ...], outputs: tuple[TensorSpec, ...], problem: str | None
) -> None:
    found = servable_problem(info_of(inputs, outputs), max_batch_size=4)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_outputs_the_protocol_cannot_carry_are_left_out_of_the_tensor_outputs() -> None:
    info = info_of((spec("x", "FP32", (-1, 2)),), (spec("map", "NOT_A_TENSOR", ()), spec("y", "FP32", (-1,))))
    assert [output.name for output in info.tensor_outputs] == ["y"]


def test_a_loaded_model_reports_its_file_threads_and_how_it_was_initialised(models: Path) -> None:
    path = onnx_models.scaler(models / "report.onnx")
    model, report = load_model(Settings(model_path=path, intra_op_threads=1), "provisioned-concurrency")
    assert (report.model_path, report.threads, report.initialization_type) == (
        str(path),
        1,
        "provisioned-concurrency",
    )
    assert report.session_ms >= 0
    assert report.warmup_ms >= 0
    assert model.info.name == "report"


def test_a_graph_that_runs_only_one_instance_fails_to_load_unless_max_batch_size_is_one(models: Path) -> None:
    path = onnx_models.fixed_reshape(models / "one-row.onnx", rows=1)
    with pytest.raises(ModelLoadError) as raised:
        loaded(path)
    assert str(raised.value).startswith(
        f"the warm-up inference on {str(path)!r} failed for 2 instances (its first dimension is dynamic): "
    )
    assert "Input shape:{2,3}, requested shape:{1,3}" in str(raised.value)
    assert loaded(path, max_batch_size=1).max_batch_size == 1  # one instance is all it is ever sent


def not_onnx(path: Path) -> Path:
    path.write_bytes(b"not onnx")
    return path


@pytest.mark.parametrize(
    ("build", "words"),
    [
        (lambda path: path, "is not a file: export a model first (make model)"),
        (not_onnx, "is not a loadable ONNX model: "),
        (
            lambda path: onnx_models.classifier(path, 3, ["cat", "dog"]),
            "cannot be served: metadata_props 'class_labels' names 2 classes but output 'probabilities' gives 3 "
            "probabilities per instance",
        ),
        (
            onnx_models.decimal_strings,
            "its BYTES input(s) ['amount'] were warmed up with \"\": give the model a warm-up request it can take, "
            "as m.onnx.warmup.json beside it",
        ),
    ],
    ids=["missing", "not-onnx", "class-labels-mismatch", "bytes-warm-up"],
)
def test_a_model_that_cannot_be_served_fails_to_load_naming_the_file_and_the_cause(
    tmp_path: Path, build: Callable[[Path], Path], words: str
) -> None:
    path = build(tmp_path / "m.onnx")
    with pytest.raises(ModelLoadError) as raised:
        loaded(path)
    assert str(path) in str(raised.value)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("parity", "proven"),
    [
        ('{"samples": 363, "batch_sizes": [3, 360]}', True),
        ('{"samples": 1, "batch_sizes": [1]}', False),
        ('{"samples": 363}', False),  # exported before parity recorded its batches
        ("not json", False),
        ('["a list"]', False),
        (None, False),  # not exported here: no parity at all
    ],
)
def test_only_a_parity_run_on_a_batch_of_two_or_more_proves_the_batch_axis(parity: str | None, proven: bool) -> None:
    assert batch_axis_proven(parity) is proven
