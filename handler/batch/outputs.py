"""Prediction files in the input's format, spooled (memory, then /tmp) until the whole file is published.

- JSON Lines: one object per scored record, ``{"record", "id"?, <carried columns>, "label", "score",
  "probabilities"}`` (or ``"outputs"`` for models that are not classifiers), exactly /predict's prediction plus
  where it came from and the columns carried through (BATCH_PASSTHROUGH_COLUMNS, BATCH_LABEL_COLUMN; one named
  like a prediction's key or a class is written as ``input_<name>``).
- CSV: a header, then ``record,[id,]<carried...>,label,score,<one column per class>`` (or ``record,[id,]`` and each
  output value flattened as ``<output>_<i>``). Text cells (ids, labels, class names) are safe to open in a
  spreadsheet: one starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``,
  as OWASP's CSV injection guidance says, so it shows as text instead of running as a formula (a plain
  number such as a class named ``-1`` is left as it is).
- .npy: one structured array, one row per scored record: ``record`` int64, then ``label`` (string),
  ``score`` and ``probabilities`` float32 [classes], or each raw output as a field of its own shape.

Errors are always JSON Lines (they are of mixed kinds), and the summary one JSON object.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from typing import IO, Any

import numpy as np

from handler.answers import json_bytes
from handler.batch.records import NOTHING_CARRIED, Carried
from handler.model import ModelInfo
from handler.predictions import class_names, prediction_dicts

SPOOL_MEMORY_BYTES = 8 * 1024 * 1024  # beyond this a spooled file moves to /tmp


def spool() -> IO[bytes]:
    """A binary temporary file that lives in memory until it outgrows SPOOL_MEMORY_BYTES."""
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES, mode="w+b")


# What a prediction already holds: a carried column of one of these names is written as input_<name>.
PREDICTION_KEYS = frozenset({"record", "id", "label", "score", "probabilities", "outputs"})
Extras = list[dict[str, Any]]


def carried_keys(info: ModelInfo, carried: Carried) -> dict[str, str]:
    """Each carried column's name in the predictions: its own, or input_<name> where a prediction's key (or a
    class's column in CSV) already has it."""
    taken = PREDICTION_KEYS | set(info.class_labels or ())
    return {name: f"input_{name}" if name in taken else name for name in carried.names}


class PredictionWriter:
    """Appends the predictions for one chunk at a time; ``finish`` hands back the whole file to upload."""

    extension = ".jsonl"
    content_type = "application/x-ndjson"

    def __init__(self, info: ModelInfo, carried: Carried = NOTHING_CARRIED) -> None:
        self.info = info
        self.carried = carried_keys(info, carried)
        self.file = spool()

    def write(
        self, records: list[int], ids: list[str | None], results: dict[str, np.ndarray], extras: Extras | None = None
    ) -> None:
        """One line per scored record, in order, with the record's carried columns."""
        if not records:
            return
        lines = []
        predictions = prediction_dicts(self.info, results)
        extras = extras or [{} for _ in records]
        for record, record_id, carried, prediction in zip(records, ids, extras, predictions, strict=True):
            head: dict[str, Any] = {"record": record} if record_id is None else {"record": record, "id": record_id}
            head |= {key: carried.get(name) for name, key in self.carried.items()}
            lines.append(json_bytes(head | prediction))
        self.file.write(b"\n".join(lines) + b"\n")

    def finish(self) -> IO[bytes]:
        """The complete file, positioned at its start."""
        self.file.seek(0)
        return self.file


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: Any) -> Any:
    """A text cell a spreadsheet shows as text: OWASP's CSV injection defence, a ``'`` before a formula start.
    A plain number (a class named ``-1``) stays as it is: a spreadsheet reads it as that number, not a formula."""
    if not isinstance(cell, str) or not cell.startswith(FORMULA_STARTS) or _is_plain_number(cell):
        return cell
    return "'" + cell


def _is_plain_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() == text and text[1:2].isdigit()


def _cell_text(value: Any) -> Any:
    """A carried value as a CSV cell: as read from a CSV, or a JSON value written as JSON (null as empty)."""
    if value is None:
        return ""
    return value if isinstance(value, str | int | float) else json.dumps(value)


def _needs_quotes(row: list[Any]) -> bool:
    """Whether a text cell of the row holds a carriage return (see CsvPredictionWriter.quoted_rows)."""
    return any(isinstance(cell, str) and "\r" in cell for cell in row)


def _output_columns(results: dict[str, np.ndarray]) -> list[str]:
    return [f"{name}_{i}" for name, array in results.items() for i in range(int(np.prod(array.shape[1:])))]


