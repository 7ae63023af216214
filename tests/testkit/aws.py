"""moto in server mode on a free loopback port, and the buckets and queues the template creates.

Real HTTP and real boto3 clients: the handler finds the server through boto3's own
``AWS_ENDPOINT_URL`` setting, exactly as it would find a VPC endpoint, with no patched client.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

INPUT_BUCKET = "onnx-lambda-input"
OUTPUT_BUCKET = "onnx-lambda-output"
JOBS_QUEUE = "onnx-lambda-jobs"
UPLOADS_QUEUE = "onnx-lambda-uploads"
MAX_RECEIVE_COUNT = 2
# The batch function's own settings in the tests: schedules score INPUT_BUCKET, and jobs' result_uri may
# name the output bucket's jobs/ (as template.yaml has it; outputs stay beside the inputs here).
BATCH_SETTINGS = {"INPUT_BUCKET": INPUT_BUCKET, "JOBS_RESULT_BUCKET": OUTPUT_BUCKET}
ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    """Start `python -m moto.server`, wait until it answers, yield its URL, stop it."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/moto-api/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class Aws:
    """Clients on the moto server and the resources the template declares."""

    url: str
    s3: Any
    sqs: Any
    jobs_queue: str
    jobs_dlq: str
    uploads_queue: str

    def put(self, key: str, data: bytes, bucket: str = INPUT_BUCKET) -> str:
        """Upload an object; returns its ETag."""
        return str(self.s3.put_object(Bucket=bucket, Key=key, Body=data)["ETag"])

    def objects(self, bucket: str = INPUT_BUCKET, prefix: str = "") -> dict[str, str]:
        """Key -> ETag for every object under the prefix."""
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str, bucket: str = INPUT_BUCKET) -> bytes:
        """An object's bytes."""
        return bytes(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())

    def empty_buckets(self) -> None:
        """Delete every object, so each test starts from the buckets a fresh stack has."""
        for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
            for key in self.objects(bucket):
                self.s3.delete_object(Bucket=bucket, Key=key)

    def queue_arn(self, queue: str) -> str:
        """The ARN of a queue, as Lambda's event source mapping reports it."""
        return str(self.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def drain(self, queue: str) -> list[dict[str, Any]]:
        """Receive and delete every visible message (PurgeQueue is limited to once a minute)."""
        drained: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            messages = batch.get("Messages", [])
            if not messages:
                return drained
            for message in messages:
                self.sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            drained += messages


def _queue_with_dlq(sqs: Any, name: str, visibility_s: int) -> tuple[str, str]:
    dlq = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)})
    attributes = {"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility_s)}
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"], dlq


def provision(url: str) -> Aws:
    """Buckets, the jobs queue with its DLQ, and the S3 -> SQS notification for the input prefix."""
    s3 = boto3.client("s3", endpoint_url=url, region_name=ENV["AWS_DEFAULT_REGION"])
    sqs = boto3.client("sqs", endpoint_url=url, region_name=ENV["AWS_DEFAULT_REGION"])
    for bucket in (INPUT_BUCKET, OUTPUT_BUCKET):
        s3.create_bucket(Bucket=bucket)
    jobs, jobs_dlq = _queue_with_dlq(sqs, JOBS_QUEUE, visibility_s=1)
    uploads, _ = _queue_with_dlq(sqs, UPLOADS_QUEUE, visibility_s=1)
    uploads_arn = sqs.get_queue_attributes(QueueUrl=uploads, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(
        Bucket=INPUT_BUCKET,
        NotificationConfiguration={
            "QueueConfigurations": [
                {
                    "QueueArn": uploads_arn,
                    "Events": ["s3:ObjectCreated:*"],
                    "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "input/"}]}},
                }
            ]
        },
    )
    return Aws(url, s3, sqs, jobs, jobs_dlq, uploads)


@contextmanager
def aws_environment() -> Iterator[Aws]:
    """A provisioned moto server, with the environment pointing boto3 (the handler's too) at it."""
    saved = {name: os.environ.get(name) for name in [*ENV, "AWS_ENDPOINT_URL"]}
    with moto_server() as url:
        os.environ.update(ENV | {"AWS_ENDPOINT_URL": url})
        try:
            yield provision(url)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def batch_context(timeout_s: float = 900.0) -> Any:
    """A Lambda context with the batch function's timeout (15 minutes unless said otherwise)."""
    from handler.lambda_instance import LocalContext  # noqa: PLC0415 - handler imports stay out of collection

    return LocalContext(timeout_s=timeout_s, function_name="onnx-lambda-batch")
