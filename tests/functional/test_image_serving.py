"""GIVEN a CIFAR-10-style PyTorch classifier of coloured shapes exported with --image 32x32 (its normalisation in the
graph) and served through the real entry point's runtime WHEN clients post images as image APIs are called (a PNG,
JPEG or WebP body through every HTTP event kind, multipart uploads, base64 in JSON, an OIP BYTES tensor in JSON
and in the binary extension) THEN each answer is the PyTorch model's own class name on the user's preprocessing
of the same file, top-k names best first; undecodable, oversized (by pixels), animated, 16-bit and truncated
images, and images for a model that takes tensors, get a clear 4xx."""

from __future__ import annotations

import base64
import io
import json
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from handler.errors import ModelLoadError
from handler.model import load_model
from handler.runtime import Runtime
from handler.settings import settings_from_env
from tests.testkit import shapes
from tests.testkit.binary import binary_request
from tests.testkit.events import load_event, response_json
from tests.testkit.invoke import Call, caller, runtime_for

RNG = np.random.default_rng(11)
MULTIPART_X = "multipart/form-data; boundary=x"
IMAGES = [shapes.draw(label, RNG, size) for label, size in [(0, (32, 32)), (7, (64, 40)), (3, (45, 45)), (9, (20, 30))]]


@pytest.fixture(scope="module")
def net(shapes_model: tuple[Path, torch.nn.Module]) -> torch.nn.Module:
    return shapes_model[1]


@pytest.fixture(scope="module")
def model_path(shapes_model: tuple[Path, torch.nn.Module]) -> Path:
    return shapes_model[0]


@pytest.fixture(scope="module")
def served(model_path: Path) -> Runtime:
    return runtime_for(model_path, MAX_IMAGE_PIXELS=str(2000 * 2000))


@pytest.fixture(scope="module")
def call(served: Runtime) -> Call:
    return caller(served.http)


def expected(net: torch.nn.Module, images: list[Image.Image], k: int = 1) -> list[list[str]]:
    """The k most probable class names, best first, on the user's own preprocessing."""
    with torch.no_grad():
        scores = net(torch.stack([shapes.preprocess(image) for image in images]))
    return [
        [shapes.CLASSES[index] for index in row]
        for row in torch.argsort(scores, dim=1, descending=True)[:, :k].tolist()
    ]


def best(answer: dict[str, Any]) -> list[list[str]]:
    return [list(prediction["probabilities"]) for prediction in answer["predictions"]]


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "WEBP"])
@pytest.mark.parametrize(
    "event_file", ["http-api-v2.predict", "rest-v1-stage.predict", "alb.predict", "function-url.predict"]
)
def test_an_image_body_through_every_event_kind_gets_the_models_class(
    served: Runtime, net: torch.nn.Module, kind: str, event_file: str
) -> None:
    data = shapes.encoded(IMAGES[1], kind)
    decoded = Image.open(io.BytesIO(data)).convert("RGB")
    event = load_event(event_file)
    event["headers"] = {**event.get("headers", {}), "content-type": f"image/{kind.lower()}"}
    if "multiValueHeaders" in event:  # REST and ALB events carry each header in both maps
        event["multiValueHeaders"] = {**event["multiValueHeaders"], "content-type": [f"image/{kind.lower()}"]}
    event["body"], event["isBase64Encoded"] = base64.b64encode(data).decode(), True  # as each gateway sends binary
    response = served.http(event, None)
    assert response["statusCode"] == 200, response
    assert [prediction["label"] for prediction in response_json(response)["predictions"]] == expected(net, [decoded])[0]


@pytest.mark.parametrize("declared", ["application/x-www-form-urlencoded", "application/octet-stream", ""])
def test_an_image_sent_without_an_image_type_is_known_by_its_signature(
    call: Call, net: torch.nn.Module, declared: str
) -> None:
    """What `curl --data-binary @photo.png` sends (form-urlencoded), or a client's octet-stream, or no type."""
    data = shapes.encoded(IMAGES[2], "PNG")
    status, answer = call("POST", "/predict", raw=data, content_type=declared)
    assert status == 200, answer
    assert [p["label"] for p in answer["predictions"]] == expected(net, [IMAGES[2]])[0]


