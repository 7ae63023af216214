"""``inspect``: the signature and metadata of any ONNX file, whether or not this tool wrote it.

onnxruntime reads the signature, producer, graph name and metadata_props, as the server will, so inspect
works with the runtime dependencies alone (``onnx-lambda inspect`` from a plain install). The onnx package,
when it is installed, adds the opsets, IR version and producer version and recomputes ``content_sha256``
(the sha256 of ``model.graph.SerializeToString()``) to show whether the graph still matches the record;
without it, the description names those fields in ``needs_onnx``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from handler.contract import JSON_KEYS, NOT_A_TENSOR, ONNX_TO_DATATYPE, datatype_of, human_bytes, shape_text
from handler.contract import MetadataKey as Key
from model_export.deps import require
from model_export.errors import MissingDependencyError, NotAModelError
from model_export.metadata import content_sha256

# What only the onnx package can read: field -> how the text names it.
ONNX_ONLY_FIELDS = {
    "producer_version": "producer version",
    "ir_version": "IR version",
    "opsets": "opsets",
    "content_sha256": "content_sha256 check",
}


@dataclass(frozen=True)
class TensorInfo:
    """One graph input or output: name, ONNX type, protocol datatype, shape (dynamic dims by name)."""

    name: str
    onnx_type: str
    datatype: str
    shape: tuple[str | int | None, ...] | None


@dataclass(frozen=True)
class ModelDescription:
    """Everything ``inspect`` says about one file."""

    path: str
    size_bytes: int
    producer_name: str
    producer_version: str | None
    graph_name: str
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    metadata: dict[str, str]
    ir_version: int | None = None
    opsets: dict[str, int] = field(default_factory=dict)
    content_sha256: str = "not recorded"
    needs_onnx: tuple[str, ...] = ()  # the fields left unknown because the onnx package is not installed

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; metadata values holding JSON objects or lists are decoded."""
        return {
            "path": self.path,
            "size_bytes": self.size_bytes,
            "producer_name": self.producer_name,
            "producer_version": self.producer_version,
            "graph_name": self.graph_name,
            "ir_version": self.ir_version,
            "opsets": self.opsets,
            "inputs": [vars(tensor) | {"shape": _list(tensor.shape)} for tensor in self.inputs],
            "outputs": [vars(tensor) | {"shape": _list(tensor.shape)} for tensor in self.outputs],
            "metadata": {key: _decoded(key, value) for key, value in self.metadata.items()},
            "content_sha256": self.content_sha256,
            "needs_onnx": list(self.needs_onnx),
        }


def _list(shape: tuple[str | int | None, ...] | None) -> list[str | int | None] | None:
    return None if shape is None else list(shape)


def _decoded(key: str, value: str) -> Any:
    """A JSON object or list stays structured; everything else (including "1") stays the string it was."""
    try:
        decoded = json.loads(value)
    except json.JSONDecodeError:
        return value
    return decoded if isinstance(decoded, dict | list) or key in JSON_KEYS else value


def _tensor(node: Any) -> TensorInfo:
    is_tensor = node.type in ONNX_TO_DATATYPE
    shape = tuple(dim if isinstance(dim, int | str) and dim != "" else None for dim in node.shape or [])
    return TensorInfo(node.name, node.type, datatype_of(node.type), shape if is_tensor else None)


def _onnx_details(path: Path, metadata: dict[str, str]) -> dict[str, Any]:
    """Opsets, IR and producer version, and the hash check, when the onnx package is importable."""
    try:
        onnx = require("onnx")
    except MissingDependencyError:
        if Key.CONTENT_SHA256 not in metadata:  # nothing to verify: stays "not recorded"
            return {"needs_onnx": tuple(name for name in ONNX_ONLY_FIELDS if name != "content_sha256")}
        unverified = "not verified: the onnx package is not installed"
        return {"content_sha256": unverified, "needs_onnx": tuple(ONNX_ONLY_FIELDS)}
    model = onnx.load(str(path), load_external_data=False)
    details: dict[str, Any] = {
        "ir_version": model.ir_version,
        "opsets": {entry.domain or "ai.onnx": entry.version for entry in model.opset_import},
        "producer_version": model.producer_version or None,
    }
    recorded = metadata.get(Key.CONTENT_SHA256)
    if recorded is not None:
        computed = content_sha256(model)
        details["content_sha256"] = "matches" if computed == recorded else f"MISMATCH (graph hashes to {computed})"
    return details


