"""GIVEN SQS job bodies (a /predict body or an Open Inference Protocol request, with an optional result_uri) and a
data plane serving two versions of a model WHEN a job is run THEN it is answered as the route would answer it, its
answer is written only under the jobs' result prefix, and whatever cannot be run fails as JobFailed saying why, with a
summary that quotes nothing the sender wrote."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest

from handler.batch.jobs import JobFailed, ResultScope, answer_job, run_job
from handler.batch.store import S3Store
from handler.dataplane import DataPlane
from tests.testkit import onnx_models
from tests.testkit.batch_fakes import MemoryStore, plane_for

RESULTS = "results-bucket"
SCOPE = ResultScope(RESULTS, "jobs/")
ROW = [1.0, 2.0, 3.0]


def tensor(data: list[float], datatype: str = "FP32") -> dict[str, Any]:
    return {"name": "input", "shape": [1, 3], "datatype": datatype, "data": data}


@pytest.fixture(scope="module")
def plane(tmp_path_factory: pytest.TempPathFactory) -> DataPlane:
    """Model 'scaler' in Triton's layout: version 1 doubles its input, version 2 (the latest) triples it."""
    root = tmp_path_factory.mktemp("jobs")
    for version, factor in (("1", 2.0), ("2", 3.0)):
        (root / "scaler" / version).mkdir(parents=True)
        onnx_models.scaler(root / "scaler" / version / "model.onnx", factor=factor)
    return plane_for(root)


def store_of(store: MemoryStore) -> Callable[[], S3Store]:
    """The store factory run_job takes: it only ever calls put_json, which MemoryStore has."""
    return lambda: cast(S3Store, store)


def no_store() -> S3Store:
    raise AssertionError("the store was asked for, but nothing may be written")


def refusal(call: Callable[[], object]) -> JobFailed:
    with pytest.raises(JobFailed) as raised:
        call()
    return raised.value


@pytest.mark.parametrize(
    "uri",
    [
        "s3://results-bucket/jobs/a.json",
        "s3://results-bucket/jobs/run-7/nested/answer.json",
        "s3://results-bucket/jobs/" + "k" * (1024 - len("jobs/")),
    ],
)
def test_a_result_uri_under_the_jobs_prefix_of_the_results_bucket_is_taken(uri: str) -> None:
    target = SCOPE.target(uri)
    assert target is not None
    assert target.uri == uri
    assert target.bucket == RESULTS


@pytest.mark.parametrize(
    "uri",
    [
        "s3://other-bucket/jobs/a.json",
        "s3://results-bucket/output/a.json/summary.json",
        "s3://results-bucket/jobsX/a.json",
        "s3://results-bucket/jobs/",
        "s3://results-bucket/jobs/../output/a.json/summary.json",
        "s3://results-bucket/jobs/./a.json",
        "s3://results-bucket/jobs//a.json",
        "s3://results-bucket/jobs/a\nb.json",
        "s3://results-bucket/jobs/\ud800.json",
        "s3://results-bucket/jobs/" + "k" * (1025 - len("jobs/")),
        "https://results-bucket.s3.amazonaws.com/jobs/a.json",
        "s3://results-bucket",
    ],
    ids=[
        "other-bucket",
        "outside-prefix",
        "prefix-lookalike",
        "prefix-alone",
        "dot-dot",
        "dot",
        "empty-segment",
        "control-character",
        "lone-surrogate",
        "over-1024-bytes",
        "not-s3",
        "no-key",
    ],
)
def test_a_result_uri_anywhere_else_is_refused_naming_where_results_may_go(uri: str) -> None:
    refused = refusal(lambda: SCOPE.target(uri))
    assert str(refused) == (
        f"'result_uri' {uri[:200]!r} is outside the jobs' results; expected s3://results-bucket/jobs/<name>"
    )
    assert refused.summary == "'result_uri' is outside the jobs' results; expected s3://results-bucket/jobs/<name>"


def test_a_long_result_uri_is_quoted_only_in_part() -> None:
    refused = refusal(lambda: SCOPE.target("s3://other/" + "x" * 5000))
    assert len(str(refused)) < 300
    assert "x" * 189 in str(refused)


def test_no_result_uri_is_no_target_and_one_that_is_not_text_or_has_nowhere_to_go_is_refused() -> None:
    assert SCOPE.target(None) is None
    assert str(refusal(lambda: SCOPE.target(["s3://results-bucket/jobs/a"]))) == (
        "'result_uri' must be a string s3://bucket/key"
    )
    assert str(refusal(lambda: ResultScope(None, "jobs/").target("s3://results-bucket/jobs/a.json"))) == (
        "'result_uri' cannot be used: the function has no JOBS_RESULT_BUCKET or OUTPUT_BUCKET"
    )


def test_a_job_failure_without_a_summary_is_summarised_by_its_message() -> None:
    assert JobFailed("plain reason").summary == "plain reason"
    assert JobFailed("quotes 'secret'", "quotes nothing").summary == "quotes nothing"


@pytest.mark.parametrize(("body", "kind"), [([ROW], "list"), ("instances", "str"), (None, "NoneType"), (3, "int")])
def test_a_body_that_is_not_a_json_object_is_refused_naming_what_it_is(plane: DataPlane, body: Any, kind: str) -> None:
    refused = refusal(lambda: run_job(body, plane, no_store, scope=SCOPE))
    assert str(refused) == f"the message body must be a JSON object (an inference request); got {kind}"


