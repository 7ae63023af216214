"""GIVEN ONNX files, written by this tool or not WHEN inspected THEN the signature, protocol datatypes,
metadata and the content hash check are reported, as text and as JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from sklearn.linear_model import LogisticRegression

from handler import __version__
from model_export import NotAModelError, export_sklearn, inspect_model, render_text
from onnx_lambda.cli import main


@pytest.fixture
def exported(tmp_path: Path, classification_data: tuple[np.ndarray, np.ndarray]) -> Path:
    x, y = classification_data
    return export_sklearn(LogisticRegression(max_iter=1000).fit(x, y), tmp_path / "ours.onnx").path


def _foreign(path: Path) -> Path:
    """A model from elsewhere: no metadata_props, its own names, a named dynamic axis and a sequence output."""
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"]), helper.make_node("SequenceConstruct", ["y"], ["parts"])],
        "foreign",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])],
        [
            helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3]),
            helper.make_tensor_sequence_value_info("parts", TensorProto.FLOAT, None),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="elsewhere")
    onnx.save(model, str(path))
    return path


def test_our_file_shows_signature_metadata_and_a_matching_hash(exported: Path) -> None:
    description = inspect_model(exported)
    assert [(t.name, t.onnx_type, t.datatype, t.shape) for t in description.inputs] == [
        ("input", "tensor(float)", "FP32", ("batch", 6))
    ]
    assert [(t.name, t.datatype, t.shape) for t in description.outputs] == [
        ("label", "BYTES", ("batch",)),  # the class values are strings
        ("probabilities", "FP32", ("batch", 3)),
    ]
    assert (description.producer_name, description.producer_version) == ("onnx-lambda", __version__)
    assert description.opsets["ai.onnx"] == 18
    assert description.content_sha256 == "matches"
    text = render_text(description)
    assert "input  tensor(float)   FP32   [batch, 6]" in text
    assert '["ant", "bee", "cat"]' in text
    assert "content_sha256 check: matches" in text


def test_exporting_the_same_weights_again_gives_the_same_hash(
    exported: Path, tmp_path: Path, classification_data: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = classification_data
    again = tmp_path / "again.onnx"
    export_sklearn(LogisticRegression(max_iter=1000).fit(x, y), again)  # as the fixture did: the same weights
    first, second = (onnx.load(str(path)) for path in (exported, again))
    hashes = [{p.key: p.value for p in model.metadata_props}["content_sha256"] for model in (first, second)]
    assert hashes[0] == hashes[1]


def test_changed_metadata_keeps_the_hash_but_a_changed_weight_is_a_mismatch(exported: Path) -> None:
    model = onnx.load(str(exported))
    model.metadata_props.add(key="owner", value="someone else")
    onnx.save(model, str(exported))
    assert inspect_model(exported).content_sha256 == "matches"
    coefficients = next(attr for node in model.graph.node for attr in node.attribute if attr.name == "coefficients")
    coefficients.floats[0] += 1.0
    onnx.save(model, str(exported))
    assert inspect_model(exported).content_sha256.startswith("MISMATCH (graph hashes to ")


def test_foreign_file_without_metadata_is_described_as_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(_foreign(tmp_path / "foreign.onnx"))]) == 0
    text = capsys.readouterr().out
    assert "producer  elsewhere" in text
    assert "opsets ai.onnx 17" in text
    assert "x  tensor(float)   FP32   [N, 3]" in text
    assert "parts  seq(tensor(float)) (not a tensor)" in text
    assert "metadata  (none" in text
    assert "content_sha256 check: not recorded" in text


def test_foreign_file_without_metadata_is_described_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(_foreign(tmp_path / "foreign.onnx")), "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert described["inputs"] == [{"name": "x", "onnx_type": "tensor(float)", "datatype": "FP32", "shape": ["N", 3]}]
    assert [output["datatype"] for output in described["outputs"]] == ["FP32", "NOT_A_TENSOR"]
    assert described["metadata"] == {}
    assert described["opsets"] == {"ai.onnx": 17}
    assert described["content_sha256"] == "not recorded"


def test_every_tensor_type_maps_to_its_open_inference_protocol_datatype(tmp_path: Path) -> None:
    types = {
        "FP32": TensorProto.FLOAT,
        "FP64": TensorProto.DOUBLE,
        "FP16": TensorProto.FLOAT16,
        "BF16": TensorProto.BFLOAT16,
        "INT8": TensorProto.INT8,
        "INT16": TensorProto.INT16,
        "INT32": TensorProto.INT32,
        "INT64": TensorProto.INT64,
        "UINT8": TensorProto.UINT8,
        "UINT16": TensorProto.UINT16,
        "UINT32": TensorProto.UINT32,
        "UINT64": TensorProto.UINT64,
        "BOOL": TensorProto.BOOL,
        "BYTES": TensorProto.STRING,
    }
    graph = helper.make_graph(
        [helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]) for name in types],
        "all_types",
        [helper.make_tensor_value_info(f"in_{name}", elem, ["batch"]) for name, elem in types.items()],
        [helper.make_tensor_value_info(f"out_{name}", elem, ["batch"]) for name, elem in types.items()],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(tmp_path / "t.onnx"))
    description = inspect_model(tmp_path / "t.onnx")
    assert {tensor.name: tensor.datatype for tensor in description.inputs} == {f"in_{name}": name for name in types}


def test_a_file_that_is_not_onnx_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "notes.onnx").write_text("not a model")
    with pytest.raises(NotAModelError, match=r"notes.onnx is not an ONNX model onnxruntime can open"):
        inspect_model(tmp_path / "notes.onnx")
