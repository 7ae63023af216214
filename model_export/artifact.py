"""From an in-memory ONNX model to a file on disk, only after the parity check has passed.

The same steps for every framework: open the candidate in onnxruntime, run both models on the same
batches (two batch sizes, so a fixed batch axis cannot slip through), compare, attach the metadata,
and write atomically so a reader never sees half a file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.metadata import ModelCard, attach, content_sha256, metadata_props
from model_export.parity import ParityReport, Tolerance, compare, merge

# Runs the source model on one batch: numeric outputs by ONNX output name, and predicted labels or None.
SourceRunner = Callable[[np.ndarray], tuple[dict[str, np.ndarray], np.ndarray | None]]


@dataclass(frozen=True)
class ExportReport:
    """What was written and how well it matched the source model."""

    path: Path
    model_name: str
    model_version: str
    task: str
    parity: ParityReport
    size_bytes: int
    content_sha256: str


def onnx_session(model: Any) -> Any:
    """An onnxruntime session over an in-memory model (nothing on disk yet)."""
    ort = require("onnxruntime")
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def check_parity(
    model: Any, run_source: SourceRunner, batches: Sequence[np.ndarray], tolerance: Tolerance
) -> ParityReport:
    """Run source and ONNX on each batch and compare; raises ParityError on any mismatch."""
    session = onnx_session(model)
    names = [output.name for output in session.get_outputs()]
    reports = []
    for batch in batches:
        expected, source_labels = run_source(batch)
        results = dict(zip(names, session.run(names, {"input": batch}), strict=True))
        labels = None if source_labels is None else (source_labels, results["label"])
        actual = {name: results[name] for name in expected}
        reports.append(compare(expected, actual, tolerance, labels))
    return merge(reports)


def name_batch_axis(model: Any) -> None:
    """Call the first axis of every graph input and output "batch" where the converter left it unnamed."""
    for value in [*model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if dims and not dims[0].dim_param and not dims[0].HasField("dim_value"):
            dims[0].dim_param = "batch"


def write_atomically(data: bytes, path: Path) -> None:
    """Write to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def finish(
    model: Any,
    card: ModelCard,
    *,
    run_source: SourceRunner,
    batches: Sequence[np.ndarray],
    tolerance: Tolerance,
    path: Path,
) -> ExportReport:
    """Check parity, attach metadata and write ``path``; raises ParityError before writing anything."""
    name_batch_axis(model)
    parity = check_parity(model, run_source, batches, tolerance)
    sha256 = content_sha256(model)
    attach(model, metadata_props(card, parity, sha256))
    data = model.SerializeToString()
    write_atomically(data, path)
    return ExportReport(path, card.name, card.version, card.task, parity, len(data), sha256)
