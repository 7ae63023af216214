"""``onnx-lambda serve``: the local gateway of ``make serve``, in front of the real Lambda entry point."""

from __future__ import annotations

import argparse

from onnx_lambda.errors import InputError
from onnx_lambda.function import configure, init_errors, resolve_model
from onnx_lambda.parsing import MODEL_HELP, Commands, add_command, port_number

DETAILS = """
What `make serve` runs (onnx_lambda/local_gateway.py): a small loopback HTTP server that turns each request
into an API Gateway HTTP API (payload 2.0) event and calls handler.entrypoint.lambda_handler with a
Lambda-like context, one request at a time, as one Lambda instance would (what `sam local start-api`
does, without Docker). The model is loaded and warmed up first; the URL is printed once it is ready.
The function's JSON logs go to stdout. Ctrl-C stops it.
"""
EXAMPLES = """
  onnx-lambda serve                                   # models/digits-cnn.onnx on http://127.0.0.1:8080
  onnx-lambda serve models/my-model.onnx --port 9000
  onnx-lambda serve --stage prod                      # under /prod, as a REST API stage
  curl -s http://127.0.0.1:8080/health
"""


def register(commands: Commands) -> None:
    """``serve [MODEL] [--host --port --stage]``."""
    parser = add_command(commands, "serve", "serve a model locally through the Lambda entry point", DETAILS, EXAMPLES)
    parser.add_argument("model", nargs="?", metavar="MODEL.onnx", help=MODEL_HELP)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument(
        "--port", type=port_number, default=8080, help="port; 0 picks a free one (default: %(default)s)"
    )
    parser.add_argument(
        "--stage", default="$default", help="API Gateway stage; e.g. prod serves under /prod (default: $default)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C; raises InputError when the model cannot be served or the port cannot be listened on."""
    configure(resolve_model(args.model))
    from onnx_lambda import local_gateway  # noqa: PLC0415 - the handler only for the commands that run it

    try:
        with init_errors():
            local_gateway.serve(args.host, args.port, args.stage)
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0
