"""``onnx-lambda invoke``: an event file through the real entry point, or a request to a local or deployed URL."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from onnx_lambda.auth import AUTH_MODES
from onnx_lambda.errors import InputError, RemoteError, is_aws_error
from onnx_lambda.function import function_output, load_entrypoint, resolve_model
from onnx_lambda.http_client import HttpRequest, print_response, send
from onnx_lambda.parsing import MODEL_HELP, Commands, OneLineParser, add_command, positive_float

EVENT_TIMEOUT_S = 900.0  # what the function sees as its time limit: Lambda's maximum, the batch function's
URL_TIMEOUT_S = 30.0  # API Gateway's own integration timeout
DETAILS = """
With an event file (the ones in events/, or any Lambda event as JSON; - reads it from stdin), the event
goes through handler.entrypoint.lambda_handler in this process, with a Lambda-like context, and the
response is printed as Lambda returns it (what `sam local invoke -e FILE` does, without Docker); --body
prints only its body, decoded. The function's own logs (JSON lines, EMF metrics) go to stderr with
--logs. Batch events (S3, SQS, schedules) reach S3 through boto3's usual configuration (AWS_PROFILE,
AWS_REGION, AWS_ENDPOINT_URL, ...). An HTTP answer with an error status is printed, and the exit code is 6.

With --url, an HTTP request goes to a running server (onnx-lambda serve, or a deployed API or Function
URL), signed as --auth says, and the body of the answer is printed (with -i, its status and headers
first). An answer with an HTTP error status is printed too, and the exit code is 6.
"""
EXAMPLES = """
  onnx-lambda invoke events/http-api-v2.predict.json
  onnx-lambda invoke events/http-api-v2.health.json --model models/my-model.onnx
  onnx-lambda invoke --url http://127.0.0.1:8080 --path /health
  onnx-lambda invoke --url http://127.0.0.1:8080 --path /predict --data @request.json
  onnx-lambda invoke --url https://ID.execute-api.eu-west-1.amazonaws.com --path /predict \\
      --data '{"instances": [[0, 1, 2]]}' --auth iam          # SigV4 with your AWS credentials
  onnx-lambda invoke --url "$API_URL" --path /v2 --auth jwt --token "$TOKEN"
"""


def register(commands: Commands) -> None:
    """``invoke EVENT.json [--model]`` or ``invoke --url URL [--path --data --method --header --auth ...]``."""
    parser = add_command(commands, "invoke", "send an event or an HTTP request and print the answer", DETAILS, EXAMPLES)
    parser.add_argument("event", nargs="?", metavar="EVENT.json", help="a Lambda event as JSON (- for stdin)")
    parser.add_argument("--model", metavar="MODEL.onnx", help=MODEL_HELP + "; with an event only")
    parser.add_argument("--body", action="store_true", help="with an event: print only the response's body, decoded")
    parser.add_argument("--logs", action="store_true", help="with an event: show the function's logs on stderr")
    parser.add_argument(
        "--timeout",
        type=positive_float,
        metavar="SECONDS",
        help=f"seconds: the time limit the function sees for an event (default: {EVENT_TIMEOUT_S:.0f}, Lambda's "
        f"maximum), or to wait for a URL's answer (default: {URL_TIMEOUT_S:.0f})",
    )
    remote = parser.add_argument_group("requests to a URL")
    remote.add_argument("--url", help="base URL of a server, e.g. http://127.0.0.1:8080 or an API's invoke URL")
    remote.add_argument("--path", default="", help="appended to --url, e.g. /predict (default: none)")
    remote.add_argument("--data", metavar="JSON|@FILE|@-", help="the request body: text, @file, or @- for stdin")
    remote.add_argument("--method", help="HTTP method (default: POST with --data, else GET)")
    remote.add_argument(
        "-H", "--header", action="append", default=[], metavar="'NAME: VALUE'", help="an extra header; repeatable"
    )
    remote.add_argument("--auth", choices=AUTH_MODES, default="none", help="none, iam (SigV4) or jwt (default: none)")
    remote.add_argument("--token", help="the bearer token for --auth jwt (default: $ONNX_LAMBDA_TOKEN)")
    remote.add_argument("--region", help="the region for --auth iam (default: AWS_REGION, the profile, the host)")
    remote.add_argument("-i", "--include", action="store_true", help="print the status line and headers too")
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    """Invoke as asked; raises InputError, RemoteError (HTTP error status, unreachable) or a usage error."""
    parser: OneLineParser = args.parser
    if (args.event is None) == (args.url is None):
        parser.error("give an event file or --url (one of them)")
    misplaced = misplaced_options(args)
    if misplaced:
        parser.error(misplaced)
    if args.url is None:
        return invoke_event(args.event, args.model, args.body, args.logs, args.timeout or EVENT_TIMEOUT_S)
    return invoke_url(args)


def misplaced_options(args: argparse.Namespace) -> str | None:
    """What is wrong when options of one mode are given in the other, or None."""
    if args.url is not None:
        event_only = (("--model", args.model), ("--body", args.body or None), ("--logs", args.logs or None))
        given = [name for name, value in event_only if value is not None]
        return f"{', '.join(given)} can only be used with an event file" if given else None
    remote = {
        "--path": args.path or None,
        "--data": args.data,
        "--method": args.method,
        "--header": args.header or None,
        "--auth": None if args.auth == "none" else args.auth,
        "--token": args.token,
        "--region": args.region,
        "--include": args.include or None,
    }
    given = [name for name, value in remote.items() if value is not None]
    return f"{', '.join(given)} can only be used with --url" if given else None


def read_event(source: str) -> dict[str, Any]:
    """The event in a file (or stdin for -) as a JSON object; raises InputError."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the event {source}: {exc}") from None
    try:
        event = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the event {source} is not JSON: {exc}") from None
    if not isinstance(event, dict):
        raise InputError(f"the event {source} is a JSON {type(event).__name__}; a Lambda event is a JSON object")
    return event


