"""GIVEN the "Serve an image classifier" section (docs/examples.md) WHEN a newcomer copies its two files into an
empty folder and runs its commands as written (the server in the background, as the page starts it) THEN the image
body and the multipart upload are answered with the classes the trained ShapesNet gives on the user's own
preprocessing of the same files, the top three best first."""

from __future__ import annotations

import json

import pytest
import torch
from PIL import Image

from tests.testkit.readme_examples import example, load_module, ran


def test_the_readme_curls_get_the_classes_pytorch_gives_on_the_same_files(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    assert example("image").outline() == (
        ["shapes_net.py", "train_shapes.py"],
        [
            ["python", "train_shapes.py"],
            ["onnx-lambda", "export"],
            ["onnx-lambda", "serve"],
            ["curl", "-s"],
            ["curl", "-s"],
        ],
    )
    where = tmp_path_factory.mktemp("image-newcomer")
    with ran("image", where) as printed:
        body, upload = (json.loads(curl.stdout) for curl in printed)
    shapes_net = load_module(where / "shapes_net.py")
    net = shapes_net.ShapesNet()
    net.load_state_dict(torch.load(where / "shapes.pt"))
    net.eval()
    with torch.no_grad():
        scores = net(
            torch.stack([shapes_net.preprocess(Image.open(where / name)) for name in ("photo.png", "photo.jpg")])
        )
    ranked = [[shapes_net.CLASSES[index] for index in row] for row in scores.argsort(dim=1, descending=True).tolist()]
    assert list(body["predictions"][0]["probabilities"]) == ranked[0][:3]
    assert [prediction["label"] for prediction in upload["predictions"]] == [ranked[1][0]]
