"""SQS inference jobs: a message body is an HTTP inference request, answered by the very same app.

The body is what one would POST: ``{"instances": [...]}`` (goes to /predict) or an Open Inference
Protocol request with ``inputs`` (goes to /v2/models/{model}/infer), plus optional ``result_uri``
and, for the protocol, optional ``model_name`` / ``model_version``. Going through the app means a job is
validated, scored and answered exactly as the HTTP request would be; any 4xx or 5xx answer fails the
message, which the queue retries and finally moves to its dead-letter queue.

``result_uri`` may only name a key under the jobs' result prefix (``s3://<JOBS_RESULT_BUCKET>/<JOBS_RESULT_PREFIX>``,
by default the output bucket's ``jobs/``): anyone who can send to the queue must not be able to write over a
published prediction or summary (a forged summary would even make re-deliveries answer "already scored").
It is checked before the job runs. Without it the answer is logged at DEBUG only (it quotes the request).
A job's answer is always JSON: binary-output flags are dropped, so the protocol's JSON form is stored.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from handler.batch.store import S3_KEY_BYTES, ObjectRef, S3Store, parse_s3_uri
from handler.http_events import http_api_event
from handler.observability import logger

LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


class JobFailed(ValueError):
    """The message is not a job this function can run; the message says why.

    The message may quote the job (the app's 4xx answers name the values they refuse); ``summary`` says
    what failed without anything the sender wrote, for the log at the default level.
    """

    def __init__(self, message: str, summary: str | None = None) -> None:
        super().__init__(message)
        self.summary = summary or message


def _route(body: dict[str, Any], served_model: str) -> str:
    name = body.pop("model_name", None) or served_model
    version = body.pop("model_version", None)
    if not isinstance(name, str) or not (version is None or isinstance(version, str)):
        raise JobFailed("'model_name' and 'model_version' must be strings")
    if "inputs" not in body:
        return "/predict"
    return f"/v2/models/{name}" + (f"/versions/{version}" if version else "") + "/infer"


@dataclass(frozen=True)
class ResultScope:
    """Where jobs' answers may go: keys under ``prefix`` of ``bucket`` (None: nowhere, no result_uri allowed)."""

    bucket: str | None
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def target(self, result_uri: Any) -> ObjectRef | None:
        """The object a job's result_uri names, checked to lie inside the scope; raises JobFailed."""
        if result_uri is None:
            return None
        if not isinstance(result_uri, str):
            raise JobFailed("'result_uri' must be a string s3://bucket/key")
        if self.bucket is None:
            raise JobFailed("'result_uri' cannot be used: the function has no JOBS_RESULT_BUCKET or OUTPUT_BUCKET")
        try:
            ref: ObjectRef | None = parse_s3_uri(result_uri)
        except ValueError:
            ref = None
        # The bucket must be the scope's, whose name the settings validated: nothing boto3 would refuse.
        if ref is None or ref.bucket != self.bucket or not ref.key.startswith(self.prefix) or _unsafe_key(ref.key):
            raise JobFailed(
                f"'result_uri' {result_uri[:200]!r} is outside the jobs' results; expected {self.uri}<name>",
                f"'result_uri' is outside the jobs' results; expected {self.uri}<name>",
            )
        return ref


def _unsafe_key(key: str) -> bool:
    """Keys S3 would refuse or that read as another place: dot segments, empty segments (the prefix alone ends
    in one), control characters, lone surrogates, over S3's 1,024 bytes."""
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError:
        return True
    segments = key.split("/")
    return size > S3_KEY_BYTES or any(part in {"", ".", ".."} for part in segments) or any(ord(c) < 32 for c in key)


BINARY_FLAGS = {"binary_data_output", "binary_data"}


def _json_only(body: dict[str, Any]) -> None:
    """Drop the binary-output flags: a job's answer is stored or logged as JSON, never as bytes."""
    for holder in [body, *(o for o in body.get("outputs") or [] if isinstance(o, dict))]:
        parameters = holder.get("parameters")
        if isinstance(parameters, dict):
            holder["parameters"] = {k: v for k, v in parameters.items() if k not in BINARY_FLAGS}


def run_job(
    body: Any, http: LambdaHandler, context: Any, served_model: str, store: Callable[[], S3Store], *, scope: ResultScope
) -> dict[str, Any]:
    """Run one job through the app and deliver its answer; raises JobFailed with the app's error."""
    if not isinstance(body, dict):
        raise JobFailed(f"the message body must be a JSON object (an inference request); got {type(body).__name__}")
    body = dict(body)
    target = scope.target(body.pop("result_uri", None))
    path = _route(body, served_model)
    _json_only(body)
    data = json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json", "content-length": str(len(data))}
    event = http_api_event("POST", target=path, headers=headers, body=data, stage="$default", source_ip="127.0.0.1")
    response = http(event, context)
    status = int(response.get("statusCode", 500))
    route = path if path == "/predict" else "/v2/models/{model}/infer"  # the path may hold the job's model_name
    answer = _json_answer(response, f"POST {route} answered {status}")
    if status >= 400:
        raise JobFailed(
            f"POST {path} answered {status}: {answer.get('error', answer)}", f"POST {route} answered {status}"
        )
    if target is None:
        # The answer quotes the request (the protocol's answer repeats its id): at DEBUG only.
        logger.info("inference job answered; no result_uri, so the answer is not kept", extra={"status": status})
        logger.debug("inference job result", extra={"path": path, "result": answer})
        return {"path": path, "result": answer}
    store().put_json(target, answer)
    return {"path": path, "result_uri": target.uri}


def _json_answer(response: dict[str, Any], what: str) -> dict[str, Any]:
    """The app's answer as a JSON object (base64-decoded when Lambda's encoding says so); raises JobFailed."""
    body = response.get("body") or "{}"
    try:
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body
        answer = json.loads(data)
    except ValueError:
        raise JobFailed(f"{what} with a body that is not JSON") from None
    if not isinstance(answer, dict):
        raise JobFailed(f"{what} with JSON that is not an object")
    return answer
