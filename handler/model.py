"""The loaded model: one onnxruntime session, what it takes and gives, and the checks on its inputs.

Created once at INIT (module import), so provisioned concurrency pays for session creation and the
warm-up inference before the first request arrives.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnxruntime as ort

from handler.errors import BadRequest, ModelLoadError, PayloadTooLarge
from handler.settings import Settings
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec, json_list, json_mapping, specs_from_nodes

PLATFORM = "onnxruntime_onnx"  # the platform name Triton and KServe use for ONNX models


@dataclass(frozen=True)
class ModelInfo:
    """Everything the HTTP surface says about the model, derived from the graph and metadata_props."""

    name: str
    version: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    metadata: Mapping[str, str]
    task: str
    class_labels: list[str] | None
    probabilities_output: str | None

    @property
    def tensor_outputs(self) -> tuple[TensorSpec, ...]:
        """The outputs the protocol can carry, returned when a request names none."""
        return tuple(spec for spec in self.outputs if spec.is_tensor)


@dataclass(frozen=True)
class InitReport:
    """How this instance was initialised, for /health and the logs."""

    model_path: str
    threads: int
    session_ms: float
    warmup_ms: float
    initialization_type: str
    loaded_at: float = field(default_factory=time.time)


class OnnxModel:
    """One ONNX model served by onnxruntime; ``infer`` takes and gives named numpy arrays."""

    def __init__(self, session: ort.InferenceSession, info: ModelInfo, max_batch_size: int) -> None:
        self.session = session
        self.info = info
        self.max_batch_size = max_batch_size
        self._inputs = {spec.name: spec for spec in info.inputs}
        self._outputs = {spec.name: spec for spec in info.tensor_outputs}

    @property
    def input_specs(self) -> Mapping[str, TensorSpec]:
        """The graph's inputs by name, built once, for decoding requests against."""
        return self._inputs

    def check_inputs(self, feeds: Mapping[str, np.ndarray]) -> None:
        """Refuse feeds whose names, datatypes or shapes differ from the graph's; raises BadRequest."""
        missing = [name for name in self._inputs if name not in feeds]
        unknown = [name for name in feeds if name not in self._inputs]
        if unknown or missing:
            expected = ", ".join(spec.describe() for spec in self.info.inputs)
            parts = [f"unknown input {name!r}" for name in unknown] + [f"missing input {name!r}" for name in missing]
            raise BadRequest(f"{'; '.join(parts)}: the model expects {expected}")
        for name, array in feeds.items():
            self._check_one(self._inputs[name], array)

    def _check_one(self, spec: TensorSpec, array: np.ndarray) -> None:
        if array.dtype != DATATYPE_TO_NUMPY.get(spec.datatype):
            raise BadRequest(f"input '{spec.name}' has the wrong datatype: expected {spec.describe()}")
        if array.ndim != len(spec.shape) or any(
            want not in (-1, got) for want, got in zip(spec.shape, array.shape, strict=True)
        ):
            raise BadRequest(
                f"input '{spec.name}' has shape {list(array.shape)}, which does not fit: expected {spec.describe()}"
            )
        if array.ndim and array.shape[0] > self.max_batch_size:
            raise PayloadTooLarge(
                f"input '{spec.name}' has a batch of {array.shape[0]}, over the limit of {self.max_batch_size} "
                "(MAX_BATCH_SIZE); split the request"
            )
        if array.size == 0:
            raise BadRequest(f"input '{spec.name}' is empty (shape {list(array.shape)}): send at least one instance")

    def output_names(self, requested: Sequence[str] | None) -> list[str]:
        """The outputs to compute: the requested ones (checked) or every tensor output."""
        if not requested:
            return list(self._outputs)
        unknown = [name for name in requested if name not in self._outputs]
        if unknown:
            known = ", ".join(repr(name) for name in self._outputs)
            raise BadRequest(f"unknown output {', '.join(map(repr, unknown))}: the model's outputs are {known}")
        return list(dict.fromkeys(requested))

    def infer(self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None) -> dict[str, np.ndarray]:
        """Check the feeds, run the session, and return the named outputs; raises ApiError on bad input."""
        self.check_inputs(feeds)
        names = self.output_names(outputs)
        results = self.session.run(names, dict(feeds))
        return {name: np.asarray(value) for name, value in zip(names, results, strict=True)}


def _probabilities_output(outputs: Sequence[TensorSpec]) -> str | None:
    """The output holding class probabilities: ours is 'probabilities'; others are guessed by name."""
    candidates = [spec for spec in outputs if spec.datatype in {"FP32", "FP64"} and len(spec.shape) == 2]
    for spec in candidates:
        if spec.name == "probabilities":
            return spec.name
    return next((spec.name for spec in candidates if "prob" in spec.name.lower()), None)


def describe_session(session: ort.InferenceSession, settings: Settings, path: Path) -> ModelInfo:
    """Read name, version, signature and meaning from the session; settings override the metadata."""
    metadata: dict[str, str] = dict(session.get_modelmeta().custom_metadata_map)
    inputs = specs_from_nodes(session.get_inputs(), json_mapping(metadata, "inputs"))
    outputs = specs_from_nodes(session.get_outputs(), json_mapping(metadata, "outputs"))
    probabilities = _probabilities_output([spec for spec in outputs if spec.is_tensor])
    task = metadata.get("task") or ("classification" if probabilities else "regression")
    return ModelInfo(
        name=settings.model_name or metadata.get("model_name") or path.stem,
        version=settings.model_version or metadata.get("model_version") or "1",
        inputs=inputs,
        outputs=outputs,
        metadata=metadata,
        task=task,
        class_labels=json_list(metadata, "class_labels"),
        probabilities_output=probabilities if task == "classification" else None,
    )


def warmup_feeds(inputs: Sequence[TensorSpec]) -> dict[str, np.ndarray]:
    """One all-zero instance per input (dynamic dimensions as 1), enough to touch every kernel once."""
    feeds: dict[str, np.ndarray] = {}
    for spec in inputs:
        dtype = DATATYPE_TO_NUMPY.get(spec.datatype)
        if dtype is None:
            raise ModelLoadError(f"input {spec.describe()} has a type onnxruntime cannot be fed from Python")
        shape = tuple(1 if size < 0 else size for size in spec.shape)
        feeds[spec.name] = np.full(shape, "", dtype=dtype) if dtype == np.object_ else np.zeros(shape, dtype=dtype)
    return feeds


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    """Create the session with explicit threads; raises ModelLoadError naming the file and the cause."""
    if not path.is_file():
        raise ModelLoadError(f"MODEL_PATH={str(path)!r} is not a file: export a model first (make model)")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelLoadError(f"MODEL_PATH={str(path)!r} is not a loadable ONNX model: {exc}") from None


def load_model(settings: Settings, initialization_type: str) -> tuple[OnnxModel, InitReport]:
    """Open, describe and warm up the model; raises ModelLoadError when any step fails."""
    threads = settings.threads()
    started = time.perf_counter()
    session = open_session(settings.model_path, threads)
    session_ms = (time.perf_counter() - started) * 1000
    model = OnnxModel(session, describe_session(session, settings, settings.model_path), settings.max_batch_size)
    started = time.perf_counter()
    try:
        model.infer(warmup_feeds(model.info.inputs))
    except Exception as exc:
        raise ModelLoadError(f"the warm-up inference on {str(settings.model_path)!r} failed: {exc}") from None
    warmup_ms = (time.perf_counter() - started) * 1000
    report = InitReport(
        str(settings.model_path), threads, round(session_ms, 2), round(warmup_ms, 2), initialization_type
    )
    return model, report
