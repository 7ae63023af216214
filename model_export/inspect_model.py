"""`inspect`: the signature and metadata of any ONNX file, ours or not.

onnxruntime reads the signature and metadata_props (as the server does); the onnx package, when
installed, adds opsets and IR version and re-checks ``content_sha256`` against the graph.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from handler.signature import TensorSpec, specs_from_nodes
from model_export.deps import require
from model_export.errors import MissingDependencyError, NotAModelError
from model_export.metadata import content_sha256


@dataclass(frozen=True)
class ModelDescription:
    """Everything `inspect` reports about one file."""

    path: str
    size_bytes: int
    producer: str
    graph_name: str
    inputs: list[dict[str, Any]]
    outputs: list[dict[str, Any]]
    metadata: dict[str, str]
    opsets: dict[str, int] = field(default_factory=dict)
    ir_version: int | None = None
    hash_check: str | None = None


def _tensor(spec: TensorSpec) -> dict[str, Any]:
    return {"name": spec.name, "onnx_type": spec.onnx_type, "datatype": spec.datatype, "shape": spec.shape_text()}


def inspect_model(path: Path) -> ModelDescription:
    """Describe ``path``; raises NotAModelError when onnxruntime cannot open it."""
    ort = require("onnxruntime")
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise NotAModelError(f"{path} is not an ONNX model onnxruntime can open: {exc}") from None
    meta = session.get_modelmeta()
    metadata = dict(meta.custom_metadata_map)
    description = ModelDescription(
        path=str(path),
        size_bytes=path.stat().st_size,
        producer=meta.producer_name,
        graph_name=meta.graph_name,
        inputs=[_tensor(spec) for spec in specs_from_nodes(session.get_inputs(), {})],
        outputs=[_tensor(spec) for spec in specs_from_nodes(session.get_outputs(), {})],
        metadata=dict(sorted(metadata.items())),
    )
    return _with_onnx_details(description, path)


def _with_onnx_details(description: ModelDescription, path: Path) -> ModelDescription:
    try:
        onnx = require("onnx")
    except MissingDependencyError:
        return description
    model = onnx.load(str(path), load_external_data=False)
    recorded = description.metadata.get("content_sha256")
    check = None if recorded is None else ("matches" if recorded == content_sha256(model) else "MISMATCH")
    opsets = {entry.domain or "ai.onnx": int(entry.version) for entry in model.opset_import}
    producer = f"{model.producer_name} {model.producer_version}".strip()
    details = {"producer": producer, "opsets": opsets, "ir_version": model.ir_version, "hash_check": check}
    return ModelDescription(**{**asdict(description), **details})


def render_text(description: ModelDescription) -> str:
    """A person-readable report."""
    lines = [
        f"{description.path}  ({description.size_bytes:,} bytes)",
        f"producer: {description.producer or '-'}   graph: {description.graph_name or '-'}",
    ]
    if description.opsets:
        opsets = ", ".join(f"{domain} {version}" for domain, version in description.opsets.items())
        lines.append(f"opsets: {opsets}   IR version: {description.ir_version}")
    for title, tensors in (("inputs", description.inputs), ("outputs", description.outputs)):
        lines.append(f"{title}:")
        lines += [f"  {t['name']:<20} {t['datatype']:<6} {t['shape']:<20} {t['onnx_type']}" for t in tensors]
    lines.append("metadata:" if description.metadata else "metadata: (none)")
    for key, value in description.metadata.items():
        lines.append(f"  {key}: {_pretty(value)}")
    if description.hash_check:
        lines.append(f"content_sha256 check: {description.hash_check}")
    return "\n".join(lines)


def _pretty(value: str) -> str:
    if value[:1] in "[{":
        try:
            return json.dumps(json.loads(value), indent=4).replace("\n", "\n  ")
        except json.JSONDecodeError:
            return value
    return value
