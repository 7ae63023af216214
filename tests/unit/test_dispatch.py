"""GIVEN an event WHEN identified THEN the right kind claims it, and nobody claims what is not served."""

from __future__ import annotations

import pytest

from handler.dispatch import (
    HTTP_SOURCES,
    AlbEvent,
    FunctionUrlEvent,
    HttpApiEvent,
    RestApiEvent,
    UnsupportedEventError,
    identify,
)
from tests.testkit.events import event_files, load_event

KINDS = {
    "http-api-v2": HttpApiEvent,
    "rest-v1-stage": RestApiEvent,
    "alb": AlbEvent,
    "function-url": FunctionUrlEvent,
}


@pytest.mark.parametrize("path", [p for p in event_files() if p.name.split(".")[0] in KINDS], ids=lambda p: p.name)
def test_each_http_event_file_is_claimed_by_its_own_kind(path: object) -> None:
    name = getattr(path, "name", "")
    assert identify(load_event(name), HTTP_SOURCES) is KINDS[name.split(".")[0]]


def test_correlation_ids_come_from_the_request_context_or_the_alb_trace_header() -> None:
    assert HttpApiEvent.correlation_id(load_event("http-api-v2.health")) == "req-get"
    assert AlbEvent.correlation_id(load_event("alb.health")) == "Root=1-5c536348-3d683b8b04734faae651f476"


@pytest.mark.parametrize("event", [load_event("unsupported.cognito-trigger"), {}, [], "hello", None])
def test_an_unrecognised_event_gets_an_error_listing_what_is_accepted(event: object) -> None:
    with pytest.raises(UnsupportedEventError) as caught:
        identify(event, HTTP_SOURCES)
    message = str(caught.value)
    assert message.startswith("unrecognised event")
    for source in HTTP_SOURCES:
        assert source.kind in message
