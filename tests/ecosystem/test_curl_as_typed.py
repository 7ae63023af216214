"""GIVEN the real local server WHEN curl posts a body with -d exactly as a user types it (no -H: curl then declares
application/x-www-form-urlencoded), inline or from a file THEN the body is read as JSON, as Triton and KServe read it,
and a body that is not JSON is a 400 naming the type it was sent as."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.testkit.server import LocalServer

Oracle = Callable[[np.ndarray], dict[str, np.ndarray]]
MODEL = "digits-cnn"


@pytest.mark.parametrize("form", ["inline", "from-a-file"])
def test_curl_d_with_no_content_type_infers_as_triton_and_kserve_would(
    server: LocalServer, curl: str, digits: np.ndarray, oracle: Oracle, *, tmp_path: Path, form: str
) -> None:
    """`curl -d` sends application/x-www-form-urlencoded; the body is read as JSON all the same."""
    request = {"inputs": [{"name": "input", "shape": [2, 1, 8, 8], "datatype": "FP32", "data": digits[:2].tolist()}]}
    (tmp_path / "request.json").write_text(json.dumps(request))
    data = json.dumps(request) if form == "inline" else "@request.json"
    url = f"{server.url}/v2/models/{MODEL}/infer"
    done = subprocess.run(
        [curl, "-sv", url, "-d", data], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "> Content-Type: application/x-www-form-urlencoded" in done.stderr  # what curl really sent
    answer = json.loads(done.stdout)
    [label] = [output for output in answer["outputs"] if output["name"] == "label"]
    assert label["data"] == oracle(digits[:2])["label"].tolist()


def test_curl_d_with_a_body_that_is_not_json_names_the_type_it_was_sent_as(server: LocalServer, curl: str) -> None:
    url = f"{server.url}/v2/models/{MODEL}/infer"
    done = subprocess.run([curl, "-s", url, "-d", "inputs=1"], capture_output=True, text=True, timeout=60, check=False)
    error = json.loads(done.stdout)["error"]
    assert error.startswith("malformed JSON in the request body"), error
    assert "sent as application/x-www-form-urlencoded" in error
