"""One exact sample per protocol datatype (four values each, exactly representable), for the codec, binary
extension and HTTP tests."""

from __future__ import annotations

from typing import Any

SAMPLES: dict[str, list[Any]] = {
    "BOOL": [True, False, True, True],
    "UINT8": [0, 1, 254, 255],
    "UINT16": [0, 1, 65534, 65535],
    "UINT32": [0, 1, 2, 4294967295],
    "UINT64": [0, 1, 2, 3],
    "INT8": [-128, -1, 0, 127],
    "INT16": [-32768, 0, 1, 32767],
    "INT32": [-2147483648, 0, 1, 2147483647],
    "INT64": [-(2**63), 0, 1, 2**63 - 1],
    "FP16": [0.5, -1.25, 2.0, 65504.0],
    "FP32": [0.5, -1.25, 3.0, 0.125],  # exactly representable, so the JSON round trip is exact
    "FP64": [0.1, -1e300, 3.0, 2.5],
    "BYTES": ["a", "", "ünï", "z z"],
}
