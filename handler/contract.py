"""The contract between the two halves and the command line, written once: what each of them reads here
rather than keeping its own copy equal by a test or by luck.

- the protocol's datatype for each ONNX element type, and how a shape reads;
- the metadata_props keys an export writes and the function reads (``model_export.metadata`` writes them,
  ``handler.model`` and the input contracts read them, ``inspect`` shows them);
- the onnxruntime session options the function serves with, so export's timing and the benchmarks measure
  the same session;
- the exit codes and their help text, the error base every typed error derives from, and one-line messages.

It lives in ``handler/`` because the image copies ``handler/`` whole and the function needs it; it imports
the standard library only (onnxruntime inside ``session_options``), so the command line reads it without
paying for numpy. The rule stays: ``handler`` never imports ``model_export``; the offline half and the command
line may read this module.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, ClassVar, Final, TypeAlias

# The Lambda handler's signature: (event, context) -> response.
LambdaHandler: TypeAlias = Callable[[dict[str, Any], Any], dict[str, Any]]

# --- datatypes and shapes ---------------------------------------------------------------------------------

# onnxruntime's (and onnx's) type strings -> Open Inference Protocol datatypes.
ONNX_TO_DATATYPE: Final[Mapping[str, str]] = {
    "tensor(bool)": "BOOL",
    "tensor(uint8)": "UINT8",
    "tensor(uint16)": "UINT16",
    "tensor(uint32)": "UINT32",
    "tensor(uint64)": "UINT64",
    "tensor(int8)": "INT8",
    "tensor(int16)": "INT16",
    "tensor(int32)": "INT32",
    "tensor(int64)": "INT64",
    "tensor(float16)": "FP16",
    "tensor(float)": "FP32",
    "tensor(double)": "FP64",
    "tensor(bfloat16)": "BF16",
    "tensor(string)": "BYTES",
}
# The datatype of a graph value the protocol cannot carry: a sequence or a map (skl2onnx's ZipMap).
NOT_A_TENSOR: Final = "NOT_A_TENSOR"


def datatype_of(onnx_type: str) -> str:
    """The protocol datatype of an ONNX type string, or NOT_A_TENSOR."""
    return ONNX_TO_DATATYPE.get(onnx_type, NOT_A_TENSOR)


def shape_text(dims: Sequence[str | int | None]) -> str:
    """A shape as a person reads it: [batch, 1, 8, 8]; "?" for a dimension with neither size nor name."""
    return "[" + ", ".join("?" if dim is None or (isinstance(dim, int) and dim < 0) else str(dim) for dim in dims) + "]"


# --- metadata_props keys ----------------------------------------------------------------------------------


class MetadataKey:
    """The names of the metadata_props an export writes. Plain strings unless in JSON_KEYS (JSON-encoded)."""

    MODEL_NAME: Final = "model_name"
    MODEL_VERSION: Final = "model_version"
    TASK: Final = "task"
    INPUTS: Final = "inputs"  # input name -> its description
    OUTPUTS: Final = "outputs"  # output name -> its description
    SOURCE_FRAMEWORK: Final = "source_framework"
    SOURCE_FRAMEWORK_VERSION: Final = "source_framework_version"
    CONVERTER: Final = "converter"
    EXPORTER: Final = "exporter"
    EXPORTED_AT: Final = "exported_at"
    CONTENT_SHA256: Final = "content_sha256"  # sha256 of model.graph alone
    CLASS_LABELS: Final = "class_labels"
    PARITY: Final = "parity"
    TEST_ACCURACY: Final = "test_accuracy"
    DESCRIPTION: Final = "description"
    OPTIMIZATION: Final = "optimization"
    QUANTIZATION: Final = "quantization"
    COLUMNS: Final = "columns"  # tabular models: each input column's schema (handler.columns)
    IMAGE: Final = "image"  # image models: the input's contract (handler.image_contract)
    GENERATOR: Final = "generator"  # text generators: vocabulary and step signature (handler.generation)
    WARMUP: Final = "warmup"  # optional, set by the user: the warm-up request INIT runs (handler.warmup)


# The keys whose values are JSON, so readers (inspect, the function) know to decode them.
JSON_KEYS: Final = frozenset(
    {
        MetadataKey.CLASS_LABELS,
        MetadataKey.INPUTS,
        MetadataKey.OUTPUTS,
        MetadataKey.PARITY,
        MetadataKey.OPTIMIZATION,
        MetadataKey.QUANTIZATION,
        MetadataKey.COLUMNS,
        MetadataKey.IMAGE,
        MetadataKey.GENERATOR,
    }
)

# --- the serving session ----------------------------------------------------------------------------------

PROVIDERS: Final = ("CPUExecutionProvider",)


def session_options(threads: int) -> Any:
    """onnxruntime's SessionOptions as the function serves with them: ``threads`` intra-op threads, one
    inter-op thread, sequential execution (one request at a time per instance), every graph optimisation.
    Export's timing and the benchmarks open their sessions with this too, so they measure what is served."""
    import onnxruntime as ort  # noqa: PLC0415 - only where a session is opened (numpy comes with it)

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return options


# --- exit codes, errors and messages ----------------------------------------------------------------------

EXIT_OK: Final = 0
EXIT_UNEXPECTED: Final = 1
EXIT_USAGE: Final = 2
EXIT_INPUT: Final = 3
EXIT_PARITY: Final = 4
EXIT_ACCURACY: Final = 5
EXIT_REMOTE: Final = 6
EXIT_RECORDS_FAILED: Final = 7
EXIT_INTERRUPTED: Final = 130

EXIT_CODES_HELP: Final = """exit codes:
  0    done
  1    unexpected failure (a bug: run with --debug for the traceback, and please report it)
  2    usage error (bad command line)
  3    input error: no such file, not a model (or one that cannot be served), unreadable event or data,
       a missing optional package (the export extra)
  4    export: the parity check failed; nothing was written
  5    export: --quantize int8 refused (accuracy dropped too much); nothing was written
  6    remote error: an answer with an HTTP error status (>= 400), or the URL, S3 or AWS could not be reached
  7    score: finished, but some records failed or some files were rejected (see their errors files)
  130  interrupted (Ctrl-C)
"""


class OnnxLambdaError(Exception):
    """The base of every error raised on purpose, in either half or the command line: ``message`` says what is
    wrong, where, and what was expected; ``exit_code`` is the command line's status when it ends a command."""

    exit_code: ClassVar[int] = EXIT_INPUT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def one_line(text: str) -> str:
    """Any message as a single line: a multi-line exception text must not break the one-line contract."""
    return " ".join(text.split())


def human_bytes(count: float) -> str:
    """1234567 -> '1.2 MB' (decimal units, as S3 and disk tools show sizes)."""
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def write_atomic(path: Path, fill: Callable[[IO[bytes]], object]) -> None:
    """Fill a temp file beside ``path`` (``fill`` writes to it), fsync it, and rename it into place, so a reader
    sees the old file or the whole new one, never a part; the temp file is removed on failure. The file gets the
    mode a plain open() would (0o644 under the usual umask), not mkstemp's 0o600: an image's non-root user
    must read it. Raises OSError."""
    import tempfile  # noqa: PLC0415 - not on the function's import path (it never writes a file this way)

    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            fill(stream)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
