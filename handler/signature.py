"""What a model takes and gives, read from the ONNX graph and its metadata_props by onnxruntime alone.

The Open Inference Protocol names element types differently from ONNX: the contract (handler.contract) maps
one to the other for both halves; the numpy dtype of each protocol datatype is here, where numpy is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from handler.contract import NOT_A_TENSOR, datatype_of, shape_text
from handler.errors import ModelLoadError

# Open Inference Protocol datatypes -> numpy dtypes. BF16 has no numpy dtype: it is carried as FP32 on
# the wire in JSON and refused as a model input (onnxruntime's Python API cannot feed it).
DATATYPE_TO_NUMPY: dict[str, np.dtype[Any]] = {
    "BOOL": np.dtype(np.bool_),
    "UINT8": np.dtype(np.uint8),
    "UINT16": np.dtype(np.uint16),
    "UINT32": np.dtype(np.uint32),
    "UINT64": np.dtype(np.uint64),
    "INT8": np.dtype(np.int8),
    "INT16": np.dtype(np.int16),
    "INT32": np.dtype(np.int32),
    "INT64": np.dtype(np.int64),
    "FP16": np.dtype(np.float16),
    "FP32": np.dtype(np.float32),
    "FP64": np.dtype(np.float64),
    "BYTES": np.dtype(np.object_),
}


@dataclass(frozen=True)
class TensorSpec:
    """One input or output: its name, protocol datatype, shape (-1 where dynamic) and meaning."""

    name: str
    datatype: str
    shape: tuple[int, ...]
    dim_names: tuple[str | None, ...]
    onnx_type: str
    description: str | None = None

    @property
    def is_tensor(self) -> bool:
        """Sequences and maps (e.g. skl2onnx's ZipMap) cannot be carried by the protocol."""
        return self.datatype != NOT_A_TENSOR

    def shape_text(self) -> str:
        """The shape as a person reads it: [batch, 1, 8, 8]."""
        return shape_text([name or size for size, name in zip(self.shape, self.dim_names, strict=True)])

    def describe(self) -> str:
        """Name, shape and datatype, for error messages that say what was expected."""
        return f"'{self.name}' with shape {self.shape_text()} and datatype {self.datatype}"


def spec_from_node(node: Any, descriptions: Mapping[str, str]) -> TensorSpec:
    """Turn an onnxruntime NodeArg into a TensorSpec; symbolic or unknown dimensions become -1."""
    shape: list[int] = []
    names: list[str | None] = []
    for dim in node.shape or []:
        if isinstance(dim, int) and dim >= 0:
            shape.append(dim)
            names.append(None)
        else:
            shape.append(-1)
            names.append(dim if isinstance(dim, str) and dim else None)
    return TensorSpec(
        name=node.name,
        datatype=datatype_of(node.type),
        shape=tuple(shape),
        dim_names=tuple(names),
        onnx_type=node.type,
        description=descriptions.get(node.name),
    )


def metadata_json(metadata: Mapping[str, str], key: str) -> Any:
    """One metadata_prop's JSON, or None when absent or not JSON (treated as absent, as before); raises
    ModelLoadError for JSON no parser should be made to read: nested past the recursion limit, or an integer
    past Python's digit limit (a hostile or corrupted model must fail INIT with one line, not a traceback)."""
    if key not in metadata:
        return None
    try:
        value = json.loads(metadata[key])
        repr(value)  # what str() of its items does below, within the same recursion limit
    except json.JSONDecodeError:
        return None
    except (RecursionError, ValueError) as exc:
        why = "is nested too deeply" if isinstance(exc, RecursionError) else "holds an integer too long to read"
        raise ModelLoadError(f"the model's metadata_props[{key[:100]!r}] {why}: expected plain JSON") from None
    return value


def json_mapping(metadata: Mapping[str, str], key: str) -> dict[str, str]:
    """A JSON object stored in one metadata_prop; anything that is not one is treated as absent."""
    value = metadata_json(metadata, key)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def json_list(metadata: Mapping[str, str], key: str) -> list[str] | None:
    """A JSON list of strings stored in one metadata_prop, or None."""
    value = metadata_json(metadata, key)
    return [str(item) for item in value] if isinstance(value, list) else None


def specs_from_nodes(nodes: Sequence[Any], descriptions: Mapping[str, str]) -> tuple[TensorSpec, ...]:
    """All of a session's inputs or outputs, in graph order."""
    return tuple(spec_from_node(node, descriptions) for node in nodes)
