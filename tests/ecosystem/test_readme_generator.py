"""GIVEN the "Serve a text generator" section (docs/examples.md) WHEN a newcomer copies its file into an empty folder
and runs its commands as written (the server in the background, as the page starts it) THEN each generated name is
the one the trained module gives through the user's own PyTorch sampling loop with the same seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from tests.testkit import names
from tests.testkit.readme_examples import example, load_module, ran


def test_the_readme_curl_generates_the_names_the_users_own_loop_draws(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert example("generator").outline() == (
        ["namegen.py"],
        [
            ["python", "namegen.py"],
            ["onnx-lambda", "export"],
            ["onnx-lambda", "serve"],
            ["curl", "-s"],
        ],
    )
    where: Path = tmp_path_factory.mktemp("generator-newcomer")
    with ran("generator", where) as printed:
        [curl] = printed
    request, answer = json.loads(curl.argument("-d")), json.loads(curl.stdout)
    namegen = load_module(where / "namegen.py")
    net = namegen.NameGRU()
    net.load_state_dict(torch.load(where / "names.pt"))
    net.eval()
    vocabulary = json.loads((where / "vocab.json").read_text())
    expected = [
        names.sample(
            net, item.get("start", ""), item.get("temperature", 1.0), item.get("max_length", 12), item.get("seed"),
            vocabulary=vocabulary,
        )
        for item in request["instances"]
    ]  # fmt: skip
    assert [prediction["text"] for prediction in answer["predictions"]] == expected
    assert answer["predictions"][0]["text"].startswith("K")
