"""A model's configuration in Triton's shape (``GET /v2/models/{name}/config``), derived from its ONNX signature and
metadata_props, for clients that read it before they send anything (Triton's image client reads
``max_batch_size`` and its input's ``format`` and ``dims``).

``max_batch_size`` is MAX_BATCH_SIZE when every input's first axis is dynamic (the dims then leave the batch axis
out, as Triton's do), else 0 with full dims. An image model's input has ``format`` FORMAT_NHWC and its contract in
the parameters; every metadata_prop is a parameter, as Triton's config holds them (``{"string_value": ...}``).
"""

from __future__ import annotations

from typing import Any

from handler.model import PLATFORM, OnnxModel
from handler.signature import TensorSpec

TRITON_TYPES = {"BYTES": "TYPE_STRING", "BF16": "TYPE_BF16"}  # the others are TYPE_ + the protocol's name


def _tensor(spec: TensorSpec, batched: bool, image_input: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": spec.name,
        "data_type": TRITON_TYPES.get(spec.datatype, f"TYPE_{spec.datatype}"),
        "dims": list(spec.shape[1:] if batched else spec.shape),
    }
    if image_input is not None:
        entry["format"] = "FORMAT_NHWC" if spec.name == image_input else "FORMAT_NONE"
    return entry


def triton_config(model: OnnxModel) -> dict[str, Any]:
    """The model's configuration as Triton's model configuration JSON gives it."""
    info = model.info
    tensors = [*info.inputs, *info.tensor_outputs]
    batched = all(spec.shape[:1] == (-1,) for spec in tensors)
    image = info.image.input if info.image is not None else None
    return {
        "name": info.name,
        "platform": PLATFORM,
        "backend": "onnxruntime",
        "version_policy": {"specific": {"versions": [info.version]}},
        "max_batch_size": model.max_batch_size if batched else 0,
        "input": [_tensor(spec, batched, image) for spec in info.inputs],
        "output": [_tensor(spec, batched, None) for spec in info.tensor_outputs],
        "parameters": {key: {"string_value": value} for key, value in sorted(info.metadata.items())},
    }
