"""Prediction files in each format, from model results, with no S3 involved."""

from __future__ import annotations

import csv
import io
import json

import numpy as np

from handler.batch.outputs import CsvPredictionWriter, NpyPredictionWriter, PredictionWriter
from handler.batch.records import Carried
from handler.model import ModelInfo
from handler.signature import TensorSpec


def _spec(name: str, datatype: str, shape: tuple[int, ...]) -> TensorSpec:
    return TensorSpec(name, datatype, shape, (None,) * len(shape), f"tensor({datatype.lower()})")


CLASSIFIER = ModelInfo(
    name="c",
    version="1",
    inputs=(_spec("input", "FP32", (-1, 2)),),
    outputs=(_spec("label", "INT64", (-1,)), _spec("probabilities", "FP32", (-1, 2))),
    metadata={},
    task="classification",
    class_labels=["cat", "dog"],
    probabilities_output="probabilities",
)
REGRESSOR = ModelInfo(
    name="r",
    version="1",
    inputs=(_spec("input", "FP32", (-1, 2)),),
    outputs=(_spec("value", "FP32", (-1, 2)), _spec("count", "INT64", (-1,))),
    metadata={},
    task="regression",
    class_labels=None,
    probabilities_output=None,
)


def _contents(writer: PredictionWriter) -> bytes:
    with writer.finish() as file:
        return file.read()


CLASSIFIED = {"label": np.array([1, 0]), "probabilities": np.array([[0.25, 0.75], [0.5, 0.5]], np.float32)}
REGRESSED = {"value": np.array([[1.5, 2.0], [3.0, 4.5]], np.float32), "count": np.array([7, 8])}


def test_csv_rows_carry_record_id_label_score_and_each_class() -> None:
    writer = CsvPredictionWriter(CLASSIFIER)
    writer.write([1, 3], ["a", None], CLASSIFIED)
    assert _contents(writer).decode().splitlines() == [
        "record,id,label,score,cat,dog",
        "1,a,dog,0.75,0.25,0.75",
        "3,,cat,0.5,0.5,0.5",
    ]


def test_csv_rows_of_a_regressor_flatten_each_output_keeping_its_type() -> None:
    writer = CsvPredictionWriter(REGRESSOR)
    writer.write([1, 2], [None, None], REGRESSED)
    assert _contents(writer).decode().splitlines() == [
        "record,value_0,value_1,count_0",
        "1,1.5,2.0,7",
        "2,3.0,4.5,8",
    ]


def test_csv_text_cells_with_carriage_returns_or_formulas_read_back_as_written() -> None:
    # A bare carriage return must be quoted (readers take it for a line end), wherever the text comes from:
    # an id, a carried column, a class name. Each cell reads back as its text, a formula start made safe.
    odd_names = ModelInfo(**{**CLASSIFIER.__dict__, "class_labels": ["c\rat", "=dog"]})
    writer = CsvPredictionWriter(odd_names, Carried(passthrough=("note",)))
    writer.write([1, 2], ["a\rb", "@x"], CLASSIFIED, [{"note": "n\r1"}, {"note": "plain"}])
    writer.write([3], ["c"], {key: value[1:] for key, value in CLASSIFIED.items()}, [{"note": "=2+2"}])
    rows = list(csv.reader(io.StringIO(_contents(writer).decode(), newline="")))
    assert rows == [
        ["record", "id", "note", "label", "score", "c\rat", "'=dog"],
        ["1", "a\rb", "n\r1", "'=dog", "0.75", "0.25", "0.75"],
        ["2", "'@x", "plain", "c\rat", "0.5", "0.5", "0.5"],
        ["3", "c", "'=2+2", "c\rat", "0.5", "0.5", "0.5"],  # only the class name needs quoting here
    ]


def test_jsonl_lines_are_the_predict_predictions_with_their_record() -> None:
    writer = PredictionWriter(REGRESSOR)
    writer.write([4], ["x"], {name: array[:1] for name, array in REGRESSED.items()})
    line = json.loads(_contents(writer))
    assert line == {"record": 4, "id": "x", "outputs": {"value": [1.5, 2.0], "count": 7}}


def test_npy_is_one_structured_array_of_the_scored_records() -> None:
    writer = NpyPredictionWriter(CLASSIFIER)
    writer.write([2, 5], [None, None], CLASSIFIED)
    table = np.load(io.BytesIO(_contents(writer)))
    assert table["record"].tolist() == [2, 5]
    assert table["label"].tolist() == ["dog", "cat"]
    assert table["score"].tolist() == [0.75, 0.5]
    assert table["probabilities"].tolist() == [[0.25, 0.75], [0.5, 0.5]]
