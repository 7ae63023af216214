"""The per-call and per-request measurements of bench/dependency_costs.py (its docstring says what each is)."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.dependency_costs import CHILD, DIGITS, EVENTS, INFER_PATH, REPO, _env, _median

# --- requests -----------------------------------------------------------------------------------------------------


def _digit_rows(count: int) -> list[Any]:
    import numpy as np  # noqa: PLC0415 - the parent only

    x = np.load(DIGITS)["X"].astype(np.float32)
    return np.resize(x, (count, 1, 8, 8)).tolist()  # type: ignore[no-any-return]


def _event(name: str, *, path: str | None = None, body: Any = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    if path is not None:
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
    if body is not None:
        event["body"], event["isBase64Encoded"] = json.dumps(body), False
    return event


def _scenario(name: str) -> dict[str, Any]:
    kind, _, count = name.partition("-")
    if kind == "health":
        return _event("http-api-v2.health")
    if kind == "file":  # events/http-api-v2.predict.json as it is
        return _event("http-api-v2.predict")
    rows = _digit_rows(int(count))
    if kind == "predict":
        return _event("http-api-v2.predict", path="/predict", body={"instances": rows})
    tensor = {"name": "input", "shape": [len(rows), 1, 8, 8], "datatype": "FP32", "data": rows}
    return _event("http-api-v2.infer", path=INFER_PATH, body={"id": "bench", "inputs": [tensor]})


def _hand_written_correlation_ids() -> dict[type[Any], Any]:
    """The lookups handler/dispatch.py and handler/batch/sources.py made before Powertools' paths replaced them."""
    from handler import dispatch  # noqa: PLC0415
    from handler.batch import sources  # noqa: PLC0415

    def request_context(event: Any) -> str | None:
        context = event.get("requestContext")
        return str(context.get("requestId")) if isinstance(context, dict) and context.get("requestId") else None

    def alb(event: Any) -> str | None:
        headers = event.get("headers") or {}
        trace = headers.get("x-amzn-trace-id") if isinstance(headers, dict) else None
        return str(trace) if trace else None

    def first(event: Any) -> Any:
        records = event.get("Records")
        return records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}

    def s3(event: Any) -> str | None:
        elements = first(event).get("responseElements") or {}
        return str(elements.get("x-amz-request-id")) if isinstance(elements, dict) else None

    return {
        dispatch.FunctionUrlEvent: request_context,
        dispatch.HttpApiEvent: request_context,
        dispatch.RestApiEvent: request_context,
        dispatch.AlbEvent: alb,
        sources.S3NotificationEvent: s3,
        sources.SqsEvent: lambda event: str(first(event).get("messageId") or "") or None,
        sources.EventBridgeObjectCreated: lambda event: str(event.get("id") or "") or None,
        sources.ScheduleEvent: lambda event: str(event.get("id") or "") or None,
    }


def _toggles(experiment: str) -> tuple[dict[str, Any], Any]:
    """(variant name -> a function that switches this process to it, the entry point), the first variant as
    handler/ serves; imported here so the response experiment can set its routes up before the app is built."""
    from handler.api import routes_predict, routes_v2  # noqa: PLC0415

    if experiment == "responses":
        # Only read when a route hands FastAPI a value instead of a Response: the fast_json path is unchanged.
        for router in (routes_predict.router, routes_v2.infer_router):
            for route in router.routes:
                route.response_model_exclude_unset = True  # type: ignore[attr-defined]
    from handler import entrypoint  # noqa: PLC0415
    from handler.http_events import StagedHttpApi  # noqa: PLC0415

    if experiment == "as-is":
        return {"as is": lambda: None}, entrypoint
    if experiment == "responses":
        fast = routes_predict.FastJsonResponse

        def responses(kind: Any) -> Any:
            def switch() -> None:
                routes_predict.FastJsonResponse = routes_v2.FastJsonResponse = kind  # type: ignore[misc]

            return switch

        # response_model: the routes hand FastAPI their dict, which it validates against the route's
        # response_model and serialises itself (its dump_json path), keeping the fields set: the same bytes.
        return {"fast_json": responses(fast), "response_model": responses(lambda content: content)}, entrypoint
    if experiment == "correlation":
        sources = list(_hand_written_correlation_ids().items())
        kept = {source: source.__dict__.get("correlation_id") for source, _ in sources}

        def powertools() -> None:
            for source, method in kept.items():
                if method is None:
                    if "correlation_id" in source.__dict__:
                        delattr(source, "correlation_id")
                else:
                    source.correlation_id = method

        def hand_written() -> None:
            for source, lookup in sources:
                source.correlation_id = staticmethod(lookup)

        from aws_lambda_powertools.utilities.jmespath_utils import query  # noqa: PLC0415

        def powertools_query() -> None:  # the same paths, evaluated by query() on every call as Powertools' Logger does
            for source, _ in sources:
                path = source.correlation_path  # type: ignore[attr-defined]
                source.correlation_id = staticmethod(lambda event, path=path: str(query(event, path) or "") or None)

        variants = {"as served": powertools, "Powertools' query()": powertools_query, "hand-written": hand_written}
        return variants, entrypoint
    mangum = entrypoint.RUNTIME.http.mangum  # type: ignore[attr-defined]

    def classifies() -> None:
        mangum.__dict__.pop("infer", None)

    def told() -> None:
        # The most classifying once could save: Mangum handed the handler for the kind the entry point found.
        mangum.infer = lambda event, context: StagedHttpApi(event, context, mangum.config)

    return {"Mangum classifies again": classifies, "Mangum told the kind": told}, entrypoint


