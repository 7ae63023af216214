"""``python -m onnx_lambda``: the same as the ``onnx-lambda`` console script."""

from onnx_lambda.cli import main

raise SystemExit(main())
