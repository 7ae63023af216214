"""Which kind of event arrived: an ordered list of small classes, each saying whether it claims one.

Mangum's own design: the first class that claims an event names its kind; the entry point maps kinds
to handlers. An event nobody claims gets an error listing every kind that is accepted.

The kinds are the project's, not Mangum's ``infer``: Mangum's claim far more (any event with ``version`` and
``requestContext``, Lambda@Edge's ``Records``), fail on what is not a mapping, know no batch kind and cannot tell a
Function URL from an HTTP API, whose names the errors below give. Mangum then classifies an HTTP event again,
which is kept: its ``infer`` costs 0.8 µs (``identify`` 7.5 µs, with its checks), and with Mangum handed the kind
instead (so that it classifies nothing) a 280 µs health check took 0.7-2.4 µs less and a 700-950 µs invocation on
events/http-api-v2.predict.json 9-18 µs less (under 2%; bench/dependency_costs.py calls and requests, paired blocks
of 50 invocations in 3-5 fresh processes, three runs); classifying once for real would take a copy of Mangum's
``__call__``, or a way for the entry point to hand the kind to Mangum's ``infer``, for no more than that.

Each kind names where its correlation id is as a JMESPath, Powertools' ``correlation_paths`` constant where it has
one, evaluated as Powertools' Logger evaluates a ``correlation_id_path`` (jmespath, with Powertools' functions).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, ClassVar, NamedTuple

import jmespath  # type: ignore[import-untyped]  # Powertools' own dependency, imported by its Logger already
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.jmespath_utils import PowertoolsFunctions

# What Powertools' Logger evaluates a correlation_id_path with (jmespath_utils.query): its JMESPath functions.
JMESPATH_OPTIONS = jmespath.Options(custom_functions=PowertoolsFunctions())


@cache
def compiled_path(path: str) -> Any:
    """``path`` parsed once: query() would build a parser, options and functions on every invocation."""
    return jmespath.compile(path)


class UnsupportedEventError(ValueError):
    """The event is of no kind this function serves."""


class MalformedEventError(UnsupportedEventError):
    """The event is of a kind this function serves but lacks what that kind always carries (a hand-built event)."""


class EventSource:
    """One kind of event; subclasses say whether they claim an event and where the id correlating its logs is."""

    kind: ClassVar[str] = "event"
    # The JMESPath of the id that ties this kind's log lines to the caller's request, or None for a kind with none.
    correlation_path: ClassVar[str | None] = None

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        """True when ``event`` is of this kind."""
        raise NotImplementedError

    @classmethod
    def correlation_id(cls, event: Mapping[str, Any]) -> str | None:
        """The id at ``correlation_path``, as text, or None where the event has none (or an empty one).

        For an HTTP event 2.7 µs a lookup in isolation, against 0.8 µs for the lookups by hand it replaced (3-6x in
        every run, the machine being shared); Powertools' own ``jmespath_utils.query`` takes 4.7 µs, building a
        parser and options on every call, hence ``compiled_path``. In an invocation, where jmespath's code runs
        cold, it costs 11 µs of a 280 µs health check and 17 µs of a 620 µs /predict (``query`` 8 µs more; paired
        blocks of 50 invocations in 5 fresh processes). It imports nothing on the cold path but correlation_paths,
        0.26 ms: Powertools' Logger imports jmespath already (bench/dependency_costs.py calls, requests, imports)."""
        if cls.correlation_path is None:
            return None
        found = compiled_path(cls.correlation_path).search(event, options=JMESPATH_OPTIONS)
        return str(found) if found else None

    @classmethod
    def problem(cls, event: Mapping[str, Any]) -> str | None:
        """What a claimed event lacks that its handler reads, or None; AWS's own events always have it."""
        return None


class HttpEventSource(EventSource):
    """An HTTP request event. AWS always sends the fields Mangum reads; an event built by hand (boto3's
    ``invoke``) may not, and Mangum would fail on it with a bare KeyError or AttributeError."""

    required: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def problem(cls, event: Mapping[str, Any]) -> str | None:
        missing = [path for path in cls.required if not _has(event, path.split("."))]
        if missing:
            return f"it lacks {', '.join(repr(path) for path in missing)}"
        body = event.get("body")
        if body is not None and not isinstance(body, str):
            return f"'body' is {type(body).__name__}: expected the request body as a string (e.g. json.dumps(request))"
        if body is not None and not _text(body):
            return "'body' holds a lone surrogate (\\ud800-\\udfff without its pair): expected text UTF-8 can carry"
        for name, shape in FIELD_SHAPES.items():
            value = event.get(name)
            if value is not None and not shape.fits(value):
                return f"'{name}' must be {shape.words}"
        return None


