"""SQS inference jobs: a message body is an inference request, run by the data plane as the HTTP one would be.

The body is what one would POST: ``{"instances": [...]}`` (as to /predict) or an Open Inference Protocol
request with ``inputs`` (as to /v2/models/{model}/infer), plus optional ``result_uri`` and, for the protocol,
optional ``model_name`` / ``model_version``. It is validated with the routes' own request models and run by
the same DataPlane, with no HTTP in between, so a job is checked, scored and answered exactly as the request
would be; any refusal fails the message, which the queue retries and finally moves to its dead-letter queue.

``result_uri`` may only name a key under the jobs' result prefix (``s3://<JOBS_RESULT_BUCKET>/<JOBS_RESULT_PREFIX>``,
by default the output bucket's ``jobs/``): anyone who can send to the queue must not be able to write over a
published prediction or summary (a forged summary would even make re-deliveries answer "already scored").
It is checked before the job runs. Without it the answer is logged at DEBUG only (it quotes the request).
A job's answer is always the protocol's JSON form: binary-output flags are ignored, since nothing carries bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from handler.batch.store import S3_KEY_BYTES, ObjectRef, S3Store, parse_s3_uri
from handler.dataplane import DataPlane
from handler.errors import RequestError
from handler.observability import logger
from handler.request_bodies import InferenceRequest, PredictRequest, invalid_fields

Body = TypeVar("Body", bound=BaseModel)


class JobFailed(ValueError):
    """The message is not a job this function can run; the message says why.

    The message may quote the job (refusals name the values they refuse); ``summary`` says what failed
    without anything the sender wrote, for the log at the default level.
    """

    def __init__(self, message: str, summary: str | None = None) -> None:
        super().__init__(message)
        self.summary = summary or message


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


def _model_named(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The model and version a protocol job names (the default model when none): popped, since the protocol's
    request body has no such fields."""
    name, version = body.pop("model_name", None), body.pop("model_version", None)
    if not (name is None or isinstance(name, str)) or not (version is None or isinstance(version, str)):
        raise JobFailed("'model_name' and 'model_version' must be strings")
    return name, version


def _validated(kind: type[Body], body: dict[str, Any], route: str) -> Body:
    """The body as the route's request model; raises JobFailed with the route's words for a wrong structure."""
    try:
        return kind.model_validate(body)
    except ValidationError as exc:
        raise JobFailed(f"{route}: invalid job: {invalid_fields(exc.errors())}", f"{route}: invalid job") from None


def answer_job(plane: DataPlane, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The job's route ("predict" or "infer") and its JSON answer, from the data plane; raises JobFailed."""
    name, version = _model_named(body)
    route = "infer" if "inputs" in body else "predict"
    try:
        if route == "predict":
            return route, plane.predict(_validated(PredictRequest, body, route), plane.find(name, version))
        request = _validated(InferenceRequest, body, route)
        return route, plane.infer_json(plane.find(name, version), request).json_body()
    except RequestError as exc:
        raise JobFailed(f"{route}: {exc.message}", f"{route}: refused ({type(exc).__name__})") from None


def run_job(body: Any, plane: DataPlane, store: Callable[[], S3Store], *, scope: ResultScope) -> dict[str, Any]:
    """Run one job and deliver its answer; raises JobFailed saying why it cannot be run."""
    if not isinstance(body, dict):
        raise JobFailed(f"the message body must be a JSON object (an inference request); got {type(body).__name__}")
    body = dict(body)
    target = scope.target(body.pop("result_uri", None))
    route, answer = answer_job(plane, body)
    if target is None:
        # The answer quotes the request (the protocol's answer repeats its id): at DEBUG only.
        logger.info("inference job answered; no result_uri, so the answer is not kept", extra={"job": route})
        logger.debug("inference job result", extra={"job": route, "result": answer})
        return {"job": route, "result": answer}
    store().put_json(target, answer)
    return {"job": route, "result_uri": target.uri}
