"""GIVEN a CIFAR-10-style PyTorch classifier of coloured shapes WHEN exported with an image contract (from Python and
with --image on the command line) THEN the graph takes raw pixels uint8 [batch, height, width, 3], the artifact
records the contract, the parity check compares the served path (the handler's decoder, then the graph) with the
user's own preprocessing on PNG and JPEG files class for class, and a preprocessing that disagrees with the
contract is refused before anything is written."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from PIL import Image

from handler.image_contract import image_contract
from handler.image_decoding import images_to_tensor
from handler.signature import specs_from_nodes
from model_export import ParityError, export_torch
from model_export.image_export import image_spec
from tests.testkit import shapes

Cli = Callable[..., subprocess.CompletedProcess[str]]
RNG = np.random.default_rng(4)


@pytest.fixture(scope="module")
def net() -> torch.nn.Module:
    return shapes.trained(400, epochs=4, seed=1)


def files(count: int = 8) -> list[bytes]:
    sizes = [(32, 32), (50, 38), (64, 64), (31, 45)]
    return [
        shapes.encoded(shapes.draw(index % 10, RNG, sizes[index % 4]), "JPEG" if index % 2 else "PNG")
        for index in range(count)
    ]


def served_labels(path: Path, images: list[bytes]) -> list[str]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    metadata = session.get_modelmeta().custom_metadata_map
    contract = image_contract(metadata, specs_from_nodes(session.get_inputs(), {}), 10**8)
    assert contract is not None
    (labels, _) = session.run(None, {"image": images_to_tensor(images, contract, "test")})
    return [str(label) for label in labels]


def torch_labels(net: torch.nn.Module, images: list[bytes]) -> list[str]:
    import io  # noqa: PLC0415

    tensors = [shapes.preprocess(Image.open(io.BytesIO(data))) for data in images]
    with torch.no_grad():
        return [shapes.CLASSES[index] for index in net(torch.stack(tensors)).argmax(dim=1).tolist()]


def test_the_graph_takes_raw_pixels_and_records_its_contract_and_answers_as_pytorch_on_files(
    tmp_path: Path, net: torch.nn.Module
) -> None:
    spec = image_spec("32x32", mean=shapes.MEAN, std=shapes.STD)
    report = export_torch(
        net, tmp_path / "shapes.onnx", image=spec, class_labels=shapes.CLASSES, preprocess=shapes.preprocess
    )
    session = ort.InferenceSession(str(tmp_path / "shapes.onnx"), providers=["CPUExecutionProvider"])
    assert [(node.name, node.type, node.shape) for node in session.get_inputs()] == [
        ("image", "tensor(uint8)", ["batch", 32, 32, 3])
    ]
    contract = json.loads(session.get_modelmeta().custom_metadata_map["image"])
    assert {key: contract[key] for key in ("input", "height", "width", "mode", "resize", "layout")} == {
        "input": "image", "height": 32, "width": 32, "mode": "RGB", "resize": "stretch", "layout": "NHWC"
    }  # fmt: skip
    assert contract["folded"]["mean"] == list(shapes.MEAN)
    assert report.parity.class_agreement == 1.0
    images = files()
    assert served_labels(tmp_path / "shapes.onnx", images) == torch_labels(net, images)


def test_the_users_own_image_files_make_the_parity_check(tmp_path: Path, net: torch.nn.Module) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for index, data in enumerate(files(6)):
        (folder / f"{index}.{'jpg' if index % 2 else 'png'}").write_bytes(data)
    spec = image_spec("32x32", mean=shapes.MEAN, std=shapes.STD)
    report = export_torch(net, tmp_path / "s.onnx", image=spec, images=[folder], preprocess=shapes.preprocess)
    assert report.parity.samples == 6 + 1  # the six files, and a batch of another size


def test_a_preprocessing_that_disagrees_with_the_contract_is_refused_and_nothing_is_written(
    tmp_path: Path, net: torch.nn.Module
) -> None:
    spec = image_spec("32x32")  # no mean and std: the contract says plain /255, the user's code normalises
    with pytest.raises(ParityError):
        export_torch(net, tmp_path / "s.onnx", image=spec, preprocess=shapes.preprocess, images=None)
    assert not (tmp_path / "s.onnx").exists()


def test_a_crop_contract_matches_resize_then_centre_crop_of_the_shorter_side(
    tmp_path: Path, net: torch.nn.Module
) -> None:
    def crop_preprocess(image: Image.Image) -> torch.Tensor:
        width, height = image.size
        scale = 32 / min(width, height)
        resized = image.resize((max(32, int(width * scale)), max(32, int(height * scale))), Image.Resampling.BILINEAR)
        left, top = round((resized.width - 32) / 2), round((resized.height - 32) / 2)
        return shapes.preprocess(resized.crop((left, top, left + 32, top + 32)))

    spec = image_spec("32x32", resize="crop", mean=shapes.MEAN, std=shapes.STD)
    report = export_torch(net, tmp_path / "c.onnx", image=spec, preprocess=crop_preprocess)
    assert report.parity.max_abs_diff < 1e-4


def test_the_cli_exports_an_image_classifier_from_a_module_and_its_weights(
    tmp_path: Path, cli: Cli, net: torch.nn.Module
) -> None:
    (tmp_path / "net.py").write_text((Path(shapes.__file__)).read_text())
    torch.save(net.state_dict(), tmp_path / "weights.pt")
    images = files(4)
    for index, data in enumerate(images):
        (tmp_path / f"{index}.png").write_bytes(data)
    result = cli(
        "torch", "--module", "net:ShapesNet", "--state-dict", "weights.pt", "--image", "32x32",
        "--mean", ",".join(map(str, shapes.MEAN)), "--std", ",".join(map(str, shapes.STD)),
        "--images", ".", "--preprocess", "net:preprocess", "--labels", ",".join(shapes.CLASSES), "-o", "s.onnx",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert served_labels(tmp_path / "s.onnx", images) == torch_labels(net, images)
    bad = cli(
        "torch",
        "--module",
        "net:ShapesNet",
        "--state-dict",
        "weights.pt",
        "--image",
        "32by32",
        "-o",
        "x.onnx",
        cwd=tmp_path,
    )
    assert bad.returncode != 0
    assert "expected WIDTHxHEIGHT, e.g. 32x32" in bad.stderr
