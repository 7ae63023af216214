"""The online half of onnx-lambda: everything that runs inside the Lambda function.

Importing this package does nothing heavy; the Lambda entry point is ``handler.entrypoint.lambda_handler``.
"""

__version__ = "0.1.0"