class FieldShape(NamedTuple):
    """What one optional field of an HTTP event must hold when present, as AWS sends it: Mangum reads these
    and would fail on anything else with a bare TypeError or UnicodeEncodeError (a lone surrogate)."""

    words: str
    fits: Callable[[Any], bool]


def _text(value: Any) -> bool:
    """A string that encodes to UTF-8 (JSON can carry a lone surrogate, which no HTTP message can)."""
    if not isinstance(value, str):
        return False
    if value.isascii():  # constant time: CPython keeps the flag
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _texts(value: Any) -> bool:
    return isinstance(value, list) and all(_text(item) for item in value)


def _text_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(_text(key) and _text(item) for key, item in value.items())


def _texts_map(value: Any) -> bool:
    return isinstance(value, Mapping) and all(_text(key) and _texts(items) for key, items in value.items())


FIELD_SHAPES: dict[str, FieldShape] = {
    "headers": FieldShape("an object whose values are strings", _text_map),
    "multiValueHeaders": FieldShape("an object whose values are lists of strings", _texts_map),
    "queryStringParameters": FieldShape("an object whose values are strings", _text_map),
    "multiValueQueryStringParameters": FieldShape("an object whose values are lists of strings", _texts_map),
    "cookies": FieldShape("a list of strings", _texts),
    "rawPath": FieldShape("a string", _text),
    "rawQueryString": FieldShape("a string", _text),
    "path": FieldShape("a string", _text),
    "httpMethod": FieldShape("a string", _text),
}


def _has(event: Mapping[str, Any], path: list[str]) -> bool:
    value: Any = event
    for key in path:
        if not isinstance(value, Mapping) or value.get(key) is None:
            return False
        value = value[key]
    return True


def _request_context(event: Mapping[str, Any]) -> Mapping[str, Any]:
    context = event.get("requestContext")
    return context if isinstance(context, Mapping) else {}


class FunctionUrlEvent(HttpEventSource):
    """A Lambda Function URL request (payload 2.0, served from a *.lambda-url.* domain)."""

    kind = "Lambda Function URL"
    required = ("requestContext.http.method", "requestContext.http.path", "requestContext.http.sourceIp")
    correlation_path = correlation_paths.LAMBDA_FUNCTION_URL

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        context = _request_context(event)
        return event.get("version") == "2.0" and ".lambda-url." in str(context.get("domainName", ""))


class HttpApiEvent(HttpEventSource):
    """An API Gateway HTTP API request, payload format 2.0."""

    kind = "API Gateway HTTP API (payload 2.0)"
    required = ("requestContext.http.method", "requestContext.http.path", "requestContext.http.sourceIp")
    correlation_path = correlation_paths.API_GATEWAY_HTTP

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        context = _request_context(event)
        return event.get("version") == "2.0" and isinstance(context.get("http"), Mapping) and "rawPath" in event


class RestApiEvent(HttpEventSource):
    """An API Gateway REST API request (payload 1.0), with or without a stage in the URL."""

    kind = "API Gateway REST API (payload 1.0)"
    required = ("path",)
    correlation_path = correlation_paths.API_GATEWAY_REST

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        return "httpMethod" in event and "resource" in event and "stage" in _request_context(event)


class AlbEvent(HttpEventSource):
    """An Application Load Balancer request to a Lambda target group."""

    kind = "Application Load Balancer"
    required = ("path",)
    correlation_path = correlation_paths.APPLICATION_LOAD_BALANCER

    @classmethod
    def claims(cls, event: Mapping[str, Any]) -> bool:
        return "httpMethod" in event and "elb" in _request_context(event)


HTTP_SOURCES: tuple[type[EventSource], ...] = (FunctionUrlEvent, HttpApiEvent, RestApiEvent, AlbEvent)


def identify(event: Any, sources: Sequence[type[EventSource]]) -> type[EventSource]:
    """The first source that claims ``event``; raises UnsupportedEventError listing the accepted kinds, or
    MalformedEventError saying what a claimed event lacks."""
    if isinstance(event, Mapping):
        for source in sources:
            if source.claims(event):
                problem = source.problem(event)
                if problem:
                    raise MalformedEventError(f"malformed {source.kind} event: {problem}")
                return source
    shown = f"an object with keys {sorted(event)[:8]}" if isinstance(event, Mapping) else type(event).__name__
    accepted = "; ".join(source.kind for source in sources)
    raise UnsupportedEventError(f"unrecognised event ({shown}); this function accepts: {accepted}")
