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
from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, RuntimeException

from handler.columns import Column, columns_of
from handler.contract import PROVIDERS, session_options
from handler.contract import MetadataKey as Key
from handler.errors import BadRequest, ModelLoadError, PayloadTooLarge, Unprocessable, ort_reason
from handler.generation import GeneratorContract, generator_contract
from handler.image_contract import ImageContract, image_contract, warm_up_decoder
from handler.settings import Settings
from handler.signature import DATATYPE_TO_NUMPY, TensorSpec, json_list, json_mapping, specs_from_nodes
from handler.warmup import warm_up

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
    columns: tuple[Column, ...] | None = None  # tabular models: each input is one named column (handler.columns)
    image: ImageContract | None = None  # image models: the one input takes encoded images (handler.image_contract)
    generator: GeneratorContract | None = None  # step models that generate text (handler.generation)

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

    def infer(
        self, feeds: Mapping[str, np.ndarray], outputs: Sequence[str] | None = None, phases: list[int] | None = None
    ) -> dict[str, np.ndarray]:
        """Check the feeds, run the session, and return the named outputs; raises RequestError on bad input.
        ``phases``, when given, gets the nanoseconds of the checks, the session's run and the outputs' arrays."""
        started = time.perf_counter_ns()
        self.check_inputs(feeds)
        names = self.output_names(outputs)
        checked = time.perf_counter_ns()
        try:
            results = self.session.run(names, dict(feeds))
        except (Fail, InvalidArgument, RuntimeException) as exc:
            # The warm-up ran this graph at INIT, so what fails now is these values (an index out of range, a
            # shape the graph's own arithmetic refuses): the client's to fix, not a 500.
            raise Unprocessable(f"the model could not run on this input: {ort_reason(exc)}") from None
        ran = time.perf_counter_ns()
        answer = {name: np.asarray(value) for name, value in zip(names, results, strict=True)}
        if phases is not None:
            phases += [checked - started, ran - checked, time.perf_counter_ns() - ran]
        return answer


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
    inputs = specs_from_nodes(session.get_inputs(), json_mapping(metadata, Key.INPUTS))
    outputs = specs_from_nodes(session.get_outputs(), json_mapping(metadata, Key.OUTPUTS))
    probabilities = _probabilities_output([spec for spec in outputs if spec.is_tensor])
    task = metadata.get(Key.TASK) or ("classification" if probabilities else "regression")
    return ModelInfo(
        name=settings.model_name or metadata.get(Key.MODEL_NAME) or path.stem,
        version=settings.model_version or metadata.get(Key.MODEL_VERSION) or "1",
        inputs=inputs,
        outputs=outputs,
        metadata=metadata,
        task=task,
        class_labels=json_list(metadata, Key.CLASS_LABELS),
        probabilities_output=probabilities if task == "classification" else None,
        columns=columns_of(metadata, inputs),
        image=image_contract(metadata, inputs, settings.max_image_pixels),
        generator=generator_contract(metadata, inputs),
    )


def _input_problem(spec: TensorSpec, max_batch_size: int) -> str | None:
    if DATATYPE_TO_NUMPY.get(spec.datatype) is None:
        return f"input {spec.name!r} is {spec.onnx_type}, which no request can carry (inputs must be plain tensors)"
    if 0 in spec.shape:
        return f"input {spec.describe()} has a dimension fixed at 0, so no request can fill it"
    if spec.shape and spec.shape[0] > max_batch_size:
        return (
            f"input {spec.describe()} has its first (batch) dimension fixed at {spec.shape[0]}, over "
            f"MAX_BATCH_SIZE={max_batch_size}: raise MAX_BATCH_SIZE or export the model with a dynamic batch axis"
        )
    return None


def servable_problem(info: ModelInfo, max_batch_size: int) -> str | None:
    """Why the graph's signature cannot be served (read before any inference), or None."""
    for spec in info.inputs:
        problem = _input_problem(spec, max_batch_size)
        if problem:
            return problem
    if not info.tensor_outputs:
        found = ", ".join(f"{spec.name!r} ({spec.onnx_type})" for spec in info.outputs)
        return f"none of its outputs is a tensor the protocol can carry: {found}"
    for spec in info.tensor_outputs:
        if spec.datatype not in DATATYPE_TO_NUMPY:  # BF16: onnxruntime's Python API has no numpy type for it
            return f"output {spec.describe()} is {spec.onnx_type}, which onnxruntime cannot return to Python"
    return None


def _labels_problem(info: ModelInfo, results: Mapping[str, np.ndarray]) -> str | None:
    """class_labels in metadata_props that disagree with the width of the probabilities the graph gives."""
    if not (info.class_labels and info.probabilities_output):
        return None
    columns = results[info.probabilities_output].shape[1]
    if len(info.class_labels) == columns:
        return None
    return (
        f"metadata_props 'class_labels' names {len(info.class_labels)} classes but output "
        f"{info.probabilities_output!r} gives {columns} probabilities per instance"
    )


def _refuse(problem: str | None, path: Path) -> None:
    """Raise ModelLoadError for a model that loads but cannot be served as it is."""
    if problem:
        raise ModelLoadError(f"MODEL_PATH={str(path)!r} cannot be served: {problem}")


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    """Create the session with explicit threads; raises ModelLoadError naming the file and the cause."""
    if not path.is_file():
        raise ModelLoadError(f"MODEL_PATH={str(path)!r} is not a file: export a model first (make model)")
    try:
        return ort.InferenceSession(str(path), session_options(threads), providers=list(PROVIDERS))
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad file
        raise ModelLoadError(f"MODEL_PATH={str(path)!r} is not a loadable ONNX model: {ort_reason(exc)}") from None


def load_model(settings: Settings, initialization_type: str) -> tuple[OnnxModel, InitReport]:
    """Open, check, describe and warm up the model; raises ModelLoadError when any step fails."""
    threads = settings.threads()
    path = settings.model_path
    started = time.perf_counter()
    session = open_session(path, threads)
    session_ms = (time.perf_counter() - started) * 1000
    model = OnnxModel(session, describe_session(session, settings, path), settings.max_batch_size)
    _refuse(servable_problem(model.info, settings.max_batch_size), path)
    started = time.perf_counter()
    results = warm_up(model, path)
    if model.info.image is not None:
        warm_up_decoder(model.info.image, path)
    warmup_ms = (time.perf_counter() - started) * 1000
    _refuse(_labels_problem(model.info, results), path)
    report = InitReport(str(path), threads, round(session_ms, 2), round(warmup_ms, 2), initialization_type)
    return model, report
