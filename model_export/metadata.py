"""What an exported model says about itself, in ONNX ``metadata_props``: the server's only source.

Every value is a string; structured ones are JSON. ``content_sha256`` hashes the serialized graph only
(weights and nodes, not the metadata), so it identifies the computation and survives re-labelling.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from handler import __version__
from model_export.errors import ShapeMismatchError
from model_export.parity import ParityReport

EXPORTER = f"onnx-lambda model_export {__version__}"


@dataclass(frozen=True)
class ModelCard:
    """The human facts about a model that the graph cannot carry."""

    name: str
    version: str
    task: str
    inputs: dict[str, str]
    outputs: dict[str, str]
    source_framework: str
    source_framework_version: str
    converter: str
    class_labels: list[str] | None = None
    description: str | None = None
    test_accuracy: float | None = None
    extra: dict[str, str] = field(default_factory=dict)


def checked_labels(given: list[str] | None, default: list[str] | None) -> list[str] | None:
    """The class labels to record: the user's, if they number as many as the model's classes."""
    if given is None or default is None:
        return given or default
    if len(given) != len(default):
        raise ShapeMismatchError(f"{len(given)} class labels were given, but the model has {len(default)} classes")
    return given


def content_sha256(model: Any) -> str:
    """sha256 of the serialized graph: changes with any weight or node, not with metadata."""
    return hashlib.sha256(model.graph.SerializeToString()).hexdigest()


def metadata_props(card: ModelCard, parity: ParityReport, sha256: str) -> dict[str, str]:
    """The metadata_props to write, as strings."""
    props = {
        "model_name": card.name,
        "model_version": card.version,
        "task": card.task,
        "inputs": json.dumps(card.inputs),
        "outputs": json.dumps(card.outputs),
        "source_framework": card.source_framework,
        "source_framework_version": card.source_framework_version,
        "converter": card.converter,
        "exporter": EXPORTER,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "parity": json.dumps(parity.as_dict()),
        "content_sha256": sha256,
    }
    if card.class_labels is not None:
        props["class_labels"] = json.dumps(card.class_labels)
    if card.description:
        props["description"] = card.description
    if card.test_accuracy is not None:
        props["test_accuracy"] = f"{card.test_accuracy:.4f}"
    return {**props, **card.extra}


def attach(model: Any, props: dict[str, str]) -> None:
    """Replace the model's metadata_props with ``props`` and mark this tool as the producer."""
    del model.metadata_props[:]
    for key, value in props.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    model.producer_name = "onnx-lambda"
    model.producer_version = __version__
