"""What makes an exported .onnx file self-describing: its metadata_props, set in one place.

The handler reads these keys and nothing else, so their names (``handler.contract.MetadataKey``) and
encodings are the contract: plain strings, structured values JSON-encoded (``handler.contract.JSON_KEYS``).
``content_sha256`` hashes ``model.graph`` only (``model.graph.SerializeToString()``), so adding or editing
metadata_props never changes it, and a changed weight or node always does; ``inspect`` recomputes it to show
whether the graph was altered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from handler import __version__
from handler.contract import MetadataKey as Key

if TYPE_CHECKING:
    import onnx

    from model_export.parity import ParityResult

PRODUCER_NAME = "onnx-lambda"


EXPORTER_VERSION = __version__  # one version for the project: the handler's, whatever pip recorded at install
EXPORTER = f"onnx-lambda model_export {EXPORTER_VERSION}"


@dataclass(frozen=True)
class ModelCard:
    """Everything the metadata says about a model besides the parity figures and the hash."""

    model_name: str
    model_version: str
    task: str
    inputs: Mapping[str, str]
    outputs: Mapping[str, str]
    source_framework: str
    source_framework_version: str
    converter: str
    class_labels: Sequence[str] | None = None
    description: str | None = None
    test_accuracy: float | None = None
    columns: Sequence[Mapping[str, Any]] | None = None  # tabular models: each input column's schema
    image: Mapping[str, Any] | None = None  # image models: the input's contract (handler.image_contract)
    generator: Mapping[str, Any] | None = None  # text generators: vocabulary and step signature (handler.generation)


def content_sha256(model: onnx.ModelProto) -> str:
    """The sha256 of the graph alone (nodes, weights, signature), independent of metadata_props."""
    return hashlib.sha256(model.graph.SerializeToString()).hexdigest()


def metadata_props(card: ModelCard, sha256: str, parity: ParityResult | None = None) -> dict[str, str]:
    """The metadata_props for ``card``, all values strings; optional keys only when known."""
    props = {
        Key.MODEL_NAME: card.model_name,
        Key.MODEL_VERSION: card.model_version,
        Key.TASK: card.task,
        Key.INPUTS: json.dumps(dict(card.inputs)),
        Key.OUTPUTS: json.dumps(dict(card.outputs)),
        Key.SOURCE_FRAMEWORK: card.source_framework,
        Key.SOURCE_FRAMEWORK_VERSION: card.source_framework_version,
        Key.CONVERTER: card.converter,
        Key.EXPORTER: EXPORTER,
        Key.EXPORTED_AT: datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        Key.CONTENT_SHA256: sha256,
    }
    if card.class_labels is not None:
        props[Key.CLASS_LABELS] = json.dumps(list(card.class_labels))
    if parity is not None:
        props[Key.PARITY] = json.dumps(parity.to_dict())
    if card.test_accuracy is not None:
        props[Key.TEST_ACCURACY] = f"{card.test_accuracy:.6g}"
    if card.description:
        props[Key.DESCRIPTION] = card.description
    if card.columns is not None:
        props[Key.COLUMNS] = json.dumps([dict(column) for column in card.columns])
    if card.image is not None:
        props[Key.IMAGE] = json.dumps(dict(card.image))
    if card.generator is not None:
        props[Key.GENERATOR] = json.dumps(dict(card.generator))
    return props


def stamp(model: onnx.ModelProto, props: Mapping[str, str]) -> None:
    """Set ``props`` on the model (replacing any same-named keys) and name onnx-lambda as producer."""
    kept = [(entry.key, entry.value) for entry in model.metadata_props if entry.key not in props]
    del model.metadata_props[:]
    for key, value in [*kept, *props.items()]:
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = PRODUCER_NAME
    model.producer_version = EXPORTER_VERSION


def dims_of(value: onnx.ValueInfoProto) -> list[str | int]:
    """A graph input's or output's shape: ints where fixed, the dim_param name (or "?") where dynamic."""
    dims: list[str | int] = []
    for dim in value.type.tensor_type.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(dim.dim_value)
        else:
            dims.append(dim.dim_param or "?")
    return dims
