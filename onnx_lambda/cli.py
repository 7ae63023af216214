"""``onnx-lambda``: the command line. Only argparse and the error contract live here; each subcommand's
parser and work are in its own module (exporting, inspecting, serving, invoking, scoring, evaluating, latency, demo).

Every failure is one line on stderr and a documented exit code (onnx_lambda.errors); an unexpected
exception is one line too, unless --debug asks for its traceback.
"""

from __future__ import annotations

import argparse
import sys
import traceback

from handler.contract import (
    EXIT_CODES_HELP,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_UNEXPECTED,
    OnnxLambdaError,
    one_line,
)
from onnx_lambda import __version__, demo, evaluating, exporting, inspecting, invoking, latency, scoring, serving
from onnx_lambda.parsing import OneLineParser

DESCRIPTION = """Serverless inference for any trained model: export it to ONNX once, serve it with onnxruntime
from AWS Lambda. Every command runs the project's own code: model_export for export and inspect, the
Lambda entry point (handler.entrypoint.lambda_handler) for serve, invoke, score and bench."""
EXAMPLES = """examples:
  onnx-lambda export sklearn model.joblib -o models/my-model.onnx --n-features 20 --labels cat,dog
  onnx-lambda inspect models/my-model.onnx
  onnx-lambda serve models/my-model.onnx --port 8080
  onnx-lambda invoke events/http-api-v2.predict.json
  onnx-lambda invoke --url http://127.0.0.1:8080 --path /predict --data @request.json
  onnx-lambda score data/ --out scored/
  onnx-lambda score s3://my-bucket/input/ --out s3://my-bucket/output/
  onnx-lambda score customers.csv --label-column churned --out scored/
  onnx-lambda evaluate s3://my-bucket/output/
  onnx-lambda latency models/my-model.onnx --batch-sizes 1,32,256
  onnx-lambda demo                                  # what `make demo` runs

`onnx-lambda COMMAND --help` explains each command, with more examples.
"""
COMMANDS = (exporting, inspecting, serving, invoking, scoring, evaluating, latency, demo)


def build_parser() -> OneLineParser:
    """The command line: one subcommand per module in COMMANDS."""
    parser = OneLineParser(
        prog="onnx-lambda",
        description=DESCRIPTION,
        epilog=f"{EXAMPLES}\n{EXIT_CODES_HELP}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"onnx-lambda {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for module in COMMANDS:
        module.register(commands)
    return parser


# Lambda's base image provides boto3, so it is not a runtime dependency; the command needs it for s3:// and
# batch events only (local files are read without it).
AWS_SDK = {"boto3", "botocore", "s3transfer"}
AWS_HINT = "pip install 'onnx-lambda[aws]' (or boto3)"


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand and return its exit code; never lets a traceback out unless --debug."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and args.command != "export":  # only export passes arguments on (to model_export's parser)
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    try:
        code: int = args.run(args)
    except OnnxLambdaError as exc:  # the command line's, export's and the function's own errors
        print(f"error: {one_line(exc.message)}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # the last line of defence: still one line
        if isinstance(exc, ModuleNotFoundError) and exc.name in AWS_SDK:
            print(f"error: {args.command} needs the AWS SDK here (S3): {AWS_HINT}", file=sys.stderr)
            return EXIT_INPUT
        if args.debug:
            traceback.print_exc()
        else:
            message = f"unexpected {type(exc).__name__}: {one_line(str(exc))}"
            print(f"error: {message} (run with --debug for the traceback)", file=sys.stderr)
        return EXIT_UNEXPECTED
    return code
