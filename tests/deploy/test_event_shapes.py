"""GIVEN every file in events/ WHEN its keys are compared, at every level, with the event AWS sends for its
kind THEN they are the same, up to the differences listed with their reasons in DIFFERENCES.

The sample events are what `sam local invoke -e` and the functional tests feed the handler, so a file
that AWS would never send proves nothing. The reference is what `sam local generate-event` produces,
generated here (a SAM CLI upgrade that changes a shape shows up), or, for the kinds SAM has no generator
for, an explicit shape written with its source in testkit/event_references.py (with the kinds, the rules
and DIFFERENCES). Only the shape is compared: the keys of every object, whether each value is an object,
a list or a scalar, and every list item against the reference's first item. Values (ids, paths, stages,
bodies) differ freely; tests/functional and tests/batch check what the handler makes of them. For
instance the REST API files call the `prod` stage: that is the value of requestContext.stage and the
`/prod` prefix of requestContext.path, keys the generator's event has too, so it is no difference of
shape.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.testkit.event_references import DIFFERENCES, KINDS, RULES, Command, How, Json
from tests.testkit.event_shapes import generate_event, kind_for, parent, references, shape_drift
from tests.testkit.events import event_files, load_event
from tests.testkit.tools import run_tool


@pytest.fixture(scope="session")
def generated() -> dict[Command, Json]:
    """Every generator's event, once per session: one call per command, run side by side."""
    commands = sorted({kind.generator for kind in KINDS.values() if kind.generator})
    with ThreadPoolExecutor(len(commands)) as pool:
        return dict(zip(commands, pool.map(generate_event, commands), strict=True))


@pytest.mark.parametrize("path", event_files(), ids=lambda path: path.name)
def test_event_file_has_the_shape_aws_sends(path: Path, generated: dict[Command, Json]) -> None:
    kind = kind_for(path.name)
    assert shape_drift(load_event(path.name), kind, generated) == [], f"{path.name} vs {kind.source}"


def test_every_event_file_matches_exactly_one_rule_and_every_rule_is_used() -> None:
    names = [path.name for path in event_files()]
    used = {kind_for(name).name for name in names}  # raises for a file with no rule or several
    assert used == set(KINDS), f"kinds no file uses: {set(KINDS) - used}"
    assert set(RULES.values()) == set(KINDS)


@pytest.mark.parametrize("name", ["kinesis.records.json", "http-api-v1.health.json", "sqs.other.json"])
def test_a_file_of_a_new_kind_has_no_reference_shape(name: str) -> None:
    with pytest.raises(LookupError, match=f"no reference shape for {re.escape(name)}"):
        kind_for(name)


def _exists(tree: Json, pattern: str) -> bool:
    """Whether a table path names something in a reference (`[]`: the first list item)."""
    for step in pattern.split("."):
        key = step.removesuffix("[]")
        if not isinstance(tree, dict) or key not in tree:
            return False
        tree = tree[key]
        if step.endswith("[]"):
            if not (isinstance(tree, list) and tree):
                return False
            tree = tree[0]
    return True


def test_every_row_of_the_table_names_a_real_path(generated: dict[Command, Json]) -> None:
    """A misspelt path would allow nothing and say nothing; an ADDED key the generator now has is stale."""
    stale = [row for row in DIFFERENCES if row.kind not in KINDS]
    for row in DIFFERENCES:
        kind = KINDS.get(row.kind)
        if kind is None:
            continue
        if row.how is How.ADDED:
            raw = generated[kind.generator] if kind.generator else kind.explicit
            valid = not _exists(raw, row.path)  # the generator must still lack it
        else:
            valid = any(_exists(reference, row.path) for reference in references(kind, generated))
        if not valid:
            stale.append(row)
    assert stale == []


def _rename(event: Json, path: str, new: str) -> Json:
    """Drift helper: move the key at ``path`` to ``new``, as a careless edit would."""
    holder, key = parent(event, path)
    holder[new] = holder.pop(key)
    return event


def _delete(event: Json, path: str) -> Json:
    """Drift helper: drop the key at ``path``."""
    holder, key = parent(event, path)
    del holder[key]
    return event


def _set(event: Json, path: str, value: Json) -> Json:
    """Drift helper: replace the value at ``path``."""
    holder, key = parent(event, path)
    holder[key] = value
    return event


def _in_record(index: int, mutate: Callable[[Json], Json]) -> Callable[[Json], Json]:
    """Apply ``mutate`` to one of the event's Records and return the whole event."""

    def apply(event: Json) -> Json:
        mutate(event["Records"][index])
        return event

    return apply


