"""Tiny ONNX graphs built with onnx.helper, for tests that need a model of a particular shape or type."""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

# ONNX element types the Open Inference Protocol can carry, by protocol name.
DATATYPES: dict[str, int] = {
    "BOOL": TensorProto.BOOL,
    "UINT8": TensorProto.UINT8,
    "UINT16": TensorProto.UINT16,
    "UINT32": TensorProto.UINT32,
    "UINT64": TensorProto.UINT64,
    "INT8": TensorProto.INT8,
    "INT16": TensorProto.INT16,
    "INT32": TensorProto.INT32,
    "INT64": TensorProto.INT64,
    "FP16": TensorProto.FLOAT16,
    "FP32": TensorProto.FLOAT,
    "FP64": TensorProto.DOUBLE,
    "BYTES": TensorProto.STRING,
}


def write(model: onnx.ModelProto, path: Path, metadata: dict[str, str] | None = None) -> Path:
    """Check and save a model, with optional metadata_props."""
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def identity_per_datatype(path: Path) -> Path:
    """One Identity node per datatype: input in_<DT> [batch, 2] -> output out_<DT>, same type and shape."""
    inputs, outputs, nodes = [], [], []
    for name, elem in DATATYPES.items():
        inputs.append(helper.make_tensor_value_info(f"in_{name}", elem, ["batch", 2]))
        outputs.append(helper.make_tensor_value_info(f"out_{name}", elem, ["batch", 2]))
        nodes.append(helper.make_node("Identity", [f"in_{name}"], [f"out_{name}"]))
    graph = helper.make_graph(nodes, "identity_per_datatype", inputs, outputs)
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def scaler(path: Path, *, factor: float = 2.0, metadata: dict[str, str] | None = None) -> Path:
    """A regression-like model: output = input * factor, input float32 [batch, 3]."""
    graph = helper.make_graph(
        [helper.make_node("Mul", ["input", "factor"], ["output"])],
        "scaler",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch", 3])],
        initializer=[helper.make_tensor("factor", TensorProto.FLOAT, [], [factor])],
    )
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path, metadata)


def two_inputs(path: Path) -> Path:
    """output = a + b, both float32 [batch, 2]: a model whose /predict instances are objects."""
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["sum"])],
        "two_inputs",
        [
            helper.make_tensor_value_info("a", TensorProto.FLOAT, ["batch", 2]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, ["batch", 2]),
        ],
        [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 2])],
    )
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
