"""Which of Triton's protocol extensions this server serves, which it refuses, and why: the one table GET /v2's
``extensions``, the refused endpoints and the request checks read, so the list a client sees, the words it gets
and docs/api.md's protocol coverage cannot drift apart.

Why refuse in words rather than ignore: a client that sends, say, a classification or shared-memory request and
gets a plain answer back reads the wrong thing (a full tensor where it expects "score:index:label" strings, or an
empty region), and a 404 from an endpoint it knows exists reads as a broken server.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from handler.binary_tensors import EXTENSION as BINARY_TENSOR_DATA
from handler.errors import BadRequest

# As GET /v2 lists them: Triton's names for what is served here.
SERVED = (BINARY_TENSOR_DATA, "statistics", "model_configuration")

# Triton's extensions that are not served, by the name it lists them under, with the reason a client is told.
REFUSED: Mapping[str, str] = {
    "classification": (
        "Triton's classification extension (parameters.classification, class_count in tritonclient) is not "
        "served: expected the output without it; its full tensor holds every class's value, and /predict's "
        "?top_k= gives the best classes by name"
    ),
    "sequence": (
        "Triton's sequence extension (sequence_id, sequence_start, sequence_end) is not served: a Lambda keeps no "
        "state between requests and any instance may answer the next one; expected a request without them, "
        "carrying whatever state the model takes as inputs"
    ),
    "shared_memory": (
        "Triton's shared-memory extensions (system and CUDA) are not served: a client never shares memory with a "
        "Lambda behind API Gateway; expected the tensor's data in the request (JSON data, or binary_data_size "
        "with its bytes after the JSON)"
    ),
    "model_repository": (
        "models are fixed when this function starts (INIT loads MODEL_PATH): loading or unloading a model on "
        "request is not supported; deploy a new version of the function (or of the model folder) to change what "
        "is served (POST /v2/repository/index lists what is served)"
    ),
    "trace": (
        "Triton's trace extension is not served: every request is traced by AWS X-Ray when the template's "
        "tracing is on (Tracing: Active), and its settings are the function's, not a request's"
    ),
    "logging": (
        "Triton's logging extension is not served: the function logs JSON to CloudWatch through Powertools, at the "
        "level its LOG_LEVEL setting gives"
    ),
}

SEQUENCE_PARAMETERS = frozenset({"sequence_id", "sequence_start", "sequence_end"})
SHARED_MEMORY_PARAMETER = "shared_memory_region"


class _Named(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any] | None: ...


def refuse(extension: str, subject: str = "") -> BadRequest:
    """The 400 for a refused extension, naming what asked for it."""
    return BadRequest(f"{subject}: {REFUSED[extension]}" if subject else REFUSED[extension])


def check_request_parameters(parameters: Mapping[str, Any] | None) -> None:
    """Raises BadRequest when the request's own parameters ask for the sequence extension."""
    asked = sorted(SEQUENCE_PARAMETERS & set(parameters or ()))
    if asked:
        raise refuse("sequence", f"parameters {', '.join(asked)}")


def check_outputs(outputs: Sequence[_Named]) -> None:
    """Raises BadRequest for an output that asks for classification or shared memory."""
    for output in outputs:
        parameters = output.parameters or {}
        if "classification" in parameters:
            raise refuse("classification", f"output {output.name!r}")
        if SHARED_MEMORY_PARAMETER in parameters:
            raise refuse("shared_memory", f"output {output.name!r}")


def shared_memory_input(raw: Any) -> str | None:
    """The refusal for a raw request input that names a shared-memory region, or None. Read before the input is
    validated, since such an input has no data and would otherwise be told only that ``data`` is missing."""
    parameters = raw.get("parameters") if isinstance(raw, dict) else None
    if isinstance(parameters, dict) and SHARED_MEMORY_PARAMETER in parameters:
        return f"input {raw.get('name')!r}: {REFUSED['shared_memory']}"
    return None
