"""The online half of onnx-lambda: everything that runs inside the Lambda function.

Importing this package does nothing heavy; the Lambda entry point is ``handler.entrypoint.lambda_handler``.
"""

import os

__version__ = "1.0.0"

# Pydantic looks for plugins through every installed distribution's entry points at its first model
# (~16 ms of each cold start); this function uses none.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