def child_toggle(experiment: str, event_file: str, blocks: int, calls: int, out: str) -> None:
    """In a fresh process: blocks of ``calls`` invocations of the entry point on the event, the variants
    alternating block by block (ABBA), so drift of the machine falls on both; writes each block's median."""
    import warnings  # noqa: PLC0415

    warnings.filterwarnings("ignore")
    variants, entrypoint = _toggles(experiment)
    from handler.lambda_instance import LocalContext  # noqa: PLC0415

    event = json.loads(Path(event_file).read_text())
    context = LocalContext()
    bodies = {}
    for name, switch in variants.items():
        switch()
        bodies[name] = entrypoint.lambda_handler(json.loads(json.dumps(event)), context).get("body", "")
        for _ in range(30):
            entrypoint.lambda_handler(event, context)
    names = list(variants)
    medians: dict[str, list[float]] = {name: [] for name in names}
    for block in range(blocks):
        order = names if block % 4 in (0, 3) else list(reversed(names))
        for name in order:
            variants[name]()
            # CPU time of the process per call, not wall time: the machine this ran on was shared, and time spent
            # descheduled is no cost of either variant (onnxruntime on one thread, so no spinning pool is counted).
            started = time.process_time()
            for _ in range(calls):
                entrypoint.lambda_handler(event, context)
            medians[name].append((time.process_time() - started) / calls * 1e6)
    Path(out).write_text(json.dumps({"medians": medians, "bodies": bodies}))


def _run_toggle(experiment: str, event_file: Path, blocks: int, calls: int, tree: Path = REPO) -> dict[str, Any]:
    """One toggle child in a fresh process, serving ``tree``'s handler/; its medians and bodies."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        out_path = out.name
    try:
        subprocess.run(
            [*CHILD, "child-toggle", experiment, str(event_file), str(blocks), str(calls), out_path],
            cwd=tree,  # python -m puts the working directory first on sys.path: the tree measured must be it
            env=_env(tree),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            check=True,
        )
        answer: dict[str, Any] = json.loads(Path(out_path).read_text())
        return answer
    finally:
        os.unlink(out_path)


def _canonical(body: str) -> str:
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if isinstance(answer, dict):
        answer.pop("init", None)  # /health's INIT timings differ from process to process
    return json.dumps(answer, sort_keys=True)


def toggled(experiment: str, scenarios: list[str], processes: int, blocks: int, calls: int) -> None:
    """Each scenario in ``processes`` fresh processes; per variant, the median over every block of every process,
    and the median of the per-block differences from the first variant (paired, so machine drift cancels)."""
    with tempfile.TemporaryDirectory() as scratch:
        for scenario in scenarios:
            event_file = Path(scratch) / f"{scenario}.json"
            event_file.write_text(json.dumps(_scenario(scenario)))
            medians: dict[str, list[float]] = {}
            same = True
            for _ in range(processes):
                answer = _run_toggle(experiment, event_file, blocks, calls)
                same &= len({_canonical(body) for body in answer["bodies"].values()}) == 1
                for name, values in answer["medians"].items():
                    medians.setdefault(name, []).extend(values)
            names = list(medians)
            base = medians[names[0]]
            print(f"{experiment} / {scenario}: same answer both ways: {same}; {processes} processes x {blocks} blocks")
            for name in names:
                differences = [value - first for value, first in zip(medians[name], base, strict=True)]
                delta = _median(differences)
                print(
                    f"  {name:26s} median {_median(medians[name]):9.1f} µs   paired difference {delta:+8.1f} µs "
                    f"({delta / _median(base):+6.1%})"
                )


def _run_request(tree: Path, event_file: Path, calls: int) -> dict[str, Any]:
    """The whole tree's entry point in a fresh process: the toggle child with one variant, as the tree serves."""
    return _run_toggle("as-is", event_file, 1, calls, tree)


def requests(before: Path, rounds: int, calls: int) -> None:
    """This tree against ``before``, fresh processes interleaved; then the two changes' costs in-process."""
    with tempfile.TemporaryDirectory() as scratch:
        for scenario in ("file", "health"):
            event_file = Path(scratch) / f"{scenario}.json"
            event_file.write_text(json.dumps(_scenario(scenario)))
            samples: dict[str, list[float]] = {"before": [], "after": []}
            for run in range(rounds):
                for name in ("before", "after") if run % 2 == 0 else ("after", "before"):
                    answer = _run_request(before if name == "before" else REPO, event_file, calls)
                    samples[name].extend(answer["medians"]["as is"])
            base = _median(samples["before"])
            print(f"whole tree / {scenario}: {rounds} fresh processes each")
            for name, values in samples.items():
                median = _median(values)
                spread = sorted(round(v) for v in values)
                print(f"  {name:26s} median {median:9.1f} µs ({median / base - 1:+6.1%}); {spread}")
    toggled("correlation", ["file", "health"], 5, 40, 50)
    toggled("classification", ["file", "health"], 5, 40, 50)


def responses(processes: int, blocks: int, calls: int) -> None:
    toggled("responses", ["predict-1", "predict-256", "infer-1", "infer-256"], processes, blocks, calls)


# --- calls --------------------------------------------------------------------------------------------------------
