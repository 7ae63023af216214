"""SQS inference jobs through the real entry point: partial batch responses, results in S3, and the
queue's own redrive policy moving a poison message to the dead-letter queue."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tests.testkit.aws import MAX_RECEIVE_COUNT, OUTPUT_BUCKET, Aws, batch_context
from tests.testkit.events import load_event

Entry = Callable[[dict[str, Any], Any], dict[str, Any]]
POISON_IDS = [f"0d3f6d5e-1a2b-4c3d-8e9f-00000000000{n}" for n in (3, 4, 6, 7)]


def test_only_the_poison_messages_come_back_as_batch_item_failures(
    aws: Aws, entry: Entry, expected_probabilities: Callable[..., Any], digits: tuple[np.ndarray, np.ndarray]
) -> None:
    response = entry(load_event("sqs.jobs-mixed"), batch_context())
    assert response == {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in POISON_IDS]}
    result = json.loads(aws.read("jobs/job-1.json", bucket=OUTPUT_BUCKET))
    expected = expected_probabilities(digits[0][:2]).argmax(axis=1)
    assert [prediction["label"] for prediction in result["predictions"]] == [str(label) for label in expected]
    assert list(aws.objects(OUTPUT_BUCKET)) == ["jobs/job-1.json"]  # job-4 failed: no result written


def _lambda_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    """What Lambda's SQS poller hands the function for received messages."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
            for message in messages
        ]
    }


def test_a_malformed_message_reaches_the_dead_letter_queue_and_the_good_one_succeeds(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.drain(aws.jobs_queue)
    aws.drain(aws.jobs_dlq)
    arn = aws.queue_arn(aws.jobs_queue)
    good = {"instances": [digits[0][0].astype(int).tolist()], "result_uri": f"s3://{OUTPUT_BUCKET}/jobs/good.json"}
    aws.sqs.send_message(QueueUrl=aws.jobs_queue, MessageBody=json.dumps(good))
    aws.sqs.send_message(QueueUrl=aws.jobs_queue, MessageBody='{"instances": [[1, 2')
    for _ in range(MAX_RECEIVE_COUNT + 1):  # Lambda's poller: receive, invoke, delete what succeeded
        messages = aws.sqs.receive_message(QueueUrl=aws.jobs_queue, MaxNumberOfMessages=10).get("Messages", [])
        if messages:
            failed = {
                item["itemIdentifier"]
                for item in entry(_lambda_event(messages, arn), batch_context())["batchItemFailures"]
            }
            for message in messages:
                if message["MessageId"] not in failed:
                    aws.sqs.delete_message(QueueUrl=aws.jobs_queue, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(1.2)  # the queue's visibility timeout
    dead = aws.drain(aws.jobs_dlq)
    assert [message["Body"] for message in dead] == ['{"instances": [[1, 2']
    assert aws.drain(aws.jobs_queue) == []
    assert json.loads(aws.read("jobs/good.json", bucket=OUTPUT_BUCKET))["model_name"] == "digits-cnn"


def test_an_upload_notification_from_the_real_s3_to_sqs_route_is_scored(
    aws: Aws, entry: Entry, digits: tuple[np.ndarray, np.ndarray]
) -> None:
    aws.drain(aws.uploads_queue)
    lines = [json.dumps(image.astype(int).tolist()) for image in digits[0][:4]]
    aws.put("input/route/digits.jsonl", ("\n".join(lines) + "\n").encode())
    messages = aws.drain(aws.uploads_queue)
    assert len(messages) == 1
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.uploads_queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    assert entry(_lambda_event(messages, arn), batch_context()) == {"batchItemFailures": []}
    summary = json.loads(aws.read("output/route/digits.jsonl/summary.json"))
    assert summary["records"] == {"in": 4, "scored": 4, "failed": 0}
