"""Encoded images (PNG, JPEG, WebP) as an image model's input tensor, with Pillow.

Why Pillow and not onnxruntime-extensions' DecodeImage op: measured here, Pillow (pruned to what decoding needs,
~9 MB) reads WebP, which the op does not; it reads an image's size from its header before decoding any pixel,
so a decompression bomb (a few kilobytes claiming gigapixels) is refused unread, where the op decodes first; it
says whether an image is animated and what mode it is in; and its resize is the one torchvision's ``Resize``
calls on PIL images, so the served pixels are the ones users' own preprocessing makes. Decode time was the
same for a 640x480 JPEG (6.1 vs 6.6 ms); the op was faster on 32x32 files (40 vs 101 us) but importing its
Python package took 2.2 s.

Only PNG, JPEG and WebP are opened (``formats=``): every other decoder Pillow has stays out of reach of a
request. EXIF orientation is not applied, as PIL's ``Image.open`` does not apply it in the user's own code.
"""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from handler.errors import BadRequest, PayloadTooLarge
from handler.image_contract import ImageContract

FORMATS = ("PNG", "JPEG", "WEBP")
# 8-bit modes Pillow converts to RGB or L without choosing a scale: 16-bit (I;16) and float (F) pixels are not
# images a model trained on 8-bit ones can be given without a rule this contract does not have.
EIGHT_BIT = frozenset({"1", "L", "LA", "P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "La"})
WARM_UP_PNG = (  # a 2x2 RGB PNG
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGOskDvBwMDAxMDAwMDAAAAQQgFibCXzygAAAABJRU5ErkJggg=="
)
Image.MAX_IMAGE_PIXELS = None  # each image is checked against the contract's own limit, before decoding


def _opened(data: bytes, where: str) -> Any:
    try:
        return Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        head = data[:8].hex(" ") if data else "nothing"
        raise BadRequest(
            f"{where}: not a PNG, JPEG or WebP image ({len(data)} bytes starting {head}): expected an encoded image"
        ) from None
    except Exception as exc:  # a decoder's header parser raises its own kinds on a cut or corrupt file
        raise BadRequest(f"{where}: the image's header cannot be read ({exc}): expected a whole image") from None


def _checked(image: Any, contract: ImageContract, where: str) -> None:
    width, height = image.size
    if width * height > contract.max_pixels:
        raise PayloadTooLarge(
            f"{where}: the image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{contract.max_pixels} (MAX_IMAGE_PIXELS); send it smaller (the model takes {contract.width}x"
            f"{contract.height})"
        )
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        raise BadRequest(f"{where}: the {image.format} image is animated ({frames} frames): expected one still image")
    if image.mode not in EIGHT_BIT:
        raise BadRequest(
            f"{where}: the {image.format} image has mode {image.mode} (16-bit or float pixels): expected an 8-bit "
            "image (RGB, RGBA, grayscale or palette)"
        )


def _resized(image: Any, contract: ImageContract) -> Any:
    """The image at the contract's size: stretched, or (``crop``) its shorter side resized, then centre-cropped as
    torchvision's Resize(size) and CenterCrop(size) do."""
    target = (contract.width, contract.height)
    if image.size == target:
        return image
    resample = Image.Resampling[contract.resample.upper()]
    if contract.resize == "stretch":
        return image.resize(target, resample)
    width, height = image.size
    ratio = max(contract.width / width, contract.height / height)
    scaled = (max(contract.width, int(width * ratio)), max(contract.height, int(height * ratio)))
    image = image.resize(scaled, resample)
    left = round((scaled[0] - contract.width) / 2.0)
    top = round((scaled[1] - contract.height) / 2.0)
    return image.crop((left, top, left + contract.width, top + contract.height))


def decode_image(data: bytes, contract: ImageContract, where: str) -> np.ndarray:
    """One encoded image as uint8 [height, width, channels]; raises BadRequest or PayloadTooLarge naming ``where``."""
    with _opened(data, where) as image:
        _checked(image, contract, where)
        try:
            image.load()
            converted = image if image.mode == contract.mode else image.convert(contract.mode)
        except Exception as exc:  # a truncated or corrupt body fails only when decoded, in the decoder's own kinds
            raise BadRequest(
                f"{where}: the {image.format} image cannot be decoded ({exc}): expected a whole image"
            ) from None
        pixels = np.asarray(_resized(converted, contract), dtype=np.uint8)
    return pixels.reshape(contract.height, contract.width, contract.channels)


def images_to_tensor(images: Sequence[bytes], contract: ImageContract, where: str) -> np.ndarray:
    """Encoded images as the graph's input tensor, each checked and decoded; ``where`` names the list."""
    if not images:
        raise BadRequest(f"{where}: expected at least one image")
    pixels = np.stack([decode_image(data, contract, f"{where}[{index}]") for index, data in enumerate(images)])
    return contract.to_tensor(pixels)


def from_base64(text: Any, where: str) -> bytes:
    """An image sent in JSON: base64 (standard or URL-safe, padding optional), as TF Serving's {"b64": ...}."""
    if not isinstance(text, str):
        raise BadRequest(f"{where}: expected the image as a base64 string, got {type(text).__name__}")
    compact = "".join(text.split()).replace("-", "+").replace("_", "/")  # MIME line breaks; URL-safe letters
    try:
        return base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest(
            f"{where}: not valid base64 ({len(text)} characters): expected an encoded image in base64"
        ) from None


def warm_up(contract: ImageContract) -> None:
    """Decode a 2x2 PNG at INIT (resized to the model's size), so the first request does not pay for loading the
    decoders."""
    images_to_tensor([base64.b64decode(WARM_UP_PNG)], contract, "warm-up")
