"""GIVEN the batch function serving the coloured-shapes image classifier, and moto's S3 WHEN image files are
uploaded (one S3 event each) or handed over as a Distributed Map batch of keys THEN each upload's prediction is
the PyTorch model's own class under its output folder, a batch is one JSON Lines file of {key, label,
probabilities} with every key scored or failed by name (records in = scored + failed), a retry of the batch is
skipped as done, and files of the wrong kind are rejected saying what the model takes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from handler.runtime import Runtime
from tests.testkit import shapes
from tests.testkit.aws import INPUT_BUCKET, Aws, batch_context
from tests.testkit.batch_inputs import published, s3_event
from tests.testkit.events import load_event
from tests.testkit.invoke import runtime_for

RNG = np.random.default_rng(21)


@pytest.fixture(scope="module")
def batch(shapes_model: tuple[Path, torch.nn.Module], moto: Aws) -> Runtime:
    return runtime_for(shapes_model[0], INPUT_BUCKET=INPUT_BUCKET, BATCH_CHUNK_RECORDS="2")


def pytorch_label(net: torch.nn.Module, data: bytes) -> str:
    with torch.no_grad():
        scores = net(shapes.preprocess(Image.open(io.BytesIO(data))).unsqueeze(0))
    return shapes.CLASSES[int(scores.argmax())]


def test_an_uploaded_image_gets_the_models_class_under_its_output_folder(
    aws: Aws, batch: Runtime, shapes_model: tuple[Path, torch.nn.Module]
) -> None:
    data = shapes.encoded(shapes.draw(6, RNG, (50, 40)), "JPEG")
    aws.put("input/photos/a.jpg", data)
    batch.batch.s3_notification(s3_event("input/photos/a.jpg"), batch_context())
    _, errors, summary = published(aws, "input/photos/a.jpg")
    assert summary["records"] == {"in": 1, "scored": 1, "failed": 0}
    assert errors == []
    lines = [json.loads(line) for line in aws.read("output/photos/a.jpg/predictions.jsonl").splitlines()]
    assert [line["label"] for line in lines] == [pytorch_label(shapes_model[1], data)]


def test_an_upload_that_is_not_an_image_is_one_failed_record_in_the_decoders_words(aws: Aws, batch: Runtime) -> None:
    aws.put("input/photos/b.png", b"not a png at all")
    batch.batch.s3_notification(s3_event("input/photos/b.png"), batch_context())
    _, errors, summary = published(aws, "input/photos/b.png")
    assert summary["records"] == {"in": 1, "scored": 0, "failed": 1}
    assert "record 1: not a PNG, JPEG or WebP image (16 bytes" in errors[0]["reason"]


def test_a_csv_for_an_image_model_is_rejected_saying_what_it_takes(aws: Aws, batch: Runtime) -> None:
    aws.put("input/photos/c.csv", b"1,2,3\n")
    summary = batch.batch.s3_notification(s3_event("input/photos/c.csv"), batch_context())["objects"][0]
    assert summary["status"] == "rejected"
    assert "this model takes images: upload .png, .jpg, .jpeg or .webp files" in summary["file_error"]


def map_batch(keys: list[str], aws: Aws) -> dict[str, Any]:
    """A Distributed Map ItemBatcher batch over these keys, as ListObjectsV2 items (with their ETags)."""
    item = load_event("distributed-map.item")
    items = []
    for key in keys:
        head = aws.s3.head_object(Bucket=INPUT_BUCKET, Key=key) if key.endswith((".png", ".jpeg", ".webp")) else None
        etag = head["ETag"] if head else '"0"'
        items.append({**item, "Key": key, "Etag": etag, "Size": head["ContentLength"] if head else 1})
    for entry in items:
        entry.pop("Bucket")
    return {"Items": items, "BatchInput": {"Bucket": INPUT_BUCKET}}


def test_a_distributed_map_batch_of_images_is_one_json_lines_file_with_every_key_accounted_for(
    aws: Aws, batch: Runtime, shapes_model: tuple[Path, torch.nn.Module]
) -> None:
    files = {f"input/batch/{n}.{kind.lower()}": shapes.encoded(shapes.draw(n, RNG, (40, 40)), kind) for n, kind in
             enumerate(["PNG", "JPEG", "WEBP", "PNG"])}  # fmt: skip
    for key, data in files.items():
        aws.put(key, data)
    aws.put("input/batch/broken.png", b"\x89PNG\r\n\x1a\n truncated")
    keys = [*files, "input/batch/broken.png"]
    answer = batch.batch.distributed_map_item(map_batch(keys, aws), batch_context())
    summary = answer["image_batch"]
    assert summary["records"] == {"in": 5, "scored": 4, "failed": 1}
    assert answer["objects"] == []
    lines = [json.loads(line) for line in aws.read(summary["outputs"]["predictions"].split("/", 3)[3]).splitlines()]
    assert [line["key"] for line in lines] == list(files)
    assert [line["label"] for line in lines] == [pytorch_label(shapes_model[1], data) for data in files.values()]
    assert all(set(line["probabilities"]) == set(shapes.CLASSES) for line in lines)
    errors = [json.loads(line) for line in aws.read(summary["outputs"]["errors"].split("/", 3)[3]).splitlines()]
    assert [(error["record"], error["key"]) for error in errors] == [(5, "input/batch/broken.png")]
    again = batch.batch.distributed_map_item(map_batch(keys, aws), batch_context())
    assert again["image_batch"]["status"] == "already-scored"