def test_a_json_body_sent_as_a_form_is_read_as_json(call: Call, net: torch.nn.Module) -> None:
    """curl -d '{"instances": [{"b64": ...}]}' sends form-urlencoded: not an image signature, so read as JSON."""
    encoded = base64.b64encode(shapes.encoded(IMAGES[0])).decode()
    status, answer = call(
        "POST", "/predict", {"instances": [{"b64": encoded}]}, content_type="application/x-www-form-urlencoded"
    )
    assert status == 200, answer
    assert [p["label"] for p in answer["predictions"]] == expected(net, [IMAGES[0]])[0]


def test_multipart_uploads_are_one_prediction_per_file_in_order_with_top_k(
    served: Runtime, net: torch.nn.Module
) -> None:
    boundary = "----onnx-lambda"
    parts = b""
    for index, image in enumerate(IMAGES):
        parts += (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{index}.png"\r\n'
                "Content-Type: image/png\r\n\r\n"
            ).encode()
            + shapes.encoded(image)
            + b"\r\n"
        )
    parts += f"--{boundary}--\r\n".encode()
    status, answer = caller(served.http)(
        "POST", "/predict?top_k=3", raw=parts, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert status == 200, answer
    assert best(answer) == expected(net, IMAGES, k=3)


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b"garbage", "multipart/form-data", "the multipart/form-data body cannot be read (Missing boundary"),
        (b"--x\r\ngarbage no headers", f"{MULTIPART_X}", "the multipart/form-data body cannot be read"),
        (b'--x\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--x--\r\n', MULTIPART_X, "has no file part"),
    ],
    ids=["no-boundary", "bad-headers", "no-file"],
)  # fmt: skip
def test_a_multipart_body_that_cannot_be_read_is_a_400_saying_so(
    call: Call, body: bytes, content_type: str, words: str
) -> None:
    status, answer = call("POST", "/predict", raw=body, content_type=content_type)
    assert status == 400, answer
    assert words in answer["error"]


def test_base64_in_json_answers_as_the_image_body_does(call: Call, net: torch.nn.Module) -> None:
    encoded = [base64.b64encode(shapes.encoded(image, "JPEG")).decode() for image in IMAGES]
    decoded = [Image.open(io.BytesIO(base64.b64decode(item))).convert("RGB") for item in encoded]
    status, answer = call("POST", "/predict", {"instances": [{"b64": item} for item in encoded], "top_k": 2})
    assert status == 200, answer
    assert best(answer) == expected(net, decoded, k=2)


def test_an_oip_bytes_tensor_of_images_in_json_and_in_binary_answers_the_class_names(
    served: Runtime, net: torch.nn.Module
) -> None:
    files = [shapes.encoded(image) for image in IMAGES]
    tensor = {
        "name": "image",
        "datatype": "BYTES",
        "shape": [len(files)],
        "data": [base64.b64encode(f).decode() for f in files],
    }
    status, answer = caller(served.http)("POST", "/v2/models/shapes/infer", {"inputs": [tensor]})
    assert status == 200, answer
    labels = {output["name"]: output for output in answer["outputs"]}["label"]
    want = [names[0] for names in expected(net, IMAGES)]
    assert (labels["datatype"], labels["data"]) == ("BYTES", want)
    header = {"inputs": [{"name": "image", "datatype": "BYTES", "shape": [len(files)]}], "outputs": [{"name": "label"}]}
    body, length = binary_request(header, {"image": np.array(files, dtype=object)})
    event = load_event("http-api-v2.infer-binary")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v2/models/shapes/infer"
    event["headers"] = {**event["headers"], "inference-header-content-length": str(length)}
    event["body"] = base64.b64encode(body).decode()
    response = served.http(event, None)
    assert response["statusCode"] == 200, response
    assert response_json(response)["outputs"][0]["data"] == want


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header claiming a huge image, with almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def animated_png() -> bytes:
    buffer = io.BytesIO()
    IMAGES[0].save(buffer, "PNG", save_all=True, append_images=[IMAGES[1].resize((32, 32))])
    return buffer.getvalue()


