"""The reference side of tests/deploy/test_event_shapes.py: every kind of event in events/, the rule that
assigns each file its kind, and the table of legitimate differences from AWS's shape, each with its reason.

Why a module of its own: these tables are the project's claims about what AWS sends, with the sources
behind them; the comparison engine (testkit.event_shapes) and the tests only read them. A new event file
needs a rule here, and a difference from the generator's event needs a row in DIFFERENCES with its reason.

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

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
# own contract (docs/batch.md "Schedules", handler/batch/sources.py).
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
# Payload-2.0 keys AWS leaves out when the request does not use them (HTTP APIs and Function URLs alike).
V2_ABSENT_UNLESS_USED = (
    ("cookies", "AWS sends it only when the request has a Cookie header; ours have none"),
    ("queryStringParameters", "AWS leaves it out without a query string (rawQueryString '')"),
    ("body", "AWS leaves it out when the request has no body, as for our GETs"),
)

DIFFERENCES: list[Difference] = [
    *_maps("http-api-v2", *V2_MAPS, "requestContext.authorizer.jwt.claims"),
    *(
        D(kind, key, OPTIONAL, reason)
        for kind in ("http-api-v2", "function-url")
        for key, reason in V2_ABSENT_UNLESS_USED
    ),
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
