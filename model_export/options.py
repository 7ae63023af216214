"""The keyword arguments both exporters take, and the defaults they share.

They say what the artifact tells about itself (name, version, labels, descriptions, accuracy), how
strict the parity check is, and what happens to the checked graph (offline optimisation, int8); everything
framework-specific stays in each exporter's signature.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

import numpy as np

from model_export.metadata import ModelCard
from model_export.parity import Tolerance

QUANTIZE_CHOICES = ("int8",)
DEFAULT_MAX_ACCURACY_DROP = 0.01

DEFAULT_OPSET = 18
DEFAULT_VERSION = "1"


class ExportOptions(TypedDict, total=False):
    """Optional keywords of export_sklearn and export_torch; a missing key takes the default."""

    class_labels: Sequence[str] | None  # class names in class order (default: the model's own classes)
    model_name: str | None  # default: the output file's stem
    model_version: str  # default: "1"
    description: str | None  # free text stored in the metadata
    input_description: str | None  # what the input holds (default: its dtype and shape)
    atol: float  # parity absolute tolerance (default 1e-4)
    rtol: float  # parity relative tolerance (default 1e-3)
    min_class_agreement: float  # least share of agreeing predicted classes (default 0.99)
    test_accuracy: float | None  # held-out accuracy, recorded when known
    opset: int  # ONNX opset of the default domain (default 18)
    optimize: bool  # write onnxruntime's basic-level optimised graph, parity-checked again (default False)
    quantize: str | None  # "int8": also write <name>.int8.onnx, dynamic int8, judged on eval_data (default None)
    eval_data: tuple[np.ndarray, np.ndarray] | None  # held-out (x, y) that judges the int8 model
    max_accuracy_drop: float  # refuse the int8 model when its score drops more than this, absolute (default 0.01)


@dataclass(frozen=True)
class Tuning:
    """What happens to the graph after its parity check: offline optimisation and int8 quantization."""

    optimize: bool = False
    quantize: str | None = None
    eval_data: tuple[np.ndarray, np.ndarray] | None = None
    max_accuracy_drop: float = DEFAULT_MAX_ACCURACY_DROP


def tolerance_of(options: ExportOptions) -> Tolerance:
    """The parity tolerance the options ask for, Tolerance's defaults where they are silent."""
    default = Tolerance()
    return Tolerance(
        atol=options.get("atol", default.atol),
        rtol=options.get("rtol", default.rtol),
        min_class_agreement=options.get("min_class_agreement", default.min_class_agreement),
    )


def tuning_of(options: ExportOptions) -> Tuning:
    """The tuning the options ask for; raises ValueError for a combination that cannot work."""
    tuning = Tuning(
        optimize=options.get("optimize", False),
        quantize=options.get("quantize"),
        eval_data=options.get("eval_data"),
        max_accuracy_drop=options.get("max_accuracy_drop", DEFAULT_MAX_ACCURACY_DROP),
    )
    if tuning.quantize is not None and tuning.quantize not in QUANTIZE_CHOICES:
        raise ValueError(f"quantize={tuning.quantize!r}: expected one of {', '.join(QUANTIZE_CHOICES)} or None")
    if tuning.quantize is not None and tuning.eval_data is None:
        raise ValueError("quantize needs eval_data=(x, y): held-out data to measure the accuracy change on")
    if not math.isfinite(tuning.max_accuracy_drop):
        raise ValueError(f"max_accuracy_drop={tuning.max_accuracy_drop!r}: expected a finite number")
    return tuning


def card_of(
    options: ExportOptions,
    path: Path,
    *,
    task: str,
    input_default: str,
    outputs: Mapping[str, str],
    source: tuple[str, str, str],
    class_labels: Sequence[str] | None,
    inputs: Mapping[str, str] | None = None,
    columns: Sequence[Mapping[str, Any]] | None = None,
) -> ModelCard:
    """The model card: identity from the options, ``source`` = (framework, its version, converter); ``inputs``
    describes each of several inputs (else the one input is ``input``, described by ``input_default``)."""
    framework, framework_version, converter = source
    return ModelCard(
        model_name=options.get("model_name") or path.stem,
        model_version=options.get("model_version", DEFAULT_VERSION),
        task=task,
        inputs=inputs or {"input": options.get("input_description") or input_default},
        outputs=outputs,
        source_framework=framework,
        source_framework_version=framework_version,
        converter=converter,
        class_labels=class_labels,
        description=options.get("description"),
        test_accuracy=options.get("test_accuracy"),
        columns=columns,
    )
