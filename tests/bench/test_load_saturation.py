"""GIVEN a load run's aggregate WHEN docs/load.md is written THEN it says whether the one instance was the
bottleneck (its latencies then being queueing, by Little's law) or kept up, from the run's own figures."""

from __future__ import annotations

import math

import pytest

from bench.load_report import THINK_SECONDS, Row, saturation


def aggregate(rps: float, requests: int = 1000) -> Row:
    return Row(name="Aggregated", requests=requests, failures=0, rps=rps, p50=20, p95=50, p99=70)


def test_a_saturated_instance_is_named_with_the_mean_request_time_little_s_law_gives() -> None:
    text = saturation(50, aggregate(rps=829.1))
    think_ms = 1000 * sum(THINK_SECONDS) / 2
    request_ms = 1000 * 50 / 829.1 - think_ms
    assert "was saturated" in text
    assert f"took {request_ms:.0f} ms on average" in text
    assert "one every 1.21 ms" in text
    assert f"offer up to {50 / (think_ms / 1000):,.0f} requests/s" in text


def test_an_instance_that_kept_up_is_said_to_and_its_latencies_are_not_called_queueing() -> None:
    think_s = sum(THINK_SECONDS) / 2
    text = saturation(5, aggregate(rps=5 / (think_s + 0.002)))
    assert text.startswith("The instance kept up")
    assert "not queueing" in text
    assert "saturated" not in text


@pytest.mark.parametrize("total", [None, aggregate(rps=0.0, requests=0), aggregate(rps=math.nan, requests=0)])
def test_a_run_without_requests_gets_no_saturation_line(total: Row | None) -> None:
    assert saturation(50, total) == ""