def inspect_model(path: str | Path) -> ModelDescription:
    """Describe an ONNX file; raises NotAModelError when onnxruntime cannot open it."""
    path = Path(path)
    ort = require("onnxruntime")
    if not path.is_file():
        raise NotAModelError(f"{path} is not a file: expected an ONNX model")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotAModelError(f"{path} is not an ONNX model onnxruntime can open: {first}") from None
    meta = session.get_modelmeta()
    metadata = dict(sorted(dict(meta.custom_metadata_map).items()))
    return ModelDescription(
        path=str(path),
        size_bytes=path.stat().st_size,
        producer_name=meta.producer_name,
        graph_name=meta.graph_name,
        inputs=tuple(_tensor(node) for node in session.get_inputs()),
        outputs=tuple(_tensor(node) for node in session.get_outputs()),
        metadata=metadata,
        **{"producer_version": None, **_onnx_details(path, metadata)},
    )


def _signature_lines(title: str, tensors: Sequence[TensorInfo]) -> list[str]:
    width = max((len(tensor.name) for tensor in tensors), default=0)
    lines = [title]
    for tensor in tensors:
        shape = "" if tensor.shape is None else shape_text(tensor.shape)
        datatype = "(not a tensor)" if tensor.datatype == NOT_A_TENSOR else tensor.datatype
        lines.append(f"  {tensor.name:<{width}}  {tensor.onnx_type:<15} {datatype:<6} {shape}".rstrip())
    return lines


def _metadata_lines(metadata: dict[str, str]) -> list[str]:
    if not metadata:
        return ["metadata  (none: not written by onnx-lambda, or written without metadata_props)"]
    width = max(len(key) for key in metadata)
    lines = ["metadata"]
    for key, value in metadata.items():
        decoded = _decoded(key, value)
        text = json.dumps(decoded, indent=2) if isinstance(decoded, dict) else value
        text = json.dumps(decoded) if isinstance(decoded, list) else text
        first, *rest = text.splitlines() or [""]
        lines.append(f"  {key:<{width}}  {first}")
        lines += [f"  {'':<{width}}  {line}" for line in rest]
    return lines


def _graph_line(description: ModelDescription) -> str:
    name = description.graph_name or "-"
    if "ir_version" in description.needs_onnx:
        return f"graph     {name} (IR version and opsets need the onnx package)"
    opsets = ", ".join(f"{domain} {version}" for domain, version in description.opsets.items()) or "unknown"
    return f"graph     {name}, IR version {description.ir_version or 'unknown'}, opsets {opsets}"


def _needs_onnx_line(description: ModelDescription) -> list[str]:
    """Which fields are missing, and why, so a short description is not mistaken for a complete one."""
    if not description.needs_onnx:
        return []
    fields = ", ".join(ONNX_ONLY_FIELDS[name] for name in description.needs_onnx)
    return [f"not shown without the onnx package (pip install onnx, or the export extra): {fields}"]


def render_text(description: ModelDescription) -> str:
    """The description as aligned text for a terminal."""
    producer = " ".join(part for part in (description.producer_name, description.producer_version) if part)
    lines = [
        f"{description.path} ({human_bytes(description.size_bytes)})",
        f"producer  {producer or 'unknown'}",
        _graph_line(description),
        *_signature_lines("inputs", description.inputs),
        *_signature_lines("outputs", description.outputs),
        *_metadata_lines(description.metadata),
        f"content_sha256 check: {description.content_sha256}",
        *_needs_onnx_line(description),
    ]
    return "\n".join(lines)
