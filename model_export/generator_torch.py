"""The PyTorch half of a generator export (model_export.generator_export): trace the step, run it for parity.

Imported only once a generator export runs, because it imports torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
import torch

from handler.generation import GeneratorContract, Step
from model_export import torch_convert
from model_export.errors import ShapeMismatchError
from model_export.parity import SourcePredict
from model_export.torch_wrappers import BatchFirstState

OUTPUTS = ["logits", "state_out"]


def examples(contract: GeneratorContract, rows: int) -> dict[str, np.ndarray]:
    """Tracing and parity inputs: tokens across the vocabulary, states of the contract's shape."""
    tokens = np.arange(rows, dtype=np.int64) % len(contract.vocabulary)
    state = np.random.default_rng(0).standard_normal((rows, *contract.state_shape)).astype(np.float32) * 0.5
    return {"token": tokens, "state": state}


def _wrapped(module: Any) -> BatchFirstState:
    torch_convert.check_module(module)
    wrapper = BatchFirstState(module)
    torch_convert.set_eval(wrapper)
    return wrapper


def torch_step(module: Any) -> Step:
    """The module as the sampling loop drives it: numpy in and out, batch-first state."""
    wrapper = _wrapped(module)

    def step(tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logits, new_state = wrapper(torch.from_numpy(tokens), torch.from_numpy(np.ascontiguousarray(state)))
        return logits.numpy(), new_state.numpy()

    return step


def _probed(step: Step, contract: GeneratorContract) -> None:
    """The step's outputs have the contract's shapes; raises ShapeMismatchError naming what came back."""
    sample = examples(contract, 2)
    try:
        logits, state = step(sample["token"], sample["state"])
    except Exception as exc:
        raise ShapeMismatchError(
            f"the step module fails on token int64 [2] and state float32 [{', '.join(map(str, contract.state_shape))}, "
            f"with batch second as PyTorch's RNNs keep it]: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        ) from None
    want = ((2, len(contract.vocabulary)), (2, *contract.state_shape))
    if (logits.shape, state.shape) != want:
        raise ShapeMismatchError(
            f"the step module returned logits {list(logits.shape)} and state {list(state.shape)} (batch first); "
            f"expected {list(want[0])} (one logit per vocabulary token) and {list(want[1])}"
        )


def convert_step(module: Any, contract: GeneratorContract, opset: int) -> tuple[onnx.ModelProto, Step, tuple[str, ...]]:
    """The traced step graph, the module as a step, and the tracer's notes."""
    step = torch_step(module)
    _probed(step, contract)
    tensors = {name: torch.from_numpy(array) for name, array in examples(contract, 2).items()}
    model, notes = torch_convert.trace(_wrapped(module), tensors, OUTPUTS, opset)
    return model, step, notes


def source_predict(module: Any) -> SourcePredict:
    """The module on parity's named batches, as {"logits", "state_out"}."""
    step = torch_step(module)

    def predict(batch: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
        logits, state = step(batch["token"], batch["state"])
        return {"logits": logits, "state_out": state}

    return predict


def source() -> tuple[str, str, str]:
    return "pytorch", torch_convert.TORCH_VERSION, torch_convert.CONVERTER
