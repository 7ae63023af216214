"""An image model's preprocessing contract, read from the artifact's ``image`` metadata_prop (no image library).

An export with ``--image 32x32`` (model_export.image_export) records what the graph's image input expects: its
size, how an image of another size is brought to it (``stretch``: resized to exactly that size, as
``Resize((h, w))``; ``crop``: its shorter side resized to the target, then centre-cropped, as ``Resize(size)``
then ``CenterCrop(size)``), its colour mode (RGB or L), and its layout and scaling. The exporter folds the
scaling and layout into the graph, which then takes raw pixels (uint8 [batch, height, width, channels]);
a contract may instead name ``scale``, ``mean`` and ``std`` for a float input, applied here after decoding,
so a graph exported elsewhere can be served by adding the metadata. Decoding itself is handler.image_decoding,
imported only by image models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handler.contract import MetadataKey as Key
from handler.errors import ModelLoadError
from handler.signature import TensorSpec, metadata_json

RESIZE_RULES = ("stretch", "crop")
RESAMPLING = ("bilinear", "bicubic", "nearest", "lanczos")  # Pillow's filters; torchvision's Resize uses bilinear
MODES = {"RGB": 3, "L": 1}
LAYOUTS = ("NHWC", "NCHW")


@dataclass(frozen=True)
class ImageContract:
    """What the image input takes and how a decoded image becomes it."""

    input: str
    height: int
    width: int
    mode: str  # "RGB" or "L"
    resize: str  # "stretch" or "crop"
    layout: str  # "NHWC" or "NCHW"
    datatype: str  # the graph input's: UINT8 (raw pixels) or FP32 (scaled here)
    scale: float = 1.0
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    max_pixels: int = 4096 * 4096
    resample: str = "bilinear"

    @property
    def channels(self) -> int:
        return MODES[self.mode]

    def describe(self) -> str:
        """What a client sends, for the input's description and errors."""
        how = "stretched to" if self.resize == "stretch" else "resized and centre-cropped to"
        return f"an encoded image (PNG, JPEG or WebP), {how} {self.width}x{self.height} {self.mode} by the server"

    def to_tensor(self, pixels: np.ndarray) -> np.ndarray:
        """Decoded images, uint8 [n, height, width, channels], as the graph's input."""
        if self.datatype == "UINT8":
            tensor = pixels
        else:
            tensor = pixels.astype(np.float32) * np.float32(self.scale)
            if self.mean:
                tensor = (tensor - np.asarray(self.mean, np.float32)) / np.asarray(self.std, np.float32)
        return np.ascontiguousarray(tensor.transpose(0, 3, 1, 2)) if self.layout == "NCHW" else tensor


def _numbers(value: object, count: int, name: str) -> tuple[float, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or len(value) != count or not all(isinstance(v, int | float) for v in value):
        raise ModelLoadError(f"metadata_props 'image' {name} is {str(value)[:80]}: expected {count} numbers")
    if name == "std" and not all(v > 0 for v in value):
        raise ModelLoadError(f"metadata_props 'image' std is {value}: expected positive numbers")
    return tuple(float(v) for v in value)


def _expected_shape(contract: ImageContract) -> tuple[int, ...]:
    h, w, c = contract.height, contract.width, contract.channels
    return (h, w, c) if contract.layout == "NHWC" else (c, h, w)


def _check_against(contract: ImageContract, spec: TensorSpec) -> None:
    want = _expected_shape(contract)
    fits = len(spec.shape) == 4 and all(dim in (-1, size) for dim, size in zip(spec.shape[1:], want, strict=True))
    if not fits or spec.datatype not in ("UINT8", "FP32"):
        raise ModelLoadError(
            f"metadata_props 'image' describes {contract.layout} {contract.mode} images of {contract.width}x"
            f"{contract.height}, but the graph's input is {spec.describe()}: expected UINT8 or FP32 "
            f"[batch, {', '.join(map(str, want))}]"
        )


def image_contract(metadata: Mapping[str, str], inputs: Sequence[TensorSpec], max_pixels: int) -> ImageContract | None:
    """The model's image contract when its metadata records one, checked against the graph; else None."""
    entry = metadata_json(metadata, Key.IMAGE)
    if entry is None:
        return None
    if not isinstance(entry, dict):
        raise ModelLoadError("metadata_props 'image' is not a JSON object")
    specs = {spec.name: spec for spec in inputs}
    name = entry.get("input")
    size_ok = all(isinstance(entry.get(key), int) and 0 < entry[key] <= 8192 for key in ("height", "width"))
    choices_ok = (
        entry.get("mode") in MODES
        and entry.get("resize") in RESIZE_RULES
        and entry.get("layout") in LAYOUTS
        and entry.get("resample", "bilinear") in RESAMPLING
    )
    if name not in specs or len(specs) != 1 or not size_ok or not choices_ok:
        raise ModelLoadError(
            f"metadata_props 'image' holds {str(entry)[:200]}: expected the one input's name, height and width "
            f"(1 to 8192), mode {'/'.join(MODES)}, resize {'/'.join(RESIZE_RULES)}, layout {'/'.join(LAYOUTS)} and "
            f"resample {'/'.join(RESAMPLING)}"
        )
    channels = MODES[entry["mode"]]
    contract = ImageContract(
        input=name,
        height=entry["height"],
        width=entry["width"],
        mode=entry["mode"],
        resize=entry["resize"],
        layout=entry["layout"],
        datatype=specs[name].datatype,
        scale=float(entry.get("scale", 1.0)),
        mean=_numbers(entry.get("mean"), channels, "mean"),
        std=_numbers(entry.get("std", [1.0] * channels if entry.get("mean") else None), channels, "std"),
        max_pixels=max_pixels,
        resample=str(entry.get("resample", "bilinear")),
    )
    _check_against(contract, specs[name])
    return contract


def warm_up_decoder(contract: ImageContract, path: Path) -> None:
    """Import the image decoder and decode one image at INIT; raises ModelLoadError when it is not installed."""
    try:
        from handler import image_decoding  # noqa: PLC0415 - Pillow is loaded only for models that take images
    except ImportError as exc:
        raise ModelLoadError(
            f"MODEL_PATH={str(path)!r} takes images, but the image decoder is not installed ({exc}): build the "
            "image with the images extra (pip install 'onnx-lambda[images]'; the Dockerfile's IMAGE_INPUTS=true)"
        ) from None
    image_decoding.warm_up(contract)
