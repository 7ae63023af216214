"""GIVEN template.yaml, the Dockerfile and the handler's code WHEN they are read side by side THEN they
agree: the environment the template sets is exactly what the settings read (and valid), the queue and
timeout rules hold, both functions run one image with one CMD, every event source has a sample event,
the secure defaults are the defaults, and every wildcard in IAM carries its reason."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from handler.settings import ENV_NAMES, settings_from_env
from tests.testkit.events import load_event
from tests.testkit.paths import EVENTS, REPO
from tests.testkit.template import (
    TEMPLATE,
    dockerfile_instructions,
    function_environment,
    load_template,
    parameter_default,
    resolved_environment,
    resources,
)

FUNCTIONS = ("ApiFunction", "BatchFunction")
# Lambda's longest INIT on demand: API Gateway's clock runs through it, the function's Timeout does not.
MAX_INIT_S = 10


def properties(name: str) -> dict[str, Any]:
    props: dict[str, Any] = load_template()["Resources"][name]["Properties"]
    return props


def test_the_template_sets_exactly_the_variables_the_settings_read() -> None:
    set_by_template = set().union(*(function_environment(name) for name in FUNCTIONS))
    assert set_by_template == set(ENV_NAMES.values())


@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_functions_environment_is_a_valid_configuration(function: str) -> None:
    environment = resolved_environment(function)
    settings = settings_from_env(environment)  # raises SettingsError naming a bad variable
    assert str(settings.model_path) == environment["MODEL_PATH"]


def test_model_path_is_where_the_dockerfile_puts_the_model() -> None:
    instructions = dockerfile_instructions()
    model_copy = [args for keyword, args in instructions if keyword == "COPY" and "MODEL_FILE" in args]
    assert len(model_copy) == 1
    destination = model_copy[0].split()[-1].replace("${LAMBDA_TASK_ROOT}", "/var/task")
    assert ("ENV", f"MODEL_PATH={destination}") in instructions
    assert function_environment("ApiFunction")["MODEL_PATH"] == destination


def test_both_functions_run_one_image_with_the_dockerfiles_cmd() -> None:
    template = load_template()
    api, batch = (template["Resources"][name] for name in FUNCTIONS)
    assert api["Metadata"] == batch["Metadata"]  # sam build then builds one image for both
    for function in (api, batch):
        assert function["Properties"]["PackageType"] == "Image"
        assert "ImageConfig" not in function["Properties"]  # so the CMD is the Dockerfile's, for both
    assert (REPO / api["Metadata"]["DockerContext"] / api["Metadata"]["Dockerfile"]).is_file()
    assert ("CMD", '["handler.entrypoint.lambda_handler"]') in dockerfile_instructions()
    assert api["Metadata"]["DockerBuildArgs"]["MODEL_FILE"] == "models/digits-cnn.onnx"
    assert template["Globals"]["Function"]["Architectures"] == [{"Ref": "Architecture"}]
    assert parameter_default("Architecture") == "arm64"


def test_the_functions_differ_in_timeout_memory_concurrency_and_permissions() -> None:
    api, batch = properties("ApiFunction"), properties("BatchFunction")
    assert (api["Timeout"], batch["Timeout"]) == (15, 900)
    assert api["MemorySize"] != batch["MemorySize"]
    assert "Policies" not in api  # the API function reads nothing but its own image
    assert batch["Policies"]
    assert api["AutoPublishAlias"] == "live"
    assert "ProvisionedConcurrencyConfig" in api
    assert "ProvisionedConcurrencyConfig" not in batch


def test_the_api_function_times_out_before_api_gateway_gives_up_even_after_a_cold_init() -> None:
    integration = properties("HttpApiIntegration")
    assert integration["TimeoutInMillis"] <= 30_000  # the HTTP API maximum
    assert (properties("ApiFunction")["Timeout"] + MAX_INIT_S) * 1000 < integration["TimeoutInMillis"]


def sqs_event_queues() -> dict[str, str]:
    """Event name -> queue logical id, for the batch function's SQS events."""
    events = properties("BatchFunction")["Events"]
    return {
        name: event["Properties"]["Queue"]["Fn::GetAtt"][0] for name, event in events.items() if event["Type"] == "SQS"
    }


