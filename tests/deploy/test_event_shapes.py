"""GIVEN every file in events/ WHEN its keys are compared, at every level, with the event AWS sends for its
kind THEN they are the same, up to the differences listed with their reasons in DIFFERENCES.

The sample events are what `sam local invoke -e` and the functional tests feed the handler, so a file
that AWS would never send proves nothing. The reference is what `sam local generate-event` produces,
generated here (a SAM CLI upgrade that changes a shape shows up), or, for the kinds SAM has no generator
for, an explicit shape written below with its source. Only the shape is compared: the keys of every
object, whether each value is an object, a list or a scalar, and every list item against the
reference's first item. Values (ids, paths, stages, bodies) differ freely; tests/functional and
tests/batch check what the handler makes of them. For instance the REST API files call the `prod`
stage: that is the value of requestContext.stage and the `/prod` prefix of requestContext.path, keys
the generator's event has too, so it is no difference of shape.

Sources cited below:
- [apigw-v2] API Gateway Developer Guide, "Create AWS Lambda proxy integrations for HTTP APIs", payload
  format 2.0, and aws_lambda_powertools.utilities.parser.models.APIGatewayProxyEventV2Model (in our
  venv: Powertools is a runtime dependency), which marks cookies, queryStringParameters, pathParameters,
  stageVariables, body and requestContext.authorizer optional: API Gateway leaves them out when the
  request or route has none. The docs' example is the maximal event, every field filled in.
- [furl] Lambda Developer Guide, "Invoking Lambda function URLs", request payload: the HTTP API 2.0
  format with routeKey and stage "$default", a *.lambda-url.* domain, `authorizer.iam` only with
  AuthType AWS_IAM, and pathParameters, stageVariables and authentication shown as null.
- [apigw-v1] API Gateway Developer Guide, Lambda proxy integration input format (payload 1.0), and
  Powertools' APIGatewayProxyEventModel: the parameter maps are null when there are none.
- [alb] Elastic Load Balancing User Guide, "Lambda functions as targets", multi-value headers.
- [eventbridge] EventBridge User Guide, "Amazon EventBridge events": version ("0" in every event), id,
  detail-type, source, account, time, region, resources, detail.
- [s3-eventbridge] S3 User Guide, "EventBridge event message structure" (Object Created).
- [sfn] Step Functions Developer Guide, "ItemReader (Map)": an S3 ListObjectsV2 item.
- [cognito] Cognito Developer Guide, "user pool Lambda trigger common parameters", and Powertools'
  CognitoTriggerBaseSchema.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from testkit.events import event_files, load_event
from testkit.tools import run_tool

Json = Any
Command = tuple[str, str]  # sam local generate-event SERVICE EVENT


@dataclass(frozen=True)
class Kind:
    """One kind of event and its reference: a `generate-event` command, or an explicit shape."""

    name: str
    source: str
    generator: Command | None = None
    explicit: Json = None
    body: str | None = None  # the kind of JSON every record's body carries (SQS wrapping S3 notifications)


# Explicit references, for the kinds `sam local generate-event` has no generator for. Values are
# placeholders: only the keys and the kind of each value count.
S3_OBJECT_CREATED_DETAIL = {  # [s3-eventbridge]
    "version": "0",
    "bucket": {"name": ""},
    "object": {"key": "", "size": 0, "etag": "", "version-id": "", "sequencer": ""},
    "request-id": "",
    "requester": "",
    "source-ip-address": "",
    "reason": "PutObject",
}
# [sfn]: {"Etag": "\"05704fbd...\"", "Key": "processData/images/n02085620_1073.jpg",
#         "LastModified": 1668699881, "Size": 34910, "StorageClass": "STANDARD"}
LIST_OBJECTS_V2_ITEM = {"Etag": "", "Key": "", "LastModified": 0, "Size": 0, "StorageClass": ""}
# No AWS shape exists: EventBridge hands a target's constant Input to the function verbatim, so this is our
# own contract (README "Schedules", handler/batch/sources.py).
SCORE_PREFIX_INPUT = {"score_prefix": {"bucket": "", "prefix": ""}}
# SAM's only cognito generator, `sync-trigger`, is Amazon Cognito Sync's dataset event (another service).
COGNITO_USER_POOL_TRIGGER = {  # [cognito]
    "version": "1",
    "triggerSource": "PreSignUp_SignUp",
    "region": "",
    "userPoolId": "",
    "userName": "",
    "callerContext": {"awsSdkVersion": "", "clientId": ""},
    "request": {},
    "response": {},
}
FUNCTION_URL_IAM_AUTHORIZER = {  # [furl]
    "iam": {
        "accessKey": "",
        "accountId": "",
        "callerId": "",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": "",
        "userId": "",
    }
}

HTTP_API: Command = ("apigateway", "http-api-proxy")
SQS: Command = ("sqs", "receive-message")
SCHEDULED: Command = ("cloudwatch", "scheduled-event")
KINDS = {
    kind.name: kind
    for kind in (
        Kind("http-api-v2", "sam local generate-event apigateway http-api-proxy", HTTP_API),
        Kind("function-url", "generate-event apigateway http-api-proxy, with [furl]'s differences", HTTP_API),
        Kind("rest-v1", "sam local generate-event apigateway aws-proxy", ("apigateway", "aws-proxy")),
        Kind("alb", "sam local generate-event alb request", ("alb", "request")),
        Kind("s3-notification", "sam local generate-event s3 put", ("s3", "put")),
        Kind("sqs-s3-notification", "generate-event sqs receive-message; bodies: s3 put", SQS, body="s3-notification"),
        # A job's body is an HTTP request body plus result_uri: the API's contract, checked by tests/batch.
        Kind("sqs-job", "sam local generate-event sqs receive-message", SQS),
        Kind("scheduled-event", "sam local generate-event cloudwatch scheduled-event", SCHEDULED),
        Kind("eventbridge-s3", "the envelope of generate-event cloudwatch scheduled-event", SCHEDULED),
        Kind("schedule-input", "explicit: our contract for a rule's constant Input", explicit=SCORE_PREFIX_INPUT),
        Kind("distributed-map-item", "explicit: [sfn] + ItemSelector's Bucket", explicit=LIST_OBJECTS_V2_ITEM),
        Kind("cognito-trigger", "explicit: [cognito] common parameters", explicit=COGNITO_USER_POOL_TRIGGER),
    )
}

# File name pattern in events/ -> kind. Every file must match exactly one.
RULES = {
    "http-api-v2.*.json": "http-api-v2",
    "function-url.*.json": "function-url",
    "rest-v1-stage.*.json": "rest-v1",
    "alb.*.json": "alb",
    "s3.put.json": "s3-notification",
    "sqs.s3-*.json": "sqs-s3-notification",
    "sqs.jobs-*.json": "sqs-job",
    "schedule.scheduled-event.json": "scheduled-event",
    "eventbridge.object-created.json": "eventbridge-s3",
    "schedule.rule-input.json": "schedule-input",
    "distributed-map.item.json": "distributed-map-item",
    "unsupported.cognito-trigger.json": "cognito-trigger",
}


class How(StrEnum):
    """How a file may differ from its reference at one path (`[]` stands for every list item)."""

    OPTIONAL = "optional"  # AWS may leave the key out
    NULLABLE = "nullable"  # AWS may send null instead of the object
    MAP = "map"  # the keys are data (header names, attributes): only "is an object" is compared
    ADDED = "added"  # the generator lacks the key but AWS sends it: the reference gains `shape`
    REPLACED = "replaced"  # the generator's value is not this kind's: the reference uses `shape`
    RENAMED = "renamed"  # an alternative form of the event has the key under the name `shape`


@dataclass(frozen=True)
class Difference:
    """One legitimate difference between our files of a kind and the reference, and why."""

    kind: str
    path: str
    how: How
    reason: str
    shape: Json = None


def _maps(kind: str, *paths: str) -> list[Difference]:
    """MAP rows: objects whose keys are header, parameter or attribute names, i.e. data, not a schema."""
    return [Difference(kind, path, How.MAP, "its keys are names chosen by the caller or sender") for path in paths]


D, OPTIONAL, NULLABLE = Difference, How.OPTIONAL, How.NULLABLE
V2_MAPS = ("headers", "queryStringParameters", "pathParameters", "stageVariables")
V1_MAPS = (*V2_MAPS, "multiValueHeaders", "multiValueQueryStringParameters")
# The generators fill in every field; AWS sends only what the request has. [apigw-v2] and [furl] both
# show the maximal event, and Powertools' models (built from real events) make these fields optional.
DIFFERENCES: list[Difference] = [
    *_maps("http-api-v2", *V2_MAPS, "requestContext.authorizer.jwt.claims"),
    D("http-api-v2", "cookies", OPTIONAL, "AWS sends it only when the request has a Cookie header; ours have none"),
    D("http-api-v2", "queryStringParameters", OPTIONAL, "AWS leaves it out without a query string (rawQueryString '')"),
    D("http-api-v2", "body", OPTIONAL, "AWS leaves it out when the request has no body, as for our GETs"),
    D("http-api-v2", "pathParameters", OPTIONAL, "AWS sends it only when the matched route has path parameters"),
    D("http-api-v2", "stageVariables", OPTIONAL, "AWS sends it only when the stage defines variables; ours has none"),
    D("http-api-v2", "requestContext.authentication", OPTIONAL, "AWS sends it only with mutual TLS, unused here"),
    D(
        "http-api-v2",
        "requestContext.authorizer",
        OPTIONAL,
        "AWS sends it only when the route has an authorizer (template.yaml's always has one, JWT or IAM: ours are JWT)",
    ),
    *_maps("function-url", *V2_MAPS),
    D("function-url", "cookies", OPTIONAL, "as for HTTP APIs: only when the request has a Cookie header"),
    D("function-url", "queryStringParameters", OPTIONAL, "as for HTTP APIs: only with a query string"),
    D("function-url", "body", OPTIONAL, "as for HTTP APIs: only when the request has a body"),
    D("function-url", "pathParameters", OPTIONAL, "a Function URL has no routes: null in [furl], absent in practice"),
    D("function-url", "pathParameters", NULLABLE, "a Function URL has no routes: [furl] shows null"),
    D("function-url", "stageVariables", OPTIONAL, "a Function URL has no stages: null in [furl], absent in practice"),
    D("function-url", "stageVariables", NULLABLE, "a Function URL has no stages: [furl] shows null"),
    D("function-url", "requestContext.authentication", OPTIONAL, "no mutual TLS on Function URLs"),
    D("function-url", "requestContext.authentication", NULLABLE, "no mutual TLS on Function URLs: [furl] shows null"),
    D(
        "function-url",
        "requestContext.authorizer",
        How.REPLACED,
        "a Function URL's only authorizer is IAM (AuthType AWS_IAM) [furl]; JWT authorizers are API Gateway's",
        FUNCTION_URL_IAM_AUTHORIZER,
    ),
    D(
        "function-url",
        "requestContext.authorizer",
        OPTIONAL,
        "sent only with AuthType AWS_IAM; our files are AuthType NONE requests (template.yaml's URL uses AWS_IAM)",
    ),
    *_maps("rest-v1", *V1_MAPS),
    D("rest-v1", "queryStringParameters", NULLABLE, "payload 1.0 sends null without a query string [apigw-v1]"),
    D("rest-v1", "multiValueQueryStringParameters", NULLABLE, "null without a query string [apigw-v1]"),
    D("rest-v1", "pathParameters", NULLABLE, "null when the resource has no path parameters [apigw-v1]"),
    D("rest-v1", "stageVariables", NULLABLE, "null when the stage defines no variables [apigw-v1]"),
    *_maps("alb", "headers", "queryStringParameters", "multiValueHeaders", "multiValueQueryStringParameters"),
    D(
        "alb",
        "headers",
        How.RENAMED,
        "with the target group's multi-value headers on, ALB sends multiValueHeaders (lists) instead [alb];"
        " our files use the default (off), as the generator does",
        "multiValueHeaders",
    ),
    D(
        "alb",
        "queryStringParameters",
        How.RENAMED,
        "likewise, with multi-value headers on",
        "multiValueQueryStringParameters",
    ),
    *_maps("sqs-s3-notification", "Records[].messageAttributes"),
    *_maps("sqs-job", "Records[].messageAttributes"),
    D("scheduled-event", "version", How.ADDED, 'EventBridge sends version "0" in every event [eventbridge]', "0"),
    D("eventbridge-s3", "version", How.ADDED, 'EventBridge sends version "0" in every event [eventbridge]', "0"),
    D(
        "eventbridge-s3",
        "detail",
        How.REPLACED,
        "S3's Object Created detail [s3-eventbridge]",
        S3_OBJECT_CREATED_DETAIL,
    ),
    D("eventbridge-s3", "detail.object.version-id", OPTIONAL, "S3 sends it only for buckets with versioning on"),
    D("schedule-input", "score_prefix.bucket", OPTIONAL, "INPUT_BUCKET fills in (handler/batch/triggers.py)"),
    D("schedule-input", "score_prefix.prefix", OPTIONAL, "INPUT_PREFIX fills in (handler/batch/triggers.py)"),
    D(
        "distributed-map-item",
        "Bucket",
        How.ADDED,
        "a ListObjectsV2 item has no bucket; the map's ItemSelector adds it so the function knows where to read",
        "",
    ),
    D("cognito-trigger", "request", How.MAP, "trigger-specific; the file only has to be a trigger we refuse"),
    D("cognito-trigger", "response", How.MAP, "trigger-specific; the file only has to be a trigger we refuse"),
]

# --- references -------------------------------------------------------------------------------------------


def generate_event(command: Command) -> Json:
    """`sam local generate-event SERVICE EVENT` as JSON (about half a second, offline)."""
    result = run_tool("sam", "local", "generate-event", *command, timeout=60)
    if result.returncode != 0:
        pytest.fail(f"sam local generate-event {' '.join(command)} failed:\n{result.stderr}", pytrace=False)
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def generated() -> dict[Command, Json]:
    """Every generator's event, once per session: one call per command, run side by side."""
    commands = sorted({kind.generator for kind in KINDS.values() if kind.generator})
    with ThreadPoolExecutor(len(commands)) as pool:
        return dict(zip(commands, pool.map(generate_event, commands), strict=True))


