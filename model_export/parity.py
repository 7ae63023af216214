"""Proof before writing: the exported graph, run by onnxruntime, answers as the source model does.

Both run on the same batches: the caller's sample data or generated inputs, plus a second batch of another size
to prove the batch axis is dynamic (and, for tabular models, rows with missing values and unseen categories).
A batch is what the source model takes (an array, or a pandas DataFrame); ``feeds_of`` turns it into the
graph's named inputs, as the server will feed them. Numeric outputs must agree elementwise with
``np.isclose`` semantics (``|exported - source| <= atol + rtol * |source|``); for classifiers the served
``label`` must also match the source's predicted class on at least ``min_class_agreement`` of rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.errors import ExportError, ParityError, ShapeMismatchError, UnsupportedModelError

SourcePredict = Callable[[Any], Mapping[str, np.ndarray]]
FeedsOf = Callable[[Any], Mapping[str, np.ndarray]]
INPUT_NAME = "input"


def single_input(batch: np.ndarray) -> dict[str, np.ndarray]:
    """The feeds of a one-input graph: the batch itself, as ``input``."""
    return {INPUT_NAME: batch}


def named_inputs(batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feeds of a graph of several named inputs: the batch is already one array per name."""
    return dict(batch)


def named_batches(examples: Mapping[str, np.ndarray], rows: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Parity batches for named inputs: ``rows`` rows and another size; float inputs generated, integer and
    boolean ones (indices into an embedding, flags) the example's own values cycled, so they stay in range."""
    batches = []
    for count in (rows, next(n for n in (3, 5, 7) if n != rows)):
        batch = {}
        for name, example in examples.items():
            shape = (count, *example.shape[1:])
            if example.dtype.kind == "f":
                batch[name] = generated_batch(example.shape[1:], count, seed).astype(example.dtype)
            else:
                batch[name] = np.resize(example, shape)
        batches.append(batch)
    return batches


@dataclass(frozen=True)
class Tolerance:
    """How close is close enough: np.isclose's atol and rtol, and the class agreement required."""

    atol: float = 1e-4
    rtol: float = 1e-3
    min_class_agreement: float = 0.99


@dataclass(frozen=True)
class ParityResult:
    """The figures recorded in the ``parity`` metadata_prop and the export report."""

    samples: int
    max_abs_diff: float
    max_rel_diff: float
    atol: float
    rtol: float
    class_agreement: float | None
    # The batch sizes the exported graph ran on: one of two or more proves its batch axis, so the function's INIT
    # need not run a second warm-up to find out (handler.model).
    batch_sizes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object stored under ``parity``."""
        return asdict(self)


@dataclass(frozen=True)
class ParitySpec:
    """Which outputs are compared numerically, which one holds the served class label, and how a batch becomes
    the graph's feeds."""

    compare: tuple[str, ...]
    label: str | None = None
    hints: tuple[str, ...] = field(default=())
    feeds_of: FeedsOf = single_input


@dataclass
class _Tally:
    samples: int = 0
    values: int = 0
    outside: int = 0
    max_abs: float = 0.0
    max_rel: float = 0.0
    agreeing: int = 0
    worst_output: str = ""


def open_session(model_bytes: bytes) -> Any:
    """An onnxruntime CPU session on the in-memory model; raises UnsupportedModelError if it will not load."""
    ort = require("onnxruntime")
    try:
        return ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises several unrelated types for a bad graph
        raise UnsupportedModelError(f"onnxruntime cannot load the exported graph: {exc}") from None


def parity_batches(primary: np.ndarray, example_batch: int | None = None) -> list[np.ndarray]:
    """The primary batch plus one of another size (rows reused cyclically) to exercise the batch axis."""
    taken = {len(primary), example_batch}
    size = next(n for n in (1, 3, 5, 7) if n not in taken)
    return [primary, np.resize(primary, (size, *primary.shape[1:]))]


def generated_batch(instance_shape: Sequence[int], rows: int, seed: int = 0) -> np.ndarray:
    """Random normal float32 inputs, reproducible, for when the caller has no sample data."""
    return np.random.default_rng(seed).standard_normal((rows, *instance_shape)).astype(np.float32)


def rows_of(batch: Any) -> int:
    """How many samples a batch holds: its length, or for named inputs their first input's."""
    return len(next(iter(batch.values()))) if isinstance(batch, Mapping) else len(batch)


def shape_of(batch: Any) -> str:
    """A batch's shape for messages: an array's or a DataFrame's, or each named input's."""
    if isinstance(batch, Mapping):
        return "{" + ", ".join(f"{name}: {list(np.shape(value))}" for name, value in batch.items()) + "}"
    return str(list(np.shape(batch)))


def _run_source(source: SourcePredict, batch: Any) -> Mapping[str, np.ndarray]:
    try:
        return source(batch)
    except ExportError:
        raise
    except Exception as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ShapeMismatchError(
            f"the source model fails on a batch of shape {shape_of(batch)}: {type(exc).__name__}: {message}; "
            "it must accept any batch size along axis 0"
        ) from None


def _run_session(session: Any, batch: Any, feeds_of: FeedsOf) -> dict[str, np.ndarray]:
    try:
        results = session.run(None, dict(feeds_of(batch)))
    except Exception as exc:  # onnxruntime's errors carry the node that failed
        raise ParityError(
            f"the exported graph fails on a batch of shape {shape_of(batch)} that the source model accepts: {exc}; "
            "nothing was written"
        ) from None
    names = [output.name for output in session.get_outputs()]
    return {name: np.asarray(value) for name, value in zip(names, results, strict=True)}


def _compare(tally: _Tally, name: str, exported: np.ndarray, source: np.ndarray, tolerance: Tolerance) -> None:
    got = exported.astype(np.float64)
    want = np.asarray(source, dtype=np.float64)
    if got.size != want.size:
        raise ParityError(
            f"output '{name}' has shape {list(got.shape)} in the exported graph but {list(want.shape)} from the source "
            "model; nothing was written"
        )
    want = want.reshape(got.shape)
    diff = np.abs(got - want)
    close = np.isclose(got, want, rtol=tolerance.rtol, atol=tolerance.atol)
    large = np.abs(want) > tolerance.atol
    rel = float(np.max(diff[large] / np.abs(want[large]))) if large.any() else 0.0
    worst = float(np.max(diff)) if diff.size else 0.0  # NaN when either side has one; isclose counts it outside
    if not worst < tally.max_abs:
        tally.worst_output = name
    tally.max_abs, tally.max_rel = max(tally.max_abs, worst), max(tally.max_rel, rel)
    tally.values += got.size
    tally.outside += int(np.count_nonzero(~close))


def _agreeing(exported: np.ndarray, source: np.ndarray) -> int:
    served, predicted = np.asarray(exported).ravel(), np.asarray(source).ravel()
    if served.shape != predicted.shape:
        raise ParityError(f"the exported graph gives {served.size} labels for {predicted.size} source predictions")
    return int(np.count_nonzero(served == predicted))


def _failure(tally: _Tally, result: ParityResult, tolerance: Tolerance, hints: Sequence[str]) -> str | None:
    hint = "".join(f"; hint: {text}" for text in hints)
    if tally.outside:
        return (
            f"parity check failed: the exported graph differs from the source model by up to {result.max_abs_diff:.3g} "
            f"(max relative {result.max_rel_diff:.3g}) in output '{tally.worst_output}'; {tally.outside} of "
            f"{tally.values} values over {result.samples} samples are outside atol={tolerance.atol:g} + "
            f"rtol={tolerance.rtol:g}*|expected|; nothing was written{hint}"
        )
    if result.class_agreement is not None and result.class_agreement < tolerance.min_class_agreement:
        return (
            f"parity check failed: predicted classes agree on {result.class_agreement:.2%} of {result.samples} "
            f"samples, below the required {tolerance.min_class_agreement:.2%}; nothing was written{hint}"
        )
    return None


def check_parity(
    session: Any, source: SourcePredict, batches: Sequence[Any], spec: ParitySpec, tolerance: Tolerance
) -> ParityResult:
    """Run both models on every batch and compare; raises ParityError (figures attached) on disagreement."""
    tally = _Tally()
    sizes: set[int] = set()
    for batch in batches:
        expected = _run_source(source, batch)
        exported = _run_session(session, batch, spec.feeds_of)
        for name in spec.compare:
            _compare(tally, name, exported[name], expected[name], tolerance)
        if spec.label is not None:
            tally.agreeing += _agreeing(exported[spec.label], expected[spec.label])
        tally.samples += rows_of(batch)
        sizes.add(rows_of(batch))
    result = ParityResult(
        samples=tally.samples,
        max_abs_diff=tally.max_abs,
        max_rel_diff=tally.max_rel,
        atol=tolerance.atol,
        rtol=tolerance.rtol,
        class_agreement=tally.agreeing / tally.samples if spec.label is not None and tally.samples else None,
        batch_sizes=sorted(sizes),
    )
    message = _failure(tally, result, tolerance, spec.hints)
    if message is not None:
        raise ParityError(message, result.to_dict())
    return result
