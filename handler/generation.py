"""Text generation with a step model: the loop, in the dataplane, over a graph that maps (token, state) to
(next-token logits, state), as a character-level name generator (a small GRU) is trained.

The artifact's ``generator`` metadata_prop (model_export.generator_export) holds the vocabulary, the start and end
tokens, the names of the step's inputs and outputs, the state's shape and the default length and temperature. A
request asks for ``{"start": "K", "temperature": 0.7, "max_length": 12, "seed": 7}`` (each optional); all the
requests of one call step together, one ``session.run`` per token for the whole batch: the state is primed with
the start token and the request's own letters, then each next token is drawn from softmax(logits / temperature)
by inverse CDF with the request's uniform random numbers (numpy's PCG64 from ``seed``), until the end token or
the length. The same loop drives the PyTorch module at export time, so the parity check compares tokens drawn
from the same random numbers (model_export.generator_export).

Why a loop here and not an ONNX Loop in the graph: measured on the name generator (bench/real_inputs.py, names of
at most 12 letters, one thread), the loop inside the graph (the same step scripted by TorchScript into an ONNX
Loop, one run a name) was slower than a bare numpy loop over ``session.run`` (7,760 vs 10,204 tokens/s, 0.76x): the
Loop's subgraph costs more per iteration than a Python call, and it runs to its fixed length since it cannot stop
a request at its own end token. It also serves one request at a time and needs a module TorchScript can script.
This loop works for any step graph and steps every request of a call together: eight requests in one call
generated 11,051 tokens/s, 1.08x the bare loop's single-request rate, where one request a call through /predict
gets 2,589 (0.25x: the HTTP layer's fixed cost over a five-letter name).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from handler.contract import MetadataKey as Key
from handler.errors import BadRequest, ModelLoadError
from handler.signature import TensorSpec, metadata_json

Step = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (tokens [n], state) -> (logits, state)
MAX_TEMPERATURE = 100.0


@dataclass(frozen=True)
class GeneratorContract:
    """What the step graph is and how its tokens become text."""

    vocabulary: tuple[str, ...]
    start_token: int
    end_token: int
    token_input: str
    state_input: str
    logits_output: str
    state_output: str
    state_shape: tuple[int, ...]  # per request, after the batch axis
    max_length: int
    temperature: float

    def describe(self) -> str:
        return (
            f'{{"start": text to begin with (default ""), "temperature": 0 (greedy) to {MAX_TEMPERATURE:g} (default '
            f'{self.temperature:g}), "max_length": 1 to {self.max_length}, "seed": an integer}}, each optional'
        )


@dataclass(frozen=True)
class GenerationRequest:
    """One request, checked: its start tokens, temperature, length limit and random generator."""

    start: str
    prime: tuple[int, ...]
    temperature: float
    max_length: int
    seed: int | None


def generator_contract(metadata: Mapping[str, str], inputs: Sequence[TensorSpec]) -> GeneratorContract | None:
    """The model's generator contract when its metadata records one, checked against the graph; else None."""
    entry = metadata_json(metadata, Key.GENERATOR)
    if entry is None:
        return None
    try:
        vocabulary = tuple(str(token) for token in entry["vocabulary"])
        contract = GeneratorContract(
            vocabulary=vocabulary,
            start_token=vocabulary.index(entry["start_token"]),
            end_token=vocabulary.index(entry["end_token"]),
            token_input=str(entry["token_input"]),
            state_input=str(entry["state_input"]),
            logits_output=str(entry["logits_output"]),
            state_output=str(entry["state_output"]),
            state_shape=tuple(int(size) for size in entry["state_shape"]),
            max_length=int(entry["max_length"]),
            temperature=float(entry["temperature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(f"metadata_props 'generator' is not a generator contract ({exc})") from None
    names = {spec.name for spec in inputs}
    if names != {contract.token_input, contract.state_input}:
        raise ModelLoadError(
            f"metadata_props 'generator' names the inputs {contract.token_input!r} and {contract.state_input!r}, "
            f"but the graph takes {sorted(names)}"
        )
    return contract


_WORDS = {str: "text", float: "a number", int: "an integer"}


def _field(instance: Mapping[str, Any], name: str, kinds: tuple[type, ...], where: str) -> Any:
    value = instance.get(name)
    if value is not None and (not isinstance(value, kinds) or isinstance(value, bool)):
        got = json.dumps(value)[:40] if isinstance(value, str | int | float | bool) else type(value).__name__
        raise BadRequest(f"{where}.{name} is {got}: expected {_WORDS[kinds[0]]}")
    return value


def generation_request(instance: Any, contract: GeneratorContract, where: str) -> GenerationRequest:
    """One /predict instance ({"start", "temperature", "max_length", "seed"}, or the start text itself) checked."""
    if isinstance(instance, str):
        instance = {"start": instance}
    if not isinstance(instance, dict) or set(instance) - {"start", "temperature", "max_length", "seed"}:
        raise BadRequest(f"{where}: expected {contract.describe()}")
    start = _field(instance, "start", (str,), where) or ""
    temperature = _field(instance, "temperature", (float, int), where)
    temperature = contract.temperature if temperature is None else float(temperature)
    if not 0 <= temperature <= MAX_TEMPERATURE:
        raise BadRequest(f"{where}.temperature is {temperature:g}: expected 0 (greedy) to {MAX_TEMPERATURE:g}")
    length = _field(instance, "max_length", (int,), where)
    length = contract.max_length if length is None else length
    if not len(start) <= length <= contract.max_length or length < 1:
        raise BadRequest(
            f"{where}.max_length is {length}: expected {max(1, len(start))} to {contract.max_length} (the start counts)"
        )
    unknown = sorted({letter for letter in start if letter not in contract.vocabulary})
    if unknown:
        raise BadRequest(f"{where}.start holds {unknown[:10]}, which the model's vocabulary does not")
    seed = _field(instance, "seed", (int,), where)
    if seed is not None and not 0 <= seed < 2**63:
        raise BadRequest(f"{where}.seed is {seed}: expected 0 to 2**63 - 1")
    prime = (contract.start_token, *(contract.vocabulary.index(letter) for letter in start))
    return GenerationRequest(start, prime, temperature, length, seed)


def _draw(logits: np.ndarray, temperature: float, uniform: float) -> int:
    """The next token: argmax at temperature 0, else the inverse CDF of softmax(logits / temperature) at ``uniform``."""
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature
    weights = np.exp(scaled - scaled.max())
    cumulative = np.cumsum(weights)
    return int(min(np.searchsorted(cumulative, uniform * cumulative[-1], side="right"), len(weights) - 1))


def generate(step: Step, contract: GeneratorContract, requests: Sequence[GenerationRequest]) -> list[list[int]]:
    """Each request's drawn tokens (after its start, without the end token), the unfinished requests stepping
    together: one step per token for all of them."""
    state = np.zeros((len(requests), *contract.state_shape), dtype=np.float32)
    tokens = np.array([request.prime[0] for request in requests], dtype=np.int64)
    rngs = [np.random.default_rng(request.seed) for request in requests]
    fed = [1] * len(requests)  # how many of each request's prime tokens the step has been given
    drawn: list[list[int]] = [[] for _ in requests]
    active = [index for index, request in enumerate(requests) if len(request.start) < request.max_length]
    while active:
        logits, state[active] = step(tokens[active], state[active])
        still = []
        for row, index in enumerate(active):
            request = requests[index]
            if fed[index] < len(request.prime):  # still reading the request's own start
                tokens[index] = request.prime[fed[index]]
                fed[index] += 1
                still.append(index)
                continue
            token = _draw(logits[row], request.temperature, float(rngs[index].random()))
            if token == contract.end_token:
                continue
            drawn[index].append(token)
            tokens[index] = token
            if len(request.start) + len(drawn[index]) < request.max_length:
                still.append(index)
        active = still
    return drawn


def texts(contract: GeneratorContract, requests: Sequence[GenerationRequest], drawn: Sequence[list[int]]) -> list[str]:
    """The generated texts: each request's start, then its drawn tokens."""
    pairs = zip(requests, drawn, strict=True)
    return [request.start + "".join(contract.vocabulary[token] for token in tokens) for request, tokens in pairs]