def differences(kind: str, *hows: How) -> list[Difference]:
    """The table's rows for one kind, of the given sorts."""
    return [row for row in DIFFERENCES if row.kind == kind and row.how in hows]


def _parent(tree: Json, path: str) -> tuple[dict[str, Json], str]:
    """The object holding the last key of a dotted path, and that key."""
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[key]
    return tree, last


def references(kind: Kind, generated: dict[Command, Json]) -> list[Json]:
    """The kind's reference event, then its alternative form when the table renames keys (ALB multi-value)."""
    base = copy.deepcopy(generated[kind.generator] if kind.generator else kind.explicit)
    for row in differences(kind.name, How.ADDED, How.REPLACED):
        holder, key = _parent(base, row.path)
        holder[key] = copy.deepcopy(row.shape)
    renames = differences(kind.name, How.RENAMED)
    if not renames:
        return [base]
    alternative = copy.deepcopy(base)
    for row in renames:
        holder, key = _parent(alternative, row.path)
        holder[row.shape] = holder.pop(key)
    return [base, alternative]


def allowances(kind: str) -> dict[str, set[How]]:
    """Path pattern -> the ways a file of this kind may differ there."""
    allowed: dict[str, set[How]] = {}
    for row in differences(kind, How.OPTIONAL, How.NULLABLE, How.MAP):
        allowed.setdefault(row.path, set()).add(row.how)
    return allowed


