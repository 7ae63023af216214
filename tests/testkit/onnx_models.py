"""Tiny ONNX graphs built with onnx.helper, for tests that need a model of a particular shape or type."""

from __future__ import annotations

import json
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


# --- models the server must refuse at INIT: each loads in onnxruntime, or names exactly why it does not ---


def one_op(
    path: Path,
    op: str,
    *,
    inputs: list[onnx.ValueInfoProto],
    outputs: list[onnx.ValueInfoProto],
    initializer: list[onnx.TensorProto] | None = None,
    metadata: dict[str, str] | None = None,
    **attributes: object,
) -> Path:
    """A graph of one ``op`` node from every input to every output, checked and saved."""
    node = helper.make_node(
        op,
        [value.name for value in inputs] + [t.name for t in initializer or []],
        [value.name for value in outputs],
        **attributes,
    )
    graph = helper.make_graph([node], op.lower(), inputs, outputs, initializer=initializer or [])
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path, metadata)


def tensor(name: str, elem: int, shape: list[int | str] | None) -> onnx.ValueInfoProto:
    """A tensor input or output; ``shape`` mixes fixed sizes and symbolic names ("batch")."""
    return helper.make_tensor_value_info(name, elem, shape)


def bfloat16_input(path: Path) -> Path:
    """Input x bfloat16 [batch, 2]: a type onnxruntime's Python API cannot be fed."""
    return one_op(
        path,
        "Cast",
        inputs=[tensor("x", TensorProto.BFLOAT16, ["batch", 2])],
        outputs=[tensor("y", TensorProto.FLOAT, ["batch", 2])],
        to=TensorProto.FLOAT,
    )


def bfloat16_output(path: Path) -> Path:
    """Output y bfloat16 [batch, 2]: a type onnxruntime's Python API cannot return."""
    return one_op(
        path,
        "Cast",
        inputs=[tensor("x", TensorProto.FLOAT, ["batch", 2])],
        outputs=[tensor("y", TensorProto.BFLOAT16, ["batch", 2])],
        to=TensorProto.BFLOAT16,
    )


def sequence_output(path: Path) -> Path:
    """The only output is a sequence of tensors, which the Open Inference Protocol cannot carry."""
    output = helper.make_tensor_sequence_value_info("y", TensorProto.FLOAT, None)
    return one_op(path, "SequenceConstruct", inputs=[tensor("x", TensorProto.FLOAT, ["batch", 2])], outputs=[output])


def fixed_reshape(path: Path, rows: int) -> Path:
    """Input x float [batch, 3] reshaped to a fixed [rows, 3]: runs only when the batch is exactly ``rows``,
    though the batch axis is declared dynamic (an export that hard-coded its batch, e.g. ``x.view(1, -1)``)."""
    shape = helper.make_tensor("shape", TensorProto.INT64, [2], [rows, 3])
    return one_op(
        path,
        "Reshape",
        inputs=[tensor("x", TensorProto.FLOAT, ["batch", 3])],
        outputs=[tensor("y", TensorProto.FLOAT, [rows, 3])],
        initializer=[shape],
    )


def fixed_batch(path: Path, size: int) -> Path:
    """Identity on x float [size, 3]: a batch dimension fixed in the graph."""
    return one_op(
        path,
        "Identity",
        inputs=[tensor("x", TensorProto.FLOAT, [size, 3])],
        outputs=[tensor("y", TensorProto.FLOAT, [size, 3])],
    )


def classifier(path: Path, classes: int, labels: list[str]) -> Path:
    """probabilities = softmax(x), x float [batch, classes], with ``labels`` as metadata_props class_labels."""
    return one_op(
        path,
        "Softmax",
        inputs=[tensor("x", TensorProto.FLOAT, ["batch", classes])],
        outputs=[tensor("probabilities", TensorProto.FLOAT, ["batch", classes])],
        metadata={"class_labels": json.dumps(labels)},
    )


def gather_by_index(path: Path) -> Path:
    """y = [10, 20, 30][index], index int64 [batch, 1]: any index outside 0..2 fails inside onnxruntime at run
    time, after a warm-up (index 0) that succeeds; the one way a request reaches an internal error."""
    table = helper.make_tensor("table", TensorProto.FLOAT, [3], [10.0, 20.0, 30.0])
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "index"], ["y"], axis=0)],
        "gather_by_index",
        [tensor("index", TensorProto.INT64, ["batch", 1])],
        [tensor("y", TensorProto.FLOAT, ["batch", 1])],
        initializer=[table],
    )
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


def future_version(path: Path, *, opset: int = 17, ir_version: int | None = None) -> Path:
    """Identity x -> y stamped with an opset or IR version newer than onnxruntime knows."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "future",
        [tensor("x", TensorProto.FLOAT, ["batch", 3])],
        [tensor("y", TensorProto.FLOAT, ["batch", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    if ir_version is not None:
        model.ir_version = ir_version
    onnx.save(model, str(path))  # not write(): onnx.checker refuses these too
    return path


def decimal_strings(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """A model that parses its strings: amount BYTES [batch, 1] of decimal digits -> cents = int64(amount) * 100.
    Fed "" it fails (onnxruntime's Cast calls std::stoll), as such graphs do."""
    graph = helper.make_graph(
        [
            helper.make_node("Cast", ["amount"], ["parsed"], to=TensorProto.INT64),
            helper.make_node("Mul", ["parsed", "hundred"], ["cents"]),
        ],
        "decimal_strings",
        [helper.make_tensor_value_info("amount", TensorProto.STRING, ["batch", 1])],
        [helper.make_tensor_value_info("cents", TensorProto.INT64, ["batch", 1])],
        initializer=[helper.make_tensor("hundred", TensorProto.INT64, [], [100])],
    )
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path, metadata)


def slow_loop(path: Path, width: int = 256) -> Path:
    """A model whose run time the request sets: y = x @ I, ``max(steps)`` times in an ONNX Loop. x float32
    [batch, width], steps int64 [batch] (zeros, as a warm-up sends, cost nothing); output y like x."""
    body = helper.make_graph(
        [
            helper.make_node("MatMul", ["y_in", "eye"], ["y_out"]),
            helper.make_node("Identity", ["cond_in"], ["cond_out"]),
        ],
        "step",
        [
            helper.make_tensor_value_info("i", TensorProto.INT64, []),
            helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
            helper.make_tensor_value_info("y_in", TensorProto.FLOAT, ["batch", width]),
        ],
        [
            helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
            helper.make_tensor_value_info("y_out", TensorProto.FLOAT, ["batch", width]),
        ],
    )
    identity = [1.0 if row == column else 0.0 for row in range(width) for column in range(width)]
    graph = helper.make_graph(
        [
            helper.make_node("ReduceMax", ["steps"], ["trips"], keepdims=0),
            helper.make_node("Loop", ["trips", "always", "x"], ["y"], body=body),
        ],
        "slow_loop",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", width]),
            helper.make_tensor_value_info("steps", TensorProto.INT64, ["batch"]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", width])],
        initializer=[
            helper.make_tensor("eye", TensorProto.FLOAT, [width, width], identity),
            helper.make_tensor("always", TensorProto.BOOL, [], [True]),
        ],
    )
    return write(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
