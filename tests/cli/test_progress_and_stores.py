"""GIVEN a scoring run WHEN its progress is shown or its local files are read and written THEN a terminal
gets one redrawn bar and a pipe plain lines, and local directories behave as the batch code expects of a
bucket: whole files only, listings in key order, and an input that changed after listing refused."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from handler.batch.store import ObjectHead, ObjectRef
from handler.contract import human_bytes
from onnx_lambda.errors import InputError
from onnx_lambda.progress import Progress
from onnx_lambda.stores import LocalStore


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_terminal_gets_one_bar_redrawn_at_most_ten_times_a_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # the bar is cut to the terminal's width: a wide one, whatever runs the test
    stream, clock = io.StringIO(), Clock()
    progress = Progress(stream, total_bytes=4_000_000, files=2, tty=True, clock=clock)
    progress.start_file("a.jsonl", 1_000_000)
    for _ in range(10):
        progress.advance(100_000)  # no time passes: no redraw
    clock.now = 1.0
    progress.advance(0)
    progress.close()
    frames = stream.getvalue().split("\r\033[K")
    assert frames[0] == ""
    assert frames[1].startswith("[........................]   0%  0 B of 4.0 MB")  # drawn as the file starts
    assert frames[2] == "[######..................]  25%  1.0 MB of 4.0 MB  1.0 MB/s  file 1 of 2: a.jsonl"
    assert frames[3] == ""  # close() clears the line for what comes next
    assert "\n" not in stream.getvalue()


def test_a_pipe_gets_a_line_per_file_and_per_tenth_of_a_big_file() -> None:
    stream = io.StringIO()
    progress = Progress(stream, total_bytes=10_000_100, files=2, tty=False)
    progress.start_file("small.csv", 100)
    progress.advance(100)
    progress.start_file("big.npy", 10_000_000)
    for _ in range(4):
        progress.advance(2_500_000)
    progress.close()
    assert stream.getvalue().splitlines() == [
        "scoring small.csv (1 of 2, 100 B)",
        "scoring big.npy (2 of 2, 10.0 MB)",
        "  big.npy: 25% (2.5 MB of 10.0 MB)",
        "  big.npy: 50% (5.0 MB of 10.0 MB)",
        "  big.npy: 75% (7.5 MB of 10.0 MB)",
        "  big.npy: 100% (10.0 MB of 10.0 MB)",
    ]


@pytest.mark.parametrize(("count", "text"), [(0, "0 B"), (999, "999 B"), (1000, "1.0 kB"), (4_400_000, "4.4 MB")])
def test_sizes_are_shown_in_decimal_units(count: int, text: str) -> None:
    assert human_bytes(count) == text


def test_a_local_directory_lists_in_key_order_without_hidden_files(tmp_path: Path) -> None:
    for name in ("b.csv", "a/z.jsonl", "a/b.npy", ".hidden/x.csv", "c/.partial.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1\n")
    store = LocalStore()
    assert [ref.key for ref, _ in store.list_objects(str(tmp_path), "")] == ["a/b.npy", "a/z.jsonl", "b.csv"]
    assert [ref.key for ref, _ in store.list_objects(str(tmp_path), "a/")] == ["a/b.npy", "a/z.jsonl"]
    head = store.head(ObjectRef(str(tmp_path), "b.csv"))
    assert head is not None
    assert head.size == 2
    assert store.head(ObjectRef(str(tmp_path), "a")) is None  # a directory is not an object
    assert store.head(ObjectRef(str(tmp_path), "absent.csv")) is None


def test_published_files_appear_whole_and_json_round_trips(tmp_path: Path) -> None:
    store, ref = LocalStore(), ObjectRef(str(tmp_path / "out"), "x.jsonl/predictions.jsonl")
    store.publish(ref, io.BytesIO(b"line\n" * 1000), "application/x-ndjson")
    assert (tmp_path / "out" / "x.jsonl" / "predictions.jsonl").read_bytes() == b"line\n" * 1000
    summary = ObjectRef(ref.bucket, "x.jsonl/summary.json")
    store.put_json(summary, {"status": "scored"})
    assert store.read_json(summary) == {"status": "scored"}
    assert sorted(os.listdir(tmp_path / "out" / "x.jsonl")) == ["predictions.jsonl", "summary.json"]  # no temp file
    assert store.uri(summary) == f"file://{tmp_path}/out/x.jsonl/summary.json"  # the store names its files


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    class Broken(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError(5, "Input/output error")

    store = LocalStore()
    with pytest.raises(InputError, match=r"cannot write .*predictions\.jsonl: Input/output error"):
        store.publish(ObjectRef(str(tmp_path), "x/predictions.jsonl"), Broken(), "application/x-ndjson")
    assert os.listdir(tmp_path / "x") == []


def test_an_input_that_changed_after_listing_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("1\n")
    store, ref = LocalStore(), ObjectRef(str(tmp_path), "a.csv")
    listed = store.head(ref)
    assert listed is not None
    with store.open(ref, listed) as stream:
        assert stream.read() == b"1\n"
    (tmp_path / "a.csv").write_text("1\n2\n")
    with pytest.raises(InputError, match=r"a.csv changed or vanished after it was listed"):
        store.open(ref, listed)
    assert store.read_json(ref) is None  # not JSON
    assert store.head(ref) != ObjectHead(listed.etag, listed.size)
