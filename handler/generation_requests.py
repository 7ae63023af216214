"""A generator's requests as each carrier sends them: /predict rows (and batch-file lines), or OIP tensors.

/predict: ``{"instances": [{"start": "K", "temperature": 0.7, "max_length": 12, "seed": 7}, "A", {}]}`` (an
instance may be the start text alone). The Open Inference Protocol: a ``start`` BYTES tensor [n] (or [n, 1]), and
optionally ``temperature`` (FP32), ``max_length`` and ``seed`` (INT64) of the same length; the answer is a
``text`` BYTES tensor [n]. A seed of -1 in a tensor means none (every request then draws fresh randomness).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from handler.errors import BadRequest
from handler.generation import GenerationRequest, GeneratorContract, generation_request

GENERATION_TENSORS = frozenset({"start", "temperature", "max_length", "seed"})


def generation_requests(rows: Any, contract: GeneratorContract, form: str) -> list[GenerationRequest]:
    """/predict's rows (``instances`` or ``dataframe_records``) as checked requests."""
    if not isinstance(rows, list) or not rows:
        raise BadRequest(f"{form}: a generator takes instances, each {contract.describe()}")
    return [generation_request(row, contract, f"{form}[{index}]") for index, row in enumerate(rows)]


def _column(feeds: Mapping[str, np.ndarray], name: str, count: int) -> list[Any] | None:
    array = feeds.get(name)
    if array is None:
        return None
    values = array.reshape(-1).tolist()
    if len(values) != count:
        raise BadRequest(f"input {name!r} has {len(values)} values for {count} starts: expected one per request")
    return values


def tensor_requests(feeds: Mapping[str, np.ndarray], contract: GeneratorContract) -> list[GenerationRequest]:
    """An OIP request's ``start`` tensor and its optional companions as checked requests."""
    starts = feeds["start"]
    if starts.dtype != np.object_ or starts.ndim not in (1, 2) or (starts.ndim == 2 and starts.shape[1] != 1):
        raise BadRequest("input 'start' must be BYTES [n] or [n, 1]: expected the text each request begins with")
    count = starts.shape[0]
    columns = {name: _column(feeds, name, count) for name in ("temperature", "max_length", "seed")}
    requests = []
    for index, start in enumerate(starts.reshape(-1).tolist()):
        instance: dict[str, Any] = {"start": start}
        for name, values in columns.items():
            if values is not None and not (name == "seed" and values[index] == -1):
                instance[name] = float(values[index]) if name == "temperature" else values[index]
        requests.append(generation_request(instance, contract, f"request {index}"))
    return requests
