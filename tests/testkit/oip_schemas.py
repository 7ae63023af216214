"""JSON Schemas (draft 2020-12) of every answer the protocol routes give, written for these tests from the published
texts, not copied from them: the Open Inference Protocol's REST specification (kserve/open-inference-protocol,
``specification/protocol/inference_rest.md`` and ``open_inference_rest.yaml``) and, for the extensions, Triton's
protocol documents (``docs/protocol/extension_statistics.md``, ``extension_model_repository.md``,
``extension_model_configuration.md`` and ``extension_binary_data.md`` of triton-inference-server/server).

Where the two spec files differ, the stricter reading is taken: the Markdown requires ``id`` in an inference
response and ``inputs``/``outputs`` in model metadata, which the YAML leaves optional. Beyond what a schema can
say, ``check_tensor_sizes`` applies the text's rule that a tensor's shape and data describe the same elements.
"""

from __future__ import annotations

import math
from typing import Any

from jsonschema import Draft202012Validator

Schema = dict[str, Any]

# The protocol's tensor data types ("Tensor Data Types"); Triton's configuration spells them TYPE_*, STRING for BYTES.
DATATYPES = ["BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64"]
DATATYPES += ["FP16", "FP32", "FP64", "BYTES"]
CONFIG_TYPES = [f"TYPE_{name}" for name in DATATYPES if name != "BYTES"] + ["TYPE_STRING"]

STRING: Schema = {"type": "string"}
BOOLEAN: Schema = {"type": "boolean"}
COUNT: Schema = {"type": "integer", "minimum": 0}
# "$parameter = $string : $string | $number | $boolean": scalars only, never an object or a list.
PARAMETERS: Schema = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
# Each dimension "an integer representable as an unsigned 64-bit integer"; metadata writes a variable one as -1.
TENSOR_SHAPE: Schema = {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 2**64 - 1}}
METADATA_SHAPE: Schema = {"type": "array", "items": {"type": "integer", "minimum": -1}}
DATATYPE: Schema = {"enum": DATATYPES}
# Elements of any JSON scalar type, flat or nested to the tensor's shape.
TENSOR_DATA: Schema = {
    "$id": "urn:onnx-lambda:tests:tensor-data",  # its own resource, so "#/$defs/data" resolves wherever it is used
    "$defs": {
        "data": {
            "type": "array",
            "items": {"anyOf": [{"$ref": "#/$defs/data"}, {"type": ["number", "string", "boolean"]}]},
        }
    },
    "$ref": "#/$defs/data",
}


