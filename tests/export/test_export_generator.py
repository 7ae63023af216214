"""GIVEN a character-level name generator (a GRU step module) and its vocabulary WHEN exported (from Python and with
--vocabulary on the command line) THEN the graph is the step with every batch axis first, the artifact records
the vocabulary and the step's names, both parity checks ran (the step's outputs, and the tokens drawn from the
same random numbers by the module and the graph), and a step or vocabulary that does not fit is refused before
anything is written."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import onnxruntime as ort
import pytest
import torch
from torch import nn

from model_export import ShapeMismatchError
from model_export.generator_export import export_generator
from tests.testkit import names

Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def net() -> names.NameGRU:
    return names.trained(steps=60, seed=2)


def test_the_graph_is_the_batch_first_step_and_records_its_vocabulary(tmp_path: Path, net: names.NameGRU) -> None:
    report = export_generator(
        net, tmp_path / "names.onnx", vocabulary=names.VOCABULARY, start_token=names.START, end_token=names.END,
        state_shape=(1, names.HIDDEN), max_length=15,
    )  # fmt: skip
    session = ort.InferenceSession(str(tmp_path / "names.onnx"), providers=["CPUExecutionProvider"])
    assert [(node.name, node.type, node.shape) for node in session.get_inputs()] == [
        ("token", "tensor(int64)", ["batch"]),
        ("state", "tensor(float)", ["batch", 1, names.HIDDEN]),
    ]
    assert [node.name for node in session.get_outputs()] == ["logits", "state_out"]
    metadata = session.get_modelmeta().custom_metadata_map
    contract = json.loads(metadata["generator"])
    assert (contract["vocabulary"], contract["start_token"], contract["max_length"]) == (names.VOCABULARY, "<s>", 15)
    assert metadata["task"] == "generation"
    assert report.parity.samples == 8 + 3
    assert any(note.startswith("generation parity: 9 requests") for note in report.notes)


def test_a_start_token_outside_the_vocabulary_is_refused(tmp_path: Path, net: names.NameGRU) -> None:
    with pytest.raises(ShapeMismatchError, match="start_token '<bos>' is not in the vocabulary of 54 tokens"):
        export_generator(
            net, tmp_path / "n.onnx", vocabulary=names.VOCABULARY, start_token="<bos>", end_token=names.END,
            state_shape=(1, names.HIDDEN),
        )  # fmt: skip
    assert not (tmp_path / "n.onnx").exists()


def test_a_step_that_does_not_fit_the_state_shape_is_refused_naming_both(tmp_path: Path, net: names.NameGRU) -> None:
    with pytest.raises(ShapeMismatchError, match="the step module fails on token int64 \\[2\\] and state float32"):
        export_generator(
            net, tmp_path / "n.onnx", vocabulary=names.VOCABULARY, start_token=names.START, end_token=names.END,
            state_shape=(1, 32),
        )  # fmt: skip


class WrongHead(nn.Module):
    """A step whose logits are one short of the vocabulary."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = names.NameGRU(vocabulary=len(names.VOCABULARY))
        self.cut = nn.Linear(len(names.VOCABULARY), len(names.VOCABULARY) - 1)

    def forward(self, token: torch.Tensor, hidden: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits, hidden = self.inner(token, hidden)
        return self.cut(logits), hidden


def test_logits_that_do_not_cover_the_vocabulary_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ShapeMismatchError, match=r"returned logits \[2, 53\] .* expected \[2, 54\]"):
        export_generator(
            WrongHead(), tmp_path / "n.onnx", vocabulary=names.VOCABULARY, start_token=names.START,
            end_token=names.END, state_shape=(1, names.HIDDEN),
        )  # fmt: skip


def test_the_cli_exports_a_generator_from_a_module_its_weights_and_a_vocabulary_file(
    tmp_path: Path, cli: Cli, net: names.NameGRU
) -> None:
    (tmp_path / "namegen.py").write_text(Path(names.__file__).read_text())
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    (tmp_path / "vocab.json").write_text(json.dumps(names.VOCABULARY))
    result = cli(
        "torch", "--module", "namegen:NameGRU", "--state-dict", "weights.pt", "--vocabulary", "vocab.json",
        "--state-shape", f"1,{names.HIDDEN}", "--max-length", "10", "-o", "names.onnx", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    metadata = ort.InferenceSession(str(tmp_path / "names.onnx")).get_modelmeta().custom_metadata_map
    assert json.loads(metadata["generator"])["max_length"] == 10
    missing = cli(
        "torch", "--module", "namegen:NameGRU", "--state-dict", "weights.pt", "--vocabulary", "vocab.json",
        "-o", "x.onnx", cwd=tmp_path,
    )  # fmt: skip
    assert missing.returncode != 0
    assert "--vocabulary needs --state-shape LAYERS,HIDDEN" in missing.stderr