def test_a_predict_job_without_result_uri_is_answered_as_predict_by_the_latest_default_model(plane: DataPlane) -> None:
    assert run_job({"instances": [ROW]}, plane, no_store, scope=SCOPE) == {
        "job": "predict",
        "result": {
            "model_name": "scaler",
            "model_version": "2",
            "predictions": [{"outputs": {"output": [3.0, 6.0, 9.0]}}],
        },
    }


def test_an_infer_job_naming_a_version_is_answered_by_it_and_written_to_its_result_uri(plane: DataPlane) -> None:
    store = MemoryStore()
    uri = "s3://results-bucket/jobs/run-1.json"
    body = {"id": "job-1", "inputs": [tensor(ROW)], "model_name": "scaler", "model_version": "1", "result_uri": uri}
    assert run_job(body, plane, store_of(store), scope=SCOPE) == {"job": "infer", "result_uri": uri}
    assert store.json(RESULTS, "jobs/run-1.json") == {
        "model_name": "scaler",
        "model_version": "1",
        "id": "job-1",
        "outputs": [{"name": "output", "datatype": "FP32", "shape": [1, 3], "data": [2.0, 4.0, 6.0]}],
    }
    assert store.writes == [uri]
    assert body["result_uri"] == uri  # the caller's body is left as it was


def test_a_job_naming_only_a_version_is_answered_by_that_version_of_the_default_model(plane: DataPlane) -> None:
    answer = run_job({"instances": [ROW], "model_version": "1"}, plane, no_store, scope=SCOPE)
    assert answer["result"]["model_name"] == "scaler"
    assert answer["result"]["model_version"] == "1"
    assert answer["result"]["predictions"] == [{"outputs": {"output": [2.0, 4.0, 6.0]}}]


def test_the_result_uri_is_checked_before_the_job_runs(plane: DataPlane) -> None:
    body = {"instances": "not rows", "result_uri": "s3://results-bucket/output/a.jsonl/summary.json"}
    refused = refusal(lambda: run_job(body, plane, no_store, scope=SCOPE))
    assert str(refused).startswith("'result_uri' 's3://results-bucket/output/a.jsonl/summary.json' is outside")


@pytest.mark.parametrize("named", [{"model_name": 1}, {"model_name": "scaler", "model_version": 2}])
def test_a_model_name_or_version_that_is_not_text_is_refused(plane: DataPlane, named: dict[str, Any]) -> None:
    refused = refusal(lambda: answer_job(plane, {"inputs": [tensor(ROW)], **named}))
    assert str(refused) == "'model_name' and 'model_version' must be strings"


@pytest.mark.parametrize(
    ("named", "words", "kind"),
    [
        (
            {"model_name": "resnet"},
            "infer: Request for unknown model: 'resnet' is not served here; this endpoint serves 'scaler'",
            "NotFound",
        ),
        (
            {"model_name": "scaler", "model_version": "7"},
            "infer: model 'scaler' has no version '7'; the served versions are '1', '2'",
            "NotFound",
        ),
        (
            {"model_version": "99"},  # a version alone is the default model's
            "infer: model 'scaler' has no version '99'; the served versions are '1', '2'",
            "NotFound",
        ),
    ],
)
def test_a_job_naming_a_model_not_served_fails_in_the_routes_words(
    plane: DataPlane, named: dict[str, str], words: str, kind: str
) -> None:
    refused = refusal(lambda: answer_job(plane, {"inputs": [tensor(ROW)], **named}))
    assert str(refused) == words
    assert refused.summary == f"infer: refused ({kind})"


def test_a_tensor_the_model_does_not_take_is_refused_with_a_summary_naming_only_the_kind(plane: DataPlane) -> None:
    refused = refusal(lambda: answer_job(plane, {"inputs": [tensor(ROW, "INT64")]}))
    assert str(refused) == (
        "infer: input 'input' has datatype 'INT64': expected 'input' with shape [batch, 3] and datatype FP32"
    )
    assert refused.summary == "infer: refused (BadRequest)"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"instances": []}, "predict: invalid job: instances: List should have at least 1 item after validation"),
        ({"instances": [ROW], "instance": [ROW]}, "predict: invalid job: instance: Extra inputs are not permitted"),
        ({}, "predict: invalid job: the body: Value error, expected exactly one of instances, inputs, dataframe_split"),
        ({"inputs": [{"name": "input"}]}, "infer: invalid job: inputs[0].shape: Field required (got dict); "),
    ],
    ids=["no-instances", "misspelt-field", "empty", "tensor-without-shape"],
)
def test_a_body_of_the_wrong_structure_is_an_invalid_job_of_its_route(
    plane: DataPlane, body: dict[str, Any], words: str
) -> None:
    refused = refusal(lambda: answer_job(plane, dict(body)))
    assert words in str(refused)
    route = "infer" if "inputs" in body else "predict"
    assert str(refused).startswith(f"{route}: invalid job: ")
    assert refused.summary == f"{route}: invalid job"


def test_a_failing_store_is_not_hidden_and_nothing_else_is_written(plane: DataPlane) -> None:
    class Refusing(MemoryStore):
        def put_json(self, ref: Any, value: Any) -> None:
            raise PermissionError("AccessDenied")

    store = Refusing()
    body = {"instances": [ROW], "result_uri": "s3://results-bucket/jobs/a.json"}
    with pytest.raises(PermissionError, match="AccessDenied"):
        run_job(body, plane, store_of(store), scope=SCOPE)
    assert store.keys(RESULTS) == []
