"""``onnx-lambda inspect``: model_export's inspect, which needs only onnxruntime (onnx adds a few fields)."""

from __future__ import annotations

import argparse
import json

from onnx_lambda.parsing import Commands, add_command

DETAILS = """
The signature (inputs and outputs with their Open Inference Protocol datatypes and shapes), the producer,
the graph name and every metadata_props entry (onnx-lambda's own keys: model_name, model_version,
class_labels, inputs, outputs, parity, content_sha256, ...), read by onnxruntime as the server reads them.
With the onnx package installed (the export extra) it also shows the IR version, the opsets, the producer
version and whether the graph still matches its recorded content_sha256; without it, it says which fields
those are. Works on any ONNX file, not only ones onnx-lambda wrote.
"""
EXAMPLES = """
  onnx-lambda inspect models/digits-cnn.onnx
  onnx-lambda inspect models/my-model.onnx --json | jq .metadata
"""


def register(commands: Commands) -> None:
    """``inspect MODEL.onnx [--json]``."""
    parser = add_command(commands, "inspect", "print the signature and metadata of an ONNX file", DETAILS, EXAMPLES)
    parser.add_argument("model", metavar="MODEL.onnx", help="any ONNX file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of aligned text")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Describe the file on stdout; raises model_export's NotAModelError (exit 3) when it is not a model
    onnxruntime can open."""
    from model_export.inspect_model import inspect_model, render_text  # noqa: PLC0415 - only for this command

    description = inspect_model(args.model)
    print(json.dumps(description.to_dict(), indent=2) if args.json else render_text(description))
    return 0
