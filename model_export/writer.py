"""The last steps every export shares: metadata, the parity check, then one atomic write.

Nothing touches the output path until the in-memory model has passed ``onnx.checker`` and the parity
check, so a failed export leaves no file (and an existing file at that path stays as it was).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model_export.deps import require
from model_export.errors import UnsupportedModelError
from model_export.metadata import ModelCard, content_sha256, metadata_props, stamp
from model_export.parity import ParitySpec, SourcePredict, Tolerance, check_parity, open_session
from model_export.report import ExportReport

if TYPE_CHECKING:
    import onnx


def _file_mode() -> int:
    """The mode a plain open() would give a new file (0o644 under the usual umask), not mkstemp's 0o600."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_atomic(data: bytes, path: Path) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, and rename it into place; raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temp_name, _file_mode())  # readable by the (non-root) user a container image runs as
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise


def default_opset(model: onnx.ModelProto) -> int:
    """The model's opset for the default ('' / ai.onnx) domain."""
    return max((entry.version for entry in model.opset_import if entry.domain in ("", "ai.onnx")), default=0)


def _check(model: onnx.ModelProto) -> None:
    checker = require("onnx.checker")
    try:
        checker.check_model(model)
    except checker.ValidationError as exc:
        raise UnsupportedModelError(f"the converter produced an invalid ONNX graph: {exc}") from None


def finish_export(
    model: onnx.ModelProto,
    *,
    card: ModelCard,
    source: SourcePredict,
    batches: Sequence[np.ndarray],
    spec: ParitySpec,
    tolerance: Tolerance,
    path: Path,
    notes: tuple[str, ...] = (),
) -> ExportReport:
    """Check, describe, prove parity, then write atomically; raises ParityError and writes nothing on mismatch."""
    _check(model)
    sha256 = content_sha256(model)
    stamp(model, metadata_props(card, sha256))
    session = open_session(model.SerializeToString())
    parity = check_parity(session, source, batches, spec, tolerance)
    stamp(model, metadata_props(card, sha256, parity))
    data = model.SerializeToString()
    write_atomic(data, path)
    return ExportReport(
        path=path,
        model_name=card.model_name,
        model_version=card.model_version,
        task=card.task,
        source_framework=card.source_framework,
        converter=card.converter,
        opset=default_opset(model),
        inputs=dict(card.inputs),
        outputs=dict(card.outputs),
        class_labels=tuple(card.class_labels) if card.class_labels is not None else None,
        parity=parity,
        size_bytes=len(data),
        content_sha256=sha256,
        test_accuracy=card.test_accuracy,
        notes=notes,
    )
