"""The PyTorch half of an image export (model_export.image_export): the raw-pixels graph and its reference.

Imported only once an image export runs, because it imports torch.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Unpack

import numpy as np
import torch
from PIL import Image

from handler.contract import shape_text
from handler.image_decoding import decode_image
from model_export import torch_convert
from model_export.errors import ShapeMismatchError, UnsupportedModelError
from model_export.image_export import (
    IMAGE_HINTS,
    IMAGE_INPUT,
    ImageSpec,
    Preprocess,
    generated_images,
    parity_image_batches,
    pixel_feeds,
)
from model_export.options import DEFAULT_OPSET, ExportOptions, card_of, tolerance_of, tuning_of
from model_export.parity import ParitySpec, SourcePredict
from model_export.report import ExportReport
from model_export.torch_wrappers import RawPixels
from model_export.writer import finish_export


def _contract_tensor(image: bytes, spec: ImageSpec) -> torch.Tensor:
    """The contract's own preprocessing, in PyTorch: decoded and resized pixels, scaled and normalised, CHW."""
    pixels = torch.from_numpy(decode_image(image, spec.served(), "parity image").copy())
    mean, std = spec.normalisation()
    x = pixels.permute(2, 0, 1).to(torch.float32) * spec.scale
    return (x - torch.tensor(mean).reshape(-1, 1, 1)) / torch.tensor(std).reshape(-1, 1, 1)


def _user_tensor(image: bytes, preprocess: Preprocess, spec: ImageSpec) -> torch.Tensor:
    """The user's own preprocessing of the file, opened with PIL as their code opens it."""
    with Image.open(io.BytesIO(image)) as opened:
        tensor = preprocess(opened.convert(spec.mode))
    expected = (spec.channels, spec.height, spec.width)
    if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != expected:
        found = list(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
        raise ShapeMismatchError(f"preprocess gave {found} for an image: expected a float tensor {list(expected)}")
    return tensor.to(torch.float32)


def reference(
    module: torch.nn.Module, spec: ImageSpec, preprocess: Preprocess | None, labels: Sequence[str], softmax: bool
) -> SourcePredict:
    """The user's module on encoded images, preprocessed their way (or the contract's), as parity's source."""
    names = np.asarray(labels, dtype=object)

    def predict(images: list[bytes]) -> Mapping[str, np.ndarray]:
        tensors = [
            _user_tensor(image, preprocess, spec) if preprocess else _contract_tensor(image, spec) for image in images
        ]
        with torch.no_grad():
            scores = module(torch.stack(tensors))
        probabilities = torch.softmax(scores, dim=1) if softmax else scores
        return {"label": names[torch.argmax(scores, dim=1).numpy()], "probabilities": probabilities.numpy()}

    return predict


def export_image_classifier(
    module: torch.nn.Module,
    path: Path,
    spec: ImageSpec,
    *,
    images: list[bytes] | None,
    preprocess: Preprocess | None,
    outputs_kind: str,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Wrap the module to take raw pixels, convert, check parity on encoded images, write; raises an ExportError."""
    tuning = tuning_of(options)
    if tuning.quantize is not None:
        raise UnsupportedModelError(
            "--quantize int8 judges a model on held-out arrays; export an image model without it"
        )
    mean, std = spec.normalisation()
    wrapped = RawPixels(module, spec.scale, mean, std)
    example = torch.zeros((2, spec.height, spec.width, spec.channels), dtype=torch.uint8)
    converted = torch_convert.convert(
        wrapped,
        examples={IMAGE_INPUT: example},
        classifier=True,
        outputs_kind=outputs_kind,
        labels=options.get("class_labels"),
        opset=options.get("opset", DEFAULT_OPSET),
    )
    labels = converted.class_labels or []
    shape = shape_text(["batch", spec.height, spec.width, spec.channels])
    card = card_of(
        options,
        path,
        task="classification",
        input_default="",
        outputs={
            "label": "string [batch]: the most probable class's name (one of class_labels)",
            "probabilities": "float32 [batch, classes]: class probabilities; column i is class_labels[i]",
        },
        source=("pytorch", torch_convert.TORCH_VERSION, torch_convert.CONVERTER),
        class_labels=labels,
        inputs={IMAGE_INPUT: f"uint8 {shape}: raw {spec.mode} pixels; the server decodes and resizes images to them"},
    )
    card = replace(card, image=spec.metadata())
    source = reference(module, spec, preprocess, labels, softmax=outputs_kind == "logits")
    given = images if images is not None else generated_images(spec)
    return finish_export(
        converted.model,
        card=card,
        source=source,
        batches=parity_image_batches(given),
        spec=ParitySpec(compare=("probabilities",), label="label", hints=IMAGE_HINTS, feeds_of=pixel_feeds(spec)),
        tolerance=tolerance_of(options),
        path=path,
        tuning=tuning,
        notes=converted.notes,
    )