def body_of(response: dict[str, Any]) -> Any:
    """An HTTP response's body, decoded from base64 and JSON where it is; a batch answer as it is."""
    if "statusCode" not in response:
        return response
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        return {"base64": body}  # binary (the tensor extension): left encoded, as JSON cannot carry bytes
    try:
        return json.loads(body)
    except ValueError:
        return body


def invoke_event(source: str, model: str | None, body_only: bool, show_logs: bool, timeout_s: float) -> int:
    """Print lambda_handler's response to the event; exit 6 when it is an HTTP answer with an error status."""
    event = read_event(source)
    handler = load_entrypoint(resolve_model(model), show_logs)
    from handler.dispatch import UnsupportedEventError  # noqa: PLC0415 - loaded with the entry point above
    from handler.lambda_instance import LocalContext  # noqa: PLC0415

    try:
        with function_output(show_logs):  # its logs and EMF metric lines: stdout is for the response
            response = handler(event, LocalContext(timeout_s=timeout_s))
    except UnsupportedEventError as exc:
        raise InputError(str(exc)) from None
    except Exception as exc:
        if is_aws_error(exc):
            raise RemoteError(f"the function failed reaching AWS: {type(exc).__name__}: {exc}") from None
        raise
    print(json.dumps(body_of(response) if body_only else response, indent=2, ensure_ascii=False))
    status = response.get("statusCode")
    if isinstance(status, int) and status >= 400:
        raise RemoteError(f"the function answered HTTP {status}" + ("" if show_logs else " (--logs shows its logs)"))
    return 0


def request_body(data: str | None) -> bytes | None:
    """--data as bytes: the text itself, @FILE's content, or stdin for @-; raises InputError."""
    if data is None:
        return None
    if not data.startswith("@"):
        return data.encode("utf-8")
    try:
        return sys.stdin.buffer.read() if data == "@-" else Path(data[1:]).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read --data {data}: {exc.strerror or exc}") from None


def parse_headers(lines: list[str]) -> dict[str, str]:
    """'Name: value' lines as a dict; raises InputError for a line without a colon."""
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon or not name.strip():
            raise InputError(f"--header {line!r} is not 'Name: value'")
        headers[name.strip()] = value.strip()
    return headers


def invoke_url(args: argparse.Namespace) -> int:
    """Send the request and print the answer; raises RemoteError for an error status or no connection."""
    body = request_body(args.data)
    headers = parse_headers(args.header)
    if body is not None and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    env = {**os.environ, **({"AWS_REGION": args.region} if args.region else {})}
    request = HttpRequest(
        method=(args.method or ("POST" if body is not None else "GET")).upper(),
        url=args.url.rstrip("/") + args.path if args.path else args.url,
        headers=headers,
        body=body,
    )
    token = args.token or os.environ.get("ONNX_LAMBDA_TOKEN")
    response = send(request, args.auth, token, env, args.timeout or URL_TIMEOUT_S)
    print_response(response, args.include)
    if response.status >= 400:
        raise RemoteError(f"{request.method} {request.url} answered HTTP {response.status}")
    return 0
