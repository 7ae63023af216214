"""``python -m model_export`` is not a command any more: ``onnx-lambda export`` is the one front door. Say so in one
line (exit 2, a usage error) rather than leave Python's "cannot be directly executed"."""

import sys

MOVED = "python -m model_export: use `onnx-lambda export ...` (the same arguments) or `onnx-lambda inspect`"
print(MOVED, file=sys.stderr)
sys.exit(2)
