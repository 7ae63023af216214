"""The one place models run, whichever way a request arrived: this instance's data plane (KServe's model).

A request goes one way. Its carrier parses it (an HTTP route its JSON or binary body, an SQS job its message,
a batch reader its file's records) and hands it here; here it is decoded against the model's signature (the
model's preprocessing contract), checked, run by onnxruntime inside one X-Ray subsegment with its latency and
batch size recorded (``run``: the only caller of ``OnnxModel.infer``), and postprocessed (labels,
probabilities, top-k; NaN and Infinity refused) into the answer's JSON form. The carrier then renders it: the
routes as JSON (or the binary extension's bytes), the jobs into S3, the batch writers per record. The same
mistake so gets the same words, and every inference is measured the same way, whichever way it came.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aws_lambda_powertools.metrics import MetricUnit

from handler.codec import decode_tensor, encode_tensor, ensure_finite, ensure_new_input
from handler.errors import BadRequest, NotReady, RequestError, UnsupportedMedia
from handler.generation import GenerationRequest, generate, texts
from handler.generation_requests import GENERATION_TENSORS, generation_requests, tensor_requests
from handler.model import InitReport, OnnxModel
from handler.observability import metrics, tracer
from handler.predict_inputs import image_feeds, predict_feeds
from handler.predictions import prediction_dicts
from handler.protocol_extensions import check_outputs, check_request_parameters
from handler.repository import ModelRepository
from handler.request_bodies import BinaryInferenceRequest, InferenceRequest, PredictRequest, RequestInput
from handler.signature import TensorSpec
from handler.statistics import ModelStatistics

NOT_READY = "the models are not ready yet (loading or warming up); retry shortly"


@dataclass(frozen=True)
class Inferred:
    """A protocol request's outputs, before the carrier renders them (JSON, or bytes for the binary extension)."""

    model: OnnxModel
    request_id: str | None
    results: dict[str, np.ndarray]

    def head(self) -> dict[str, Any]:
        """The answer without its outputs: model name and version, and an id: the request's, or a new one (KServe's
        data model requires one in every answer)."""
        return {
            "model_name": self.model.info.name,
            "model_version": self.model.info.version,
            "id": self.request_id if self.request_id is not None else str(uuid.uuid4()),
        }

    def json_body(self) -> dict[str, Any]:
        """The protocol's JSON answer; raises Unprocessable for an output JSON cannot carry."""
        return self.head() | {"outputs": [encode_tensor(name, array) for name, array in self.results.items()]}


def requested_outputs(request: BinaryInferenceRequest) -> list[str] | None:
    """The outputs the request names, or None for all of them; raises BadRequest for an output named twice or a
    request for an extension not served (handler.protocol_extensions: answered as if absent, a classification
    client would get the whole tensor where it expects "score:index:label" strings)."""
    check_request_parameters(request.parameters)
    names = [output.name for output in request.outputs or ()]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise BadRequest(f"output {', '.join(map(repr, twice))} is requested more than once: name each output once")
    check_outputs(request.outputs or ())
    return names or None


def request_specs(model: OnnxModel) -> Mapping[str, TensorSpec]:
    """The inputs a protocol request's tensors are checked against as they are decoded: an image model's image
    input is left out, since it takes encoded images (BYTES, decoded by ``with_images``) or the graph's raw pixels
    (checked by the model)."""
    image = model.info.image
    specs = model.input_specs
    return specs if image is None else {name: spec for name, spec in specs.items() if name != image.input}


def encoded_inputs(model: OnnxModel) -> frozenset[str]:
    """The inputs whose BYTES elements are files, kept as bytes by the binary extension: an image model's image."""
    return frozenset({model.info.image.input}) if model.info.image is not None else frozenset()