def test_every_sqs_source_has_visibility_at_least_six_batch_timeouts_a_dlq_and_partial_failures() -> None:
    batch = properties("BatchFunction")
    assert set(sqs_event_queues()) == {"Uploads", "Jobs"}
    for event_name, queue in sqs_event_queues().items():
        queue_props = properties(queue)
        assert queue_props["VisibilityTimeout"] >= 6 * batch["Timeout"]
        assert queue_props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0].endswith("DeadLetterQueue")
        assert queue_props["RedrivePolicy"]["maxReceiveCount"] >= 1
        event = batch["Events"][event_name]["Properties"]
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_uploads_reach_the_queue_without_a_circular_dependency() -> None:
    bucket = load_template()["Resources"]["InputBucket"]
    assert bucket["DependsOn"] == "UploadsQueuePolicy"  # S3 checks the policy when it saves the notification
    notification = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"][0]
    assert notification["Queue"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    policy = json.dumps(properties("UploadsQueuePolicy"))
    assert "InputBucket" not in policy  # it names the bucket by the same expression, not by reference
    name_expression = json.dumps(bucket["Properties"]["BucketName"]["Fn::Join"][1][1])
    assert name_expression in policy


# Each kind of event the template wires to a function, and the sample files that stand for it.
EVENT_FILES = {
    "SQS:Uploads": ["sqs.s3-put.json"],
    "SQS:Jobs": ["sqs.jobs-mixed.json"],
    "Schedule:Schedule": ["schedule.scheduled-event.json"],
    "HttpApi:2.0": ["http-api-v2.*.json"],
    "FunctionUrl": ["function-url.*.json"],
    "StepFunctions:DistributedMap": ["distributed-map.item.json"],
}


def event_sources() -> set[str]:
    """Every way the template makes a function run."""
    found = {f"{e['Type']}:{n}" for n, e in properties("BatchFunction")["Events"].items()}
    assert "Events" not in properties("ApiFunction")  # its API is declared as plain resources below
    found |= {
        f"HttpApi:{r['Properties']['PayloadFormatVersion']}"
        for r in resources("AWS::ApiGatewayV2::Integration").values()
    }
    found |= {"FunctionUrl" for _ in resources("AWS::Lambda::Url")}
    for machine in resources("AWS::Serverless::StateMachine").values():
        if "ItemProcessor" in json.dumps(machine["Properties"]["Definition"]):
            found.add("StepFunctions:DistributedMap")
    return found


def test_every_event_source_in_the_template_has_a_sample_event() -> None:
    assert event_sources() == set(EVENT_FILES)
    for source, patterns in EVENT_FILES.items():
        for pattern in patterns:
            assert list(EVENTS.glob(pattern)), f"{source}: no events/{pattern}"


def test_the_distributed_map_sends_what_the_sample_item_holds() -> None:
    definition = properties("ScorePrefixStateMachine")["Definition"]
    selector = definition["States"]["ScoreObjects"]["ItemSelector"]
    assert {key.removesuffix(".$") for key in selector} <= set(load_event("distributed-map.item"))
    reader = definition["States"]["ScoreObjects"]["ItemReader"]
    assert reader["Resource"] == "arn:aws:states:::s3:listObjectsV2"
    assert definition["States"]["ScoreObjects"]["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"


def test_secure_and_cheap_defaults() -> None:
    assert parameter_default("ApiAuth") == "IAM"
    assert properties("HttpApiRoute")["AuthorizationType"] == {"Fn::If": ["UseJwt", "JWT", "AWS_IAM"]}
    assert properties("ApiFunctionUrl")["AuthType"] == "AWS_IAM"
    assert parameter_default("EnableFunctionUrl") == "false"
    assert parameter_default("ScheduleState") == "DISABLED"
    assert properties("BatchFunction")["Events"]["Schedule"]["Properties"]["State"] == {"Ref": "ScheduleState"}
    assert parameter_default("ProvisionedConcurrency") == 0
    for bucket in resources("AWS::S3::Bucket").values():
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        assert all(block.values())
        assert "AbortIncompleteMultipartUpload" in json.dumps(bucket["Properties"]["LifecycleConfiguration"])


def test_every_bucket_and_queue_refuses_plain_http() -> None:
    policies = {**resources("AWS::S3::BucketPolicy"), **resources("AWS::SQS::QueuePolicy")}
    protected = {json.dumps(p["Properties"].get("Bucket") or p["Properties"]["Queues"]) for p in policies.values()}
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in statements)
    assert len(protected) == len(resources("AWS::S3::Bucket")) + 2  # both buckets, uploads and jobs queues


def test_gradual_deployment_rolls_back_on_the_api_alarms() -> None:
    preference = properties("ApiFunction")["DeploymentPreference"]
    alarms = {alarm["Ref"] for alarm in preference["Alarms"]}
    assert alarms == {"ApiErrorsAlarm", "ApiThrottlesAlarm", "Api5xxAlarm"}
    for alarm in alarms - {"Api5xxAlarm"}:
        dimensions = {d["Name"]: d["Value"] for d in properties(alarm)["Dimensions"]}
        assert dimensions["Resource"] == {"Fn::Sub": "${ApiFunction}:live"}  # the alias, i.e. the new version
    assert {"BatchErrorsAlarm", "BatchThrottlesAlarm", "DeadLetterAlarm"} <= set(resources("AWS::CloudWatch::Alarm"))


WILDCARD = re.compile(r"""(Action|Resource|Principal):\s*(["']\*["']|\S+:\*)\s*(#.*)?$""")


def test_every_wildcard_in_a_policy_carries_a_comment_saying_why() -> None:
    lines = TEMPLATE.read_text().splitlines()
    wildcards = [(number, line) for number, line in enumerate(lines) if WILDCARD.search(line.strip())]
    assert wildcards, "the pattern finds nothing: it is broken"
    for number, line in wildcards:
        nearby = [line, *lines[max(0, number - 3) : number]]
        assert any("#" in text for text in nearby), f"template.yaml:{number + 1}: {line.strip()} has no reason"


def test_outputs_name_everything_a_user_or_test_needs() -> None:
    outputs = set(load_template()["Outputs"])
    needed = {"ApiUrl", "FunctionUrl", "ApiFunctionName", "ApiFunctionAliasArn", "BatchFunctionName"}
    needed |= {"InputBucketName", "OutputBucketName", "JobsQueueUrl", "JobsDeadLetterQueueUrl"}
    needed |= {"UploadsQueueUrl", "UploadsDeadLetterQueueUrl", "ScorePrefixStateMachineArn"}
    assert needed <= outputs