def kind_for(name: str) -> Kind:
    """The one kind whose rule matches this file name; a new or ambiguous name is an error, not a pass."""
    matches = [kind for pattern, kind in RULES.items() if fnmatch.fnmatchcase(name, pattern)]
    if not matches:
        raise LookupError(f"no reference shape for {name}: add a rule to RULES (and its kind to KINDS)")
    if len(matches) > 1:
        raise LookupError(f"{name} matches several rules ({', '.join(matches)}): make the patterns disjoint")
    return KINDS[matches[0]]


# --- comparison -------------------------------------------------------------------------------------------


def _form(value: Json) -> str:
    """What the comparison tells apart: objects (compared key by key), lists (item by item), scalars."""
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else "a scalar"


def _join(path: str, key: str) -> str:
    """The display path of a key: dotted, as the table writes it."""
    return f"{path}.{key}" if path else key


def _pattern(path: str) -> str:
    """Records[3].s3 -> Records[].s3: the table speaks of every list item at once."""
    return re.sub(r"\[\d+\]", "[]", path)


def drift(ours: Json, reference: Json, allowed: dict[str, set[How]], path: str = "") -> list[str]:
    """Where ``ours`` differs in shape from ``reference``, beyond what ``allowed`` permits."""
    hows = allowed.get(_pattern(path), set())
    if ours is None and How.NULLABLE in hows:
        return []
    if _form(ours) != _form(reference):
        found = "null" if ours is None else _form(ours)
        return [f"{path or '(top)'}: {_form(reference)} expected, found {found}"]
    if isinstance(reference, dict):
        return [] if How.MAP in hows else _object_drift(ours, reference, allowed, path)
    if isinstance(reference, list) and reference:
        return [line for i, item in enumerate(ours) for line in drift(item, reference[0], allowed, f"{path}[{i}]")]
    return []


