"""Text generators from PyTorch: a step module and its vocabulary, exported so that one call returns generated text.

``export_generator(step, path, vocabulary=[...], start_token="<s>", end_token="</s>", state_shape=(1, 64))`` (or
``onnx-lambda export torch --module m:NameGRU --state-dict w.pt --vocabulary vocab.json --state-shape 1,64``)
exports the step, a module mapping (token int64 [batch], state float32 [layers, batch, hidden]) to (next-token
logits [batch, vocabulary], the next state), with its state batch first (``BatchFirstState``), and records the
vocabulary, the special tokens, the step's names and the defaults in the ``generator`` metadata_prop. The server
runs the sampling loop (handler.generation, where the choice of a loop in the dataplane over an ONNX Loop is
explained).

Two parity checks, before anything is written: the step graph against the module on generated tokens and states
(every output within the tolerance), and generation itself: the same loop, the same requests (starts, greedy and
sampled temperatures, seeds), once driven by the module and once by onnxruntime, must draw the same tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Unpack

import numpy as np

from handler.generation import GenerationRequest, GeneratorContract, Step, generate, generation_request
from model_export.deps import require
from model_export.errors import ParityError, ShapeMismatchError
from model_export.options import DEFAULT_OPSET, ExportOptions, card_of, tolerance_of, tuning_of
from model_export.parity import ParitySpec, named_batches, named_inputs, open_session
from model_export.report import ExportReport
from model_export.writer import finish_export

NAMES = {"token_input": "token", "state_input": "state", "logits_output": "logits", "state_output": "state_out"}
PARITY_SEEDS = (0, 1, 2, 3)


def _contract(
    vocabulary: Sequence[str], start: str, end: str, state: Sequence[int], *, length: int, temperature: float
) -> GeneratorContract:
    tokens = tuple(str(token) for token in vocabulary)
    for name, token in (("start_token", start), ("end_token", end)):
        if token not in tokens:
            raise ShapeMismatchError(f"{name} {token!r} is not in the vocabulary of {len(tokens)} tokens")
    if len(set(tokens)) != len(tokens) or not 1 <= length <= 10_000 or not 0 <= temperature <= 100:
        raise ShapeMismatchError("expected distinct tokens, max_length 1 to 10000 and temperature 0 to 100")
    return GeneratorContract(
        vocabulary=tokens,
        start_token=tokens.index(start),
        end_token=tokens.index(end),
        state_shape=tuple(state),
        max_length=length,
        temperature=temperature,
        **NAMES,
    )


def metadata_entry(contract: GeneratorContract) -> dict[str, Any]:
    """The ``generator`` metadata_prop handler.generation reads."""
    return {
        "vocabulary": list(contract.vocabulary),
        "start_token": contract.vocabulary[contract.start_token],
        "end_token": contract.vocabulary[contract.end_token],
        **NAMES,
        "state_shape": list(contract.state_shape),
        "max_length": contract.max_length,
        "temperature": contract.temperature,
    }


def parity_requests(contract: GeneratorContract) -> list[GenerationRequest]:
    """Requests from every kind: no start, one letter, two; greedy, cool and hot; each with its seed."""
    letters = [token for token in contract.vocabulary if len(token) == 1][:3] or [""]
    starts = ["", letters[0], "".join(letters[:2])]
    instances = [
        {"start": start, "temperature": temperature, "seed": seed}
        for start in starts
        for temperature, seed in zip((0.0, 0.7, 1.3), PARITY_SEEDS, strict=False)
    ]
    return [generation_request(instance, contract, "parity request") for instance in instances]


def _onnx_step(model_bytes: bytes) -> Step:
    session = open_session(model_bytes)

    def step(tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, new_state = session.run(None, {"token": tokens, "state": state})
        return logits, new_state

    return step


def check_generation(model_bytes: bytes, torch_step: Step, contract: GeneratorContract) -> int:
    """The same requests through the module and the graph draw the same tokens; returns how many were drawn."""
    requests = parity_requests(contract)
    expected = generate(torch_step, contract, requests)
    served = generate(_onnx_step(model_bytes), contract, requests)
    for request, want, got in zip(requests, expected, served, strict=True):
        if want != got:
            where = next(
                (i for i, pair in enumerate(zip(want, got, strict=False)) if pair[0] != pair[1]),
                min(len(want), len(got)),
            )
            raise ParityError(
                f"generation parity failed: for start {request.start!r} at temperature {request.temperature:g}, seed "
                f"{request.seed}, the exported graph drew another token at position {where} than the module did "
                f"(module {want[: where + 1]}, graph {got[: where + 1]}); nothing was written",
                {},
            )
    return sum(len(tokens) for tokens in expected)


def export_generator(
    module: Any,
    path: str | Path,
    *,
    vocabulary: Sequence[str],
    start_token: str,
    end_token: str,
    state_shape: Sequence[int],
    max_length: int = 20,
    temperature: float = 1.0,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Trace the step, check both parities, write; raises an ExportError (nothing written)."""
    for package in ("torch", "onnx", "onnxruntime"):
        require(package)
    contract = _contract(vocabulary, start_token, end_token, state_shape, length=max_length, temperature=temperature)
    from model_export import generator_torch  # noqa: PLC0415 - imports torch

    converted, torch_step, notes = generator_torch.convert_step(module, contract, options.get("opset", DEFAULT_OPSET))
    drawn = check_generation(converted.SerializeToString(), torch_step, contract)
    card = card_of(
        options,
        Path(path),
        task="generation",
        input_default="",
        outputs={
            "logits": f"float32 [batch, {len(contract.vocabulary)}]: the next token's logits",
            "state_out": f"float32 [batch, {', '.join(map(str, contract.state_shape))}]: the next state",
        },
        source=generator_torch.source(),
        class_labels=None,
        inputs={
            "token": "int64 [batch]: the last token (its index in the vocabulary)",
            "state": f"float32 [batch, {', '.join(map(str, contract.state_shape))}]: the state, zeros to begin",
        },
    )
    examples = generator_torch.examples(contract, rows=8)
    return finish_export(
        converted,
        card=replace(card, generator=metadata_entry(contract)),
        source=generator_torch.source_predict(module),
        batches=named_batches(examples, 8),
        spec=ParitySpec(compare=("logits", "state_out"), feeds_of=named_inputs),
        tolerance=tolerance_of(options),
        path=Path(path),
        tuning=tuning_of(options),
        notes=(*notes, f"generation parity: {len(parity_requests(contract))} requests, {drawn} tokens drawn alike"),
    )