def _drifted_body(event: Json) -> Json:
    """sqs.s3-put with the wrapped notification's object key renamed inside the JSON body."""
    body = json.loads(event["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["Key"] = body["Records"][0]["s3"]["object"].pop("key")
    event["Records"][0]["body"] = json.dumps(body)
    return event


# (file, how to drift it, what the comparison must say): each a mistake a hand-edited sample could make.
DRIFTED: dict[str, tuple[str, Callable[[Json], Json], list[str]]] = {
    "renamed key": (
        "http-api-v2.health.json",
        lambda e: _rename(e, "rawPath", "rawpath"),
        ["rawPath: missing", "rawpath: not in the reference"],
    ),
    "missing key": (
        "http-api-v2.health.json",
        lambda e: _delete(e, "requestContext.http"),
        ["requestContext.http: missing"],
    ),
    "missing nested key in a list item": (
        "s3.put.json",
        _in_record(0, lambda r: _delete(r, "s3.object.eTag")),
        ["Records[0].s3.object.eTag: missing"],
    ),
    "renamed key inside an SQS body": (
        "sqs.s3-put.json",
        _drifted_body,
        [
            "Records[0].body -> Records[0].s3.object.Key: not in the reference",
            "Records[0].body -> Records[0].s3.object.key: missing",
        ],
    ),
    "object turned scalar": (
        "rest-v1-stage.health.json",
        lambda e: _set(e, "requestContext", "prod"),
        ["requestContext: an object expected, found a scalar"],
    ),
    "null where AWS never sends null": (
        "rest-v1-stage.health.json",
        lambda e: _set(e, "headers", None),
        ["headers: an object expected, found null"],
    ),
    "a JWT authorizer on a Function URL": (
        "function-url.health.json",
        lambda e: _set(e, "requestContext.authorizer", {"jwt": {"claims": {}, "scopes": []}}),
        ["requestContext.authorizer.iam: missing", "requestContext.authorizer.jwt: not in the reference"],
    ),
    "a later list item drifts": (
        "sqs.jobs-mixed.json",
        _in_record(6, lambda r: _rename(r, "md5OfBody", "md5")),
        ["Records[6].md5: not in the reference", "Records[6].md5OfBody: missing"],
    ),
}


@pytest.mark.parametrize("case", DRIFTED)
def test_a_drifted_copy_is_caught(case: str, generated: dict[Command, Json]) -> None:
    name, mutate, expected = DRIFTED[case]
    assert shape_drift(load_event(name), kind_for(name), generated) == []  # the original passes...
    assert shape_drift(mutate(load_event(name)), kind_for(name), generated) == expected  # ...the copy does not


def test_alb_events_may_use_the_multi_value_form_but_not_both_forms(generated: dict[Command, Json]) -> None:
    event = load_event("alb.health.json")
    multi = copy.deepcopy(event)
    multi["multiValueHeaders"] = {name: [value] for name, value in multi.pop("headers").items()}
    multi["multiValueQueryStringParameters"] = multi.pop("queryStringParameters")
    assert shape_drift(multi, KINDS["alb"], generated) == []
    both = event | {"multiValueHeaders": multi["multiValueHeaders"]}
    assert shape_drift(both, KINDS["alb"], generated) == ["multiValueHeaders: not in the reference"]


def _commands(*service: str) -> set[str]:
    """The subcommands `sam local generate-event [SERVICE] --help` lists."""
    output = run_tool("sam", "local", "generate-event", *service, "--help", timeout=60).stdout
    listing = output.split("Commands:", 1)[1]
    return set(re.findall(r"^\s+([a-z0-9-]+)", listing, flags=re.MULTILINE))


def test_sam_still_has_no_generator_for_the_kinds_written_by_hand() -> None:
    """If a SAM CLI upgrade adds one, the explicit shape in testkit/event_references.py should give way to it."""
    with ThreadPoolExecutor(3) as pool:
        services, cognito, stepfunctions = pool.map(
            lambda args: _commands(*args), [(), ("cognito",), ("stepfunctions",)]
        )
    assert {"apigateway", "alb", "s3", "sqs", "cloudwatch"} <= services
    assert services.isdisjoint({"eventbridge", "events", "scheduler", "lambda"})
    assert cognito == {"sync-trigger"}  # Cognito Sync datasets, not user pool triggers
    assert stepfunctions == {"error"}  # no Map item