def _object_drift(
    ours: dict[str, Json], reference: dict[str, Json], allowed: dict[str, set[How]], path: str
) -> list[str]:
    """Missing keys (unless optional), keys the reference lacks, and the drift of every shared key."""
    lines = [
        f"{_join(path, key)}: missing"
        for key in reference.keys() - ours.keys()
        if How.OPTIONAL not in allowed.get(_pattern(_join(path, key)), set())
    ]
    lines += [f"{_join(path, key)}: not in the reference" for key in ours.keys() - reference.keys()]
    for key in ours.keys() & reference.keys():
        lines += drift(ours[key], reference[key], allowed, _join(path, key))
    return sorted(lines)


def _body_drift(event: Json, kind: Kind, generated: dict[Command, Json]) -> list[str]:
    """For SQS carrying another kind of event: each record's body, parsed, against that kind's reference."""
    if kind.body is None:
        return []
    lines: list[str] = []
    for i, record in enumerate(event.get("Records", [])):
        try:
            body = json.loads(record.get("body", ""))
        except json.JSONDecodeError:
            lines.append(f"Records[{i}].body: not JSON")
            continue
        lines += [f"Records[{i}].body -> {line}" for line in shape_drift(body, KINDS[kind.body], generated)]
    return lines


def shape_drift(event: Json, kind: Kind, generated: dict[Command, Json]) -> list[str]:
    """No lines when the event has one of the kind's reference shapes; else the closest one's drift."""
    candidates = [drift(event, reference, allowances(kind.name)) for reference in references(kind, generated)]
    closest = min(candidates, key=len)
    return closest + _body_drift(event, kind, generated)


# --- tests ------------------------------------------------------------------------------------------------


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
    holder, key = _parent(event, path)
    holder[new] = holder.pop(key)
    return event


def _delete(event: Json, path: str) -> Json:
    """Drift helper: drop the key at ``path``."""
    holder, key = _parent(event, path)
    del holder[key]
    return event


def _set(event: Json, path: str, value: Json) -> Json:
    """Drift helper: replace the value at ``path``."""
    holder, key = _parent(event, path)
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
    """If a SAM CLI upgrade adds one, the explicit shape above should give way to it."""
    with ThreadPoolExecutor(3) as pool:
        services, cognito, stepfunctions = pool.map(
            lambda args: _commands(*args), [(), ("cognito",), ("stepfunctions",)]
        )
    assert {"apigateway", "alb", "s3", "sqs", "cloudwatch"} <= services
    assert services.isdisjoint({"eventbridge", "events", "scheduler", "lambda"})
    assert cognito == {"sync-trigger"}  # Cognito Sync datasets, not user pool triggers
    assert stepfunctions == {"error"}  # no Map item
