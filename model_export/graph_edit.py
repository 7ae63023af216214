"""Small, checked edits to a converter's graph so it meets the contract's names and dynamic batch axis."""

from __future__ import annotations

from typing import TYPE_CHECKING

from model_export.deps import require

if TYPE_CHECKING:
    import onnx

BATCH = "batch"


def _rename(model: onnx.ModelProto, old: str, new: str) -> None:
    for node in model.graph.node:
        node.output[:] = [new if name == old else name for name in node.output]
        node.input[:] = [new if name == old else name for name in node.input]
    for output in model.graph.output:
        if output.name == old:
            output.name = new


def rename_output(model: onnx.ModelProto, old: str, new: str) -> None:
    """Rename graph output ``old`` to ``new`` everywhere it is produced or consumed; an intermediate tensor the
    converter already called ``new`` (skl2onnx's passthrough columns can be) is renamed out of the way first."""
    used = {name for node in model.graph.node for name in (*node.input, *node.output)}
    if new != old and new in used:
        spare = next(f"{new}_{index}" for index in range(1, len(used) + 2) if f"{new}_{index}" not in used)
        _rename(model, new, spare)
    _rename(model, old, new)


def _dims(value: onnx.ValueInfoProto) -> list[str | int]:
    dims: list[str | int] = [BATCH]
    for dim in list(value.type.tensor_type.shape.dim)[1:]:
        dims.append(dim.dim_value if dim.HasField("dim_value") else dim.dim_param or -1)
    return dims


def name_batch_axis(model: onnx.ModelProto) -> onnx.ModelProto:
    """Give axis 0 of every tensor input and output the dim_param "batch" (onnx.tools does the edit)."""
    update = require("onnx.tools.update_model_dims").update_inputs_outputs_dims

    def tensors(values: list[onnx.ValueInfoProto]) -> dict[str, list[str | int]]:
        return {value.name: _dims(value) for value in values if value.type.tensor_type.shape.dim}

    updated: onnx.ModelProto = update(model, tensors(list(model.graph.input)), tensors(list(model.graph.output)))
    return updated


def tidy_opsets(model: onnx.ModelProto, *, unused: bool = True) -> None:
    """One opset import per domain (the highest version), and with ``unused=False`` only the domains nodes use.

    skl2onnx can declare the default domain twice, which onnxruntime's quantizer refuses; onnxruntime's
    optimised graphs declare every domain it knows (training, NCHWc, aten, ...), which misleads ``inspect``.
    """
    used = {node.domain or "" for node in model.graph.node} | {""}
    versions: dict[str, int] = {}
    for entry in model.opset_import:
        domain = "" if entry.domain == "ai.onnx" else entry.domain
        if unused or domain in used:
            versions[domain] = max(versions.get(domain, 0), entry.version)
    del model.opset_import[:]
    for domain, version in versions.items():
        entry = model.opset_import.add()
        entry.domain, entry.version = domain, version


def label_names(model: onnx.ModelProto, names: list[str], output: str = "label") -> None:
    """Make ``output`` (a class index, int64 [batch]) the class's name (string [batch]), looked up in the graph from
    ``names``: every path that serves the graph (/v2, batch files, any ONNX runtime) then answers the names, as
    skl2onnx's classifiers do. The index stays inside the graph as ``<output>_index``."""
    onnx = require("onnx")
    index = f"{output}_index"
    _rename(model, output, index)
    table = f"{output}_names"
    encoded = [name.encode("utf-8") for name in names]
    model.graph.node.extend(
        [
            onnx.helper.make_node(
                "Constant",
                [],
                [table],
                value=onnx.helper.make_tensor(table, onnx.TensorProto.STRING, [len(names)], encoded),
            ),
            onnx.helper.make_node("Gather", [table, index], [output], axis=0),
        ]
    )
    position = next(position for position, value in enumerate(model.graph.output) if value.name == index)
    model.graph.output.remove(model.graph.output[position])
    model.graph.output.insert(position, onnx.helper.make_tensor_value_info(output, onnx.TensorProto.STRING, [BATCH]))