def sixteen_bit_png() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((8, 8), 40000, dtype=np.uint16)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "content_type", "status", "words"),
    [
        (b"GIF89a not really", "image/png", 400, "images[0]: not a PNG, JPEG or WebP image (17 bytes starting 47 49"),
        (png_claiming(60000, 60000), "image/png", 413, "the image is 60000x60000 = 3600000000 pixels, over the limit"),
        (animated_png(), "image/png", 400, "the PNG image is animated (2 frames): expected one still image"),
        (sixteen_bit_png(), "image/png", 400, "has mode I;16 (16-bit or float pixels): expected an 8-bit image"),
        (shapes.encoded(IMAGES[1])[:200], "image/png", 400, "the PNG image cannot be decoded"),
        (
            shapes.encoded(IMAGES[0]),
            "image/gif",
            415,
            "content-type image/gif is not an image type this server decodes",
        ),
        (b"", "image/png", 400, "images[0]: not a PNG, JPEG or WebP image (0 bytes starting nothing)"),
    ],
    ids=["not-an-image", "decompression-bomb", "animated", "16-bit", "truncated", "gif", "empty"],
)
def test_images_that_cannot_be_served_get_a_clear_4xx(
    call: Call, data: bytes, content_type: str, status: int, words: str
) -> None:
    got, answer = call("POST", "/predict", raw=data, content_type=content_type)
    assert got == status, answer
    assert words in answer["error"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"instances": [[1, 2, 3]]}, 'instances[0]: expected {"b64": "<base64 of the image>"} for this image model'),
        ({"instances": [{"b64": "%%%"}]}, "instances[0].b64: not valid base64 (3 characters)"),
        ({"instances": [{"b64": 7}]}, "instances[0].b64: expected the image as a base64 string, got int"),
    ],
    ids=["array", "bad-base64", "number"],
)
def test_json_that_is_not_an_image_is_a_400_saying_what_to_send(call: Call, body: dict[str, Any], words: str) -> None:
    status, answer = call("POST", "/predict", body)
    assert status == 400, answer
    assert words in answer["error"]


def test_an_image_for_a_model_that_takes_tensors_is_a_415_saying_what_it_takes(default_model: Path) -> None:
    status, answer = caller(runtime_for(default_model).http)(
        "POST", "/predict", raw=shapes.encoded(IMAGES[0]), content_type="image/png"
    )
    assert status == 415, answer
    assert "model 'digits-cnn' does not take images (it takes 'input' with shape [batch, 1, 8, 8]" in answer["error"]


def test_an_image_model_built_without_the_decoder_fails_init_saying_what_to_rebuild_with(
    model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What IMAGE_INPUTS=false leaves out of the image, simulated: Pillow's module cannot be imported."""
    import handler  # noqa: PLC0415

    monkeypatch.delattr(handler, "image_decoding", raising=False)
    monkeypatch.setitem(sys.modules, "handler.image_decoding", None)
    with pytest.raises(ModelLoadError, match="takes images, but the image decoder is not installed") as raised:
        load_model(settings_from_env({"MODEL_PATH": str(model_path)}), "local")
    assert "IMAGE_INPUTS=true" in str(raised.value)


def test_the_model_configuration_gives_the_image_inputs_format_and_dims(call: Call) -> None:
    """What Triton's image client reads to know how to lay its pixels out."""
    status, config = call("GET", "/v2/models/shapes/config")
    assert status == 200, config
    assert config["input"] == [
        {"name": "image", "data_type": "TYPE_UINT8", "format": "FORMAT_NHWC", "dims": [32, 32, 3]}
    ]
    assert config["max_batch_size"] > 0
    assert json.loads(config["parameters"]["image"]["string_value"])["resize"] == "stretch"


def test_a_raw_binary_request_to_an_image_model_is_one_encoded_image(served: Runtime, net: torch.nn.Module) -> None:
    """Inference-Header-Content-Length: 0 with the file itself as the body, as Triton's raw binary request."""
    event = load_event("http-api-v2.infer-binary")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/v2/models/shapes/infer"
    event["headers"] = {**event["headers"], "inference-header-content-length": "0"}
    event["body"] = base64.b64encode(shapes.encoded(IMAGES[1], "JPEG")).decode()
    response = served.http(event, None)
    assert response["statusCode"] == 200, response
    jpeg = Image.open(io.BytesIO(base64.b64decode(event["body"]))).convert("RGB")
    labels = {output["name"]: output for output in response_json(response)["outputs"]}["label"]
    assert labels["data"] == expected(net, [jpeg])[0]