class CsvPredictionWriter(PredictionWriter):
    """CSV rows; the header is written with the first scored chunk, when the columns are known."""

    extension = ".csv"
    content_type = "text/csv"

    def __init__(self, info: ModelInfo, carried: Carried = NOTHING_CARRIED) -> None:
        super().__init__(info, carried)
        self.text = io.TextIOWrapper(self.file, encoding="utf-8", newline="")
        self.rows = csv.writer(self.text, lineterminator="\n")
        # Python's csv writer (3.11) leaves a bare carriage return unquoted, which readers take for a line end:
        # a row whose text holds one is written with every cell quoted.
        self.quoted_rows = csv.writer(self.text, lineterminator="\n", quoting=csv.QUOTE_ALL)
        self.has_ids: bool | None = None

    def write(
        self, records: list[int], ids: list[str | None], results: dict[str, np.ndarray], extras: Extras | None = None
    ) -> None:
        """One row per scored record, in order: record, id, the carried columns, then the prediction."""
        if not records:
            return
        if self.has_ids is None:
            self.has_ids = any(record_id is not None for record_id in ids)
            header = ["record", *(["id"] if self.has_ids else []), *self.carried.values(), *self._columns(results)]
            self._write_row([spreadsheet_safe(cell) for cell in header])
        id_cells = [[spreadsheet_safe(record_id or "")] for record_id in ids] if self.has_ids else [[] for _ in ids]
        predictions, quoted = self._rows(results)
        rows = []
        for record, id_cell, carried, values in zip(
            records, id_cells, extras or [{} for _ in records], predictions, strict=True
        ):
            texts = [*id_cell, *(spreadsheet_safe(_cell_text(carried.get(name))) for name in self.carried)]
            quoted = quoted or _needs_quotes(texts)
            rows.append([record, *texts, *values])
        if quoted:  # rare: row by row, each quoted as it needs
            for row in rows:
                self._write_row(row)
        else:  # one call for the chunk: a third of writing it row by row
            self.rows.writerows(rows)

    def _write_row(self, row: list[Any]) -> None:
        (self.quoted_rows if _needs_quotes(row) else self.rows).writerow(row)

    def _columns(self, results: dict[str, np.ndarray]) -> list[str]:
        if self.info.probabilities_output:
            classes = results[self.info.probabilities_output].shape[1]
            return ["label", "score", *class_names(self.info, classes)]
        return _output_columns(results)

    def _rows(self, results: dict[str, np.ndarray]) -> tuple[list[list[Any]], bool]:
        """The prediction cells of every row, computed for the whole chunk at once, and whether any of their
        text needs quoting (only class names and text outputs are text)."""
        if not self.info.probabilities_output:
            columns = [array.reshape(len(array), -1).tolist() for array in results.values()]  # each keeps its type
            rows = [[value for part in parts for value in part] for parts in zip(*columns, strict=True)]
            if not any(array.dtype.kind in "OUS" for array in results.values()):
                return rows, False
            rows = [[spreadsheet_safe(value) for value in row] for row in rows]
            return rows, any(_needs_quotes(row) for row in rows)
        probabilities = results[self.info.probabilities_output]
        names = [spreadsheet_safe(name) for name in class_names(self.info, probabilities.shape[1])]
        winners = probabilities.argmax(axis=1).tolist()
        rows = [[names[w], row[w], *row] for w, row in zip(winners, probabilities.tolist(), strict=True)]
        return rows, _needs_quotes(names)

    def finish(self) -> IO[bytes]:
        """The complete file, positioned at its start."""
        self.text.flush()
        self.text.detach()
        return super().finish()


class NpyPredictionWriter(PredictionWriter):
    """Rows of a structured array; the .npy header, which needs the row count, is prepended at the end."""

    extension = ".npy"
    content_type = "application/octet-stream"

    def __init__(self, info: ModelInfo, carried: Carried = NOTHING_CARRIED) -> None:
        super().__init__(info, carried)  # .npy inputs carry no columns: their rows are positions only
        self.dtype: np.dtype[Any] | None = None
        self.count = 0

    def _dtype(self, results: dict[str, np.ndarray]) -> np.dtype[Any]:
        fields: list[tuple[Any, ...]] = [("record", "<i8")]
        if self.info.probabilities_output:
            classes = results[self.info.probabilities_output].shape[1]
            width = max(len(name) for name in class_names(self.info, classes))
            fields += [("label", f"<U{width}"), ("score", "<f4"), ("probabilities", "<f4", (classes,))]
        else:
            fields += [(name, array.dtype.str, array.shape[1:]) for name, array in results.items()]
        return np.dtype(fields)

    def write(
        self, records: list[int], ids: list[str | None], results: dict[str, np.ndarray], extras: Extras | None = None
    ) -> None:
        """The chunk's rows, appended as raw bytes."""
        if not records:
            return
        self.dtype = self.dtype or self._dtype(results)
        rows = np.zeros(len(records), dtype=self.dtype)
        rows["record"] = records
        if self.info.probabilities_output:
            probabilities = results[self.info.probabilities_output]
            names = np.array(class_names(self.info, probabilities.shape[1]))
            winners = probabilities.argmax(axis=1)
            rows["label"] = names[winners]
            rows["score"] = probabilities[np.arange(len(records)), winners]
            rows["probabilities"] = probabilities
        else:
            for name, array in results.items():
                rows[name] = array
        self.file.write(rows.tobytes())
        self.count += len(records)

    def finish(self) -> IO[bytes]:
        """Header and rows as one file (an empty file of zero records when nothing was scored)."""
        whole = spool()
        descr = np.lib.format.dtype_to_descr(self.dtype or np.dtype([("record", "<i8")]))
        header = {"descr": descr, "fortran_order": False}
        np.lib.format.write_array_header_1_0(whole, header | {"shape": (self.count,)})
        self.file.seek(0)
        while block := self.file.read(SPOOL_MEMORY_BYTES):
            whole.write(block)
        self.file.close()
        self.file = whole
        return super().finish()


WRITERS: dict[str, type[PredictionWriter]] = {
    "jsonl": PredictionWriter,
    "image": PredictionWriter,  # an image's prediction is one JSON Lines record
    "csv": CsvPredictionWriter,
    "npy": NpyPredictionWriter,
}
