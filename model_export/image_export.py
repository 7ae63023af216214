"""Image classifiers from PyTorch: the graph takes raw pixels, the artifact records how images become them.

``export_torch(module, path, image="32x32", mean=..., std=...)`` (``--image 32x32`` on the command line) wraps
the module in ``RawPixels`` (model_export.torch_wrappers), so scaling, normalisation and the NHWC to NCHW
transpose are in the graph, and records the rest of the contract in the ``image`` metadata_prop: size, resize
rule, colour mode (handler.image_contract reads it). The server then only decodes and resizes.

The parity check runs on encoded image files, PNG and JPEG (the user's own, or generated shapes of several
sizes, modes and formats), both ways: the served path (the handler's own decoder, then the graph) against the
user's preprocessing in PyTorch (``preprocess``: a PIL image to a float tensor [channels, height, width], as a
torchvision transform gives), or, without one, the contract's preprocessing written in PyTorch. Classes must
agree image for image, and probabilities within the tolerance.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from handler.image_contract import MODES, RESAMPLING, RESIZE_RULES, ImageContract
from model_export.errors import DataFileError, ShapeMismatchError

IMAGE_INPUT = "image"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
Preprocess = Callable[[Any], Any]  # a PIL image -> a float tensor [channels, height, width]


@dataclass(frozen=True)
class ImageSpec:
    """The image contract an export records: what the module was trained on."""

    height: int
    width: int
    mode: str = "RGB"
    resize: str = "stretch"
    scale: float = 1 / 255
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    resample: str = "bilinear"

    @property
    def channels(self) -> int:
        return MODES[self.mode]

    def normalisation(self) -> tuple[list[float], list[float]]:
        """Per-channel mean and std (0 and 1 when not given)."""
        mean = list(self.mean) if self.mean is not None else [0.0] * self.channels
        std = list(self.std) if self.std is not None else [1.0] * self.channels
        return mean, std

    def metadata(self) -> dict[str, Any]:
        """The ``image`` metadata_prop: what the server does, and (``folded``) what the graph does itself."""
        mean, std = self.normalisation()
        folded = {"scale": self.scale, "mean": mean, "std": std, "module_layout": "NCHW"}
        return {
            "input": IMAGE_INPUT,
            "height": self.height,
            "width": self.width,
            "mode": self.mode,
            "resize": self.resize,
            "resample": self.resample,
            "layout": "NHWC",
            "folded": folded,
        }

    def served(self) -> ImageContract:
        """The contract as the server reads it, for decoding the parity images the way it will."""
        return ImageContract(
            IMAGE_INPUT, self.height, self.width, self.mode, self.resize, "NHWC", "UINT8", resample=self.resample
        )


def image_spec(
    size: str | tuple[int, int],
    *,
    mode: str = "RGB",
    resize: str = "stretch",
    resample: str = "bilinear",
    **normal: Any,
) -> ImageSpec:
    """An ImageSpec from "32x32" (width x height) or (height, width); raises ValueError naming what is wrong."""
    if isinstance(size, str):
        parts = size.lower().split("x")
        if len(parts) != 2 or not all(part.isdigit() and int(part) > 0 for part in parts):
            raise ValueError(f"image size {size!r}: expected WIDTHxHEIGHT, e.g. 32x32")
        height, width = int(parts[1]), int(parts[0])
    else:
        height, width = size
    if mode not in MODES or resize not in RESIZE_RULES or resample not in RESAMPLING:
        raise ValueError(
            f"mode {mode!r} / resize {resize!r} / resample {resample!r}: expected one of {list(MODES)} / "
            f"{list(RESIZE_RULES)} / {list(RESAMPLING)}"
        )
    scale = float(normal.get("scale", 1 / 255))
    return ImageSpec(height, width, mode, resize, scale, *_normal(normal, MODES[mode]), resample=resample)


def _normal(normal: dict[str, Any], channels: int) -> tuple[tuple[float, ...] | None, tuple[float, ...] | None]:
    found = []
    for name in ("mean", "std"):
        value = normal.get(name)
        if value is not None and len(value) != channels:
            raise ValueError(f"{name} has {len(value)} values: expected one per channel ({channels})")
        if name == "std" and value is not None and not all(float(item) > 0 for item in value):
            raise ValueError(f"std {list(value)}: expected positive values")
        found.append(tuple(float(item) for item in value) if value is not None else None)
    return found[0], found[1]


def read_images(paths: Sequence[str | Path]) -> list[bytes]:
    """The encoded images in these files, or in these folders (.png, .jpg, .jpeg, .webp, sorted by name)."""
    files: list[Path] = []
    for given in map(Path, paths):
        if given.is_dir():
            files += sorted(path for path in given.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
        elif given.is_file():
            files.append(given)
        else:
            raise DataFileError(f"image path {given} is neither a file nor a folder")
    if not files:
        raise DataFileError(f"no .png, .jpg, .jpeg or .webp files in {', '.join(map(str, paths))}")
    return [path.read_bytes() for path in files]


def generated_images(spec: ImageSpec, count: int = 12, seed: int = 0) -> list[bytes]:
    """Shapes on backgrounds, at the contract's size and others (so resizing is checked), as PNG and JPEG files in
    RGB, grayscale and RGBA, the way cameras and screenshots make them."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - Pillow is the handler's decoder, present when it is

    rng = np.random.default_rng(seed)
    sizes = [(spec.width, spec.height), (spec.width * 2, spec.height + 7), (spec.width + 13, spec.height * 3 // 2)]
    images = []
    for index in range(count):
        width, height = sizes[index % len(sizes)]
        image = Image.new("RGB", (width, height), tuple(int(v) for v in rng.integers(0, 256, 3)))
        box = sorted(rng.integers(0, width, 2).tolist()), sorted(rng.integers(0, height, 2).tolist())
        ImageDraw.Draw(image).ellipse((box[0][0], box[1][0], box[0][1], box[1][1]), fill=tuple(rng.integers(0, 256, 3)))
        kind = ("PNG", "JPEG", "PNG-L", "PNG-RGBA")[index % 4]
        converted = image.convert({"PNG-L": "L", "PNG-RGBA": "RGBA"}.get(kind, "RGB"))
        buffer = io.BytesIO()
        converted.save(buffer, "JPEG" if kind == "JPEG" else "PNG", quality=90)
        images.append(buffer.getvalue())
    return images


def parity_image_batches(images: list[bytes]) -> list[list[bytes]]:
    """The images, and a batch of another size (reused cyclically) to exercise the batch axis."""
    size = next(n for n in (1, 3, 5, 7) if n != len(images))
    return [images, [images[index % len(images)] for index in range(size)]]


def pixel_feeds(spec: ImageSpec) -> Callable[[list[bytes]], dict[str, np.ndarray]]:
    """The parity check's feeds: encoded images decoded by the handler's own decoder, as the server feeds them."""
    from handler.image_decoding import images_to_tensor  # noqa: PLC0415 - Pillow, for image exports only

    contract = spec.served()

    def feeds(images: list[bytes]) -> dict[str, np.ndarray]:
        return {IMAGE_INPUT: images_to_tensor(images, contract, "parity image")}

    return feeds


IMAGE_HINTS = (
    "the served path resizes with the contract's filter (--resample, bilinear by default, as torchvision's Resize; "
    "PIL's own Image.resize defaults to bicubic) and normalises with its --mean and --std: check that --preprocess "
    "does the same",
)


def check_example(spec: ImageSpec, example_input: Any, input_shape: Sequence[int] | None) -> None:
    """An image export's module takes [batch, channels, height, width]; an example that says otherwise is refused."""
    if example_input is not None or input_shape is None:
        return
    expected = (spec.channels, spec.height, spec.width)
    if tuple(input_shape[1:]) != expected:
        raise ShapeMismatchError(
            f"input_shape {list(input_shape)} does not match the image contract: expected [batch, "
            f"{', '.join(map(str, expected))}] for {spec.width}x{spec.height} {spec.mode} images"
        )