def _object(required: list[str], **properties: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": properties}


ERROR = _object(["error"], error=STRING)
SERVER_METADATA = _object(["name", "version", "extensions"], name=STRING, version=STRING)
SERVER_METADATA["properties"]["extensions"] = {"type": "array", "items": STRING}
SERVER_LIVE = _object(["live"], live=BOOLEAN)
# The text gives the ready answer as {"live": $bool} (its live object again); KServe answers "ready". Both required.
SERVER_READY = _object(["live", "ready"], live=BOOLEAN, ready=BOOLEAN)
MODEL_READY = _object(["name", "ready"], name=STRING, ready=BOOLEAN)
METADATA_TENSOR = _object(["name", "datatype", "shape"], name=STRING, datatype=DATATYPE, shape=METADATA_SHAPE)
MODEL_METADATA = _object(
    ["name", "platform", "inputs", "outputs"],
    name=STRING,
    versions={"type": "array", "items": STRING},
    # "Platform names use the format <project>_<format>".
    platform={"type": "string", "pattern": "^[a-z0-9]+_[a-z0-9]+$"},
    inputs={"type": "array", "items": METADATA_TENSOR},
    outputs={"type": "array", "items": METADATA_TENSOR},
    parameters=PARAMETERS,
)
RESPONSE_OUTPUT = _object(
    ["name", "shape", "datatype", "data"],
    name=STRING,
    shape=TENSOR_SHAPE,
    datatype=DATATYPE,
    parameters=PARAMETERS,
    data=TENSOR_DATA,
)
INFERENCE_RESPONSE = _object(
    ["model_name", "id", "outputs"],
    model_name=STRING,
    model_version=STRING,
    id=STRING,
    parameters=PARAMETERS,
    outputs={"type": "array", "minItems": 1, "items": RESPONSE_OUTPUT},
)
# The binary extension's JSON part: an output sent as bytes has parameters.binary_data_size instead of data.
BINARY_OUTPUT = {
    **_object(["name", "shape", "datatype"], name=STRING, shape=TENSOR_SHAPE, datatype=DATATYPE, data=TENSOR_DATA),
    "anyOf": [
        {"required": ["data"]},
        {
            "required": ["parameters"],
            "properties": {"parameters": _object(["binary_data_size"], binary_data_size=COUNT)},
        },
    ],
}
BINARY_INFERENCE_RESPONSE = {
    **INFERENCE_RESPONSE,
    "properties": {**INFERENCE_RESPONSE["properties"], "outputs": {"type": "array", "items": BINARY_OUTPUT}},
}

# Triton's statistics extension: $stats_model_response of $model_stat, counts and nanoseconds as numbers.
DURATION = _object(["count", "ns"], count=COUNT, ns=COUNT)
INFERENCE_STATS = _object(
    ["success", "fail", "queue", "compute_input", "compute_infer", "compute_output"],
    **dict.fromkeys(("success", "fail", "queue", "compute_input", "compute_infer", "compute_output"), DURATION),
)
BATCH_STAT = _object(
    ["batch_size", "compute_input", "compute_infer", "compute_output"],
    batch_size={"type": "integer", "minimum": 1},
    **dict.fromkeys(("compute_input", "compute_infer", "compute_output"), DURATION),
)
MODEL_STAT = _object(
    ["name", "last_inference", "inference_count", "execution_count", "inference_stats", "batch_stats"],
    name=STRING,
    version=STRING,
    last_inference=COUNT,
    inference_count=COUNT,
    execution_count=COUNT,
    inference_stats=INFERENCE_STATS,
    batch_stats={"type": "array", "items": BATCH_STAT},
)
STATISTICS = _object(["model_stats"], model_stats={"type": "array", "items": MODEL_STAT})

# Triton's model repository index: name and state, version optional, reason when there is one.
REPOSITORY_INDEX = {
    "type": "array",
    "items": _object(["name", "state"], name=STRING, version=STRING, state=STRING, reason=STRING),
}

# Triton's model configuration: the ModelConfig message as JSON, the fields a client reads.
CONFIG_TENSOR = _object(
    ["name", "data_type", "dims"],
    name=STRING,
    data_type={"enum": CONFIG_TYPES},
    dims={"type": "array", "items": {"type": "integer", "minimum": -1}},
    format={"enum": ["FORMAT_NONE", "FORMAT_NHWC", "FORMAT_NCHW"]},
)
MODEL_CONFIG = _object(
    ["name", "platform", "max_batch_size", "input", "output"],
    name=STRING,
    platform=STRING,
    backend=STRING,
    max_batch_size=COUNT,
    input={"type": "array", "items": CONFIG_TENSOR},
    output={"type": "array", "items": CONFIG_TENSOR},
    parameters={"type": "object", "additionalProperties": _object(["string_value"], string_value=STRING)},
)


def problems(schema: Schema, answer: Any) -> list[str]:
    """Every way ``answer`` breaks ``schema``, each as 'where: what' (empty when it conforms)."""
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in validator.iter_errors(answer)
    ]


def _flat(data: Any) -> list[Any]:
    return [leaf for item in data for leaf in _flat(item)] if isinstance(data, list) else [data]


def check_tensor_sizes(answer: dict[str, Any]) -> list[str]:
    """The outputs whose data does not hold the product of their shape's dimensions ("the shape and data must
    represent the full shape and contents of the entire batch")."""
    return [
        f"output {output['name']!r}: shape {output['shape']} holds {math.prod(output['shape'])} elements, data "
        f"{len(_flat(output['data']))}"
        for output in answer.get("outputs", [])
        if "data" in output and math.prod(output["shape"]) != len(_flat(output["data"]))
    ]