def with_images(model: OnnxModel, feeds: Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    """The feeds with an image model's BYTES tensor of encoded images (base64 in JSON, raw in the binary
    extension) decoded into the graph's pixels; anything else as it came."""
    image = model.info.image
    encoded = feeds.get(image.input) if image is not None else None
    if image is None or encoded is None or encoded.dtype != np.object_:
        return feeds
    where = f"input {image.input!r}"
    if encoded.ndim not in (1, 2) or (encoded.ndim == 2 and encoded.shape[1] != 1):
        raise BadRequest(f"{where} has shape {list(encoded.shape)}: expected BYTES [n] or [n, 1] of encoded images")
    from handler.image_decoding import from_base64  # noqa: PLC0415 - Pillow, for image models only

    images = [
        item if isinstance(item, bytes) else from_base64(item, f"{where}[{index}]")
        for index, item in enumerate(encoded.ravel())
    ]
    return {**feeds, **image_feeds(images, image, where)}


def json_feeds(model: OnnxModel, inputs: Sequence[RequestInput]) -> dict[str, np.ndarray]:
    """A protocol request's JSON tensors as the model's feeds, each checked against its input."""
    specs = request_specs(model)
    feeds: dict[str, np.ndarray] = {}
    for tensor in inputs:
        ensure_new_input(tensor.name, feeds)
        feeds[tensor.name] = decode_tensor(
            tensor.name, tensor.shape, tensor.datatype, tensor.data, specs.get(tensor.name)
        )
    return feeds


@dataclass
class DataPlane:
    """The models this instance serves and the one way to run them; ``repository`` stays None until every model's
    warm-up inference has succeeded, and everything asked of a model before then is NotReady."""

    repository: ModelRepository | None = None
    statistics: dict[tuple[str, str], ModelStatistics] = field(default_factory=dict)  # this instance's, per version

    def statistics_of(self, model: OnnxModel) -> ModelStatistics:
        """The model version's statistics on this instance (handler.statistics), started at its first run."""
        key = (model.info.name, model.info.version)
        if key not in self.statistics:
            self.statistics[key] = ModelStatistics(*key)
        return self.statistics[key]

    @property
    def model(self) -> OnnxModel | None:
        """The default model: what /predict, /health, jobs without a model name and batch files use."""
        return self.repository.default.model if self.repository else None

    @property
    def report(self) -> InitReport | None:
        """How the default model was loaded."""
        return self.repository.default.report if self.repository else None

    def find(self, name: str | None = None, version: str | None = None) -> OnnxModel:
        """The model a request names (the default one when it names none, at ``version`` when it names one);
        NotReady while loading, NotFound naming what is served."""
        if self.repository is None:
            raise NotReady(NOT_READY)
        if name is None and version is None:
            return self.repository.default.model
        return self.repository.find(name or self.repository.default.model.info.name, version)

    def run(
        self,
        model: OnnxModel,
        feeds: Mapping[str, np.ndarray],
        outputs: Sequence[str] | None = None,
        *,
        measured: bool = True,
    ) -> dict[str, np.ndarray]:
        """Check the feeds and run the model inside an X-Ray subsegment, recording latency and batch size; a step of a
        generation loop (``measured=False``) runs bare, the loop being measured once as a whole."""
        if not measured:
            return model.infer(feeds, outputs)
        batch = next((int(array.shape[0]) for array in feeds.values() if array.ndim), 1)
        statistics = self.statistics_of(model)
        phases: list[int] = []
        with tracer.provider.in_subsegment("## inference") as subsegment:
            subsegment.put_annotation("model", model.info.name)
            subsegment.put_metadata("batch_size", batch)
            started = time.perf_counter()
            try:
                results = model.infer(feeds, outputs, phases)
            except RequestError:
                statistics.failed(int((time.perf_counter() - started) * 1e9))
                raise
            elapsed_ms = (time.perf_counter() - started) * 1000
        statistics.succeeded(batch, (phases[0], phases[1], phases[2]))
        metrics.add_metric(name="InferenceLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        metrics.add_metric(name="BatchSize", unit=MetricUnit.Count, value=batch)
        return results

    def predict(self, request: PredictRequest, model: OnnxModel | None = None) -> dict[str, Any]:
        """/predict's answer: one prediction per instance, in order (labels and probabilities for classifiers, the
        text for generators)."""
        model = model or self.find()
        if model.info.generator is not None:
            form, rows = request.rows_form()
            texts = self.generate(model, generation_requests(rows, model.info.generator, form))
            return {"model_name": model.info.name, "model_version": model.info.version, "predictions": texts}
        return self.answer(model, predict_feeds(request, model.info), request.top_k)

    def generate(self, model: OnnxModel, requests: Sequence[GenerationRequest]) -> list[dict[str, str]]:
        """Each request's generated text, {"text": ...}; every step of the loop is a run of the step graph."""
        contract = model.info.generator
        assert contract is not None, "only a generator model generates"

        def step(tokens: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            results = self.run(model, {contract.token_input: tokens, contract.state_input: state}, measured=False)
            return results[contract.logits_output], results[contract.state_output]

        with tracer.provider.in_subsegment("## generation") as subsegment:
            subsegment.put_annotation("model", model.info.name)
            started = time.perf_counter()
            drawn = generate(step, contract, requests)
            elapsed_ms = (time.perf_counter() - started) * 1000
        metrics.add_metric(name="InferenceLatency", unit=MetricUnit.Milliseconds, value=elapsed_ms)
        metrics.add_metric(name="BatchSize", unit=MetricUnit.Count, value=len(requests))
        metrics.add_metric(name="GeneratedTokens", unit=MetricUnit.Count, value=sum(map(len, drawn)))
        return [{"text": text} for text in texts(contract, requests, drawn)]

    def predict_images(
        self, images: list[bytes], top_k: int | None = None, model: OnnxModel | None = None
    ) -> dict[str, Any]:
        """/predict's answer for encoded images (a body or multipart files); UnsupportedMedia for a model that does
        not take images."""
        model = model or self.find()
        if model.info.image is None:
            expected = ", ".join(spec.describe() for spec in model.info.inputs)
            raise UnsupportedMedia(
                f"model {model.info.name!r} does not take images (it takes {expected}): send JSON, or export an image "
                "classifier with --image WIDTHxHEIGHT"
            )
        return self.answer(model, image_feeds(images, model.info.image, "images"), top_k)

    def answer(self, model: OnnxModel, feeds: Mapping[str, np.ndarray], top_k: int | None) -> dict[str, Any]:
        """Run the feeds and give one prediction per instance (NaN and Infinity refused)."""
        results = self.run(model, feeds)
        for name, array in results.items():
            ensure_finite(name, array)
        info = model.info
        predictions = prediction_dicts(info, results, top_k)
        return {"model_name": info.name, "model_version": info.version, "predictions": predictions}

    def infer(self, model: OnnxModel, request: BinaryInferenceRequest, feeds: Mapping[str, np.ndarray]) -> Inferred:
        """A protocol request's outputs, from the feeds its carrier decoded (``json_feeds``, or the binary
        extension's bytes); a generator's ``start`` (and optional) tensors give its ``text``."""
        generator = model.info.generator
        if generator is not None and GENERATION_TENSORS.issuperset(feeds) and "start" in feeds:
            generated = self.generate(model, tensor_requests(feeds, generator))
            return Inferred(model, request.id, {"text": np.array([item["text"] for item in generated], dtype=object)})
        return Inferred(model, request.id, self.run(model, with_images(model, feeds), requested_outputs(request)))

    def infer_json(self, model: OnnxModel, request: InferenceRequest) -> Inferred:
        """A protocol request whose tensors carry their data as JSON."""
        return self.infer(model, request, json_feeds(model, request.inputs))
