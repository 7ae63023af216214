"""SQS inference jobs: a message body is an HTTP inference request, answered by the very same app.

The body is what one would POST: ``{"instances": [...]}`` (goes to /predict) or an Open Inference
Protocol request with ``inputs`` (goes to /v2/models/{model}/infer), plus optional ``result_uri``
(``s3://bucket/key`` for the JSON answer; without it the answer is only logged) and, for the
protocol, optional ``model_name`` / ``model_version``. Going through the app means a job is
validated, scored and answered exactly as the HTTP request would be; any 4xx or 5xx answer fails the
message, which the queue retries and finally moves to its dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from handler.batch.store import S3Store, parse_s3_uri
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


def run_job(
    body: Any, http: LambdaHandler, context: Any, served_model: str, store: Callable[[], S3Store]
) -> dict[str, Any]:
    """Run one job through the app and deliver its answer; raises JobFailed with the app's error."""
    if not isinstance(body, dict):
        raise JobFailed(f"the message body must be a JSON object (an inference request); got {type(body).__name__}")
    body = dict(body)
    result_uri = body.pop("result_uri", None)
    if result_uri is not None and not isinstance(result_uri, str):
        raise JobFailed("'result_uri' must be a string s3://bucket/key")
    try:
        target = parse_s3_uri(result_uri) if result_uri else None
    except ValueError as exc:
        raise JobFailed(f"'result_uri': {exc}", "'result_uri' is not an s3://bucket/key URI") from None
    path = _route(body, served_model)
    data = json.dumps(body).encode("utf-8")
    headers = {"content-type": "application/json", "content-length": str(len(data))}
    event = http_api_event("POST", target=path, headers=headers, body=data, stage="$default", source_ip="127.0.0.1")
    response = http(event, context)
    status = int(response.get("statusCode", 500))
    answer = json.loads(response.get("body") or "{}")
    if status >= 400:
        route = path if path == "/predict" else "/v2/models/{model}/infer"  # the path may hold the job's model_name
        raise JobFailed(
            f"POST {path} answered {status}: {answer.get('error', answer)}", f"POST {route} answered {status}"
        )
    if target is None:
        logger.info("inference job result", extra={"path": path, "result": answer})
        return {"path": path, "result": answer}
    store().put_json(target, answer)
    return {"path": path, "result_uri": target.uri}
