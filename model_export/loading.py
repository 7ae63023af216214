"""Read what the CLI is pointed at: pickled estimators, sample data and class labels.

Unpickling runs code: ``joblib.load`` should only be given files you trust. PyTorch files are read by
``model_export.torch_loading``, which imports torch.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.errors import DataFileError, NotAModelError


def first_line(exc: BaseException) -> str:
    """The exception's type and the first line of its message, for one-line errors."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def existing(path: Path, what: str) -> Path:
    """``path`` when it is a file; raises NotAModelError saying what was expected there."""
    if not path.is_file():
        raise NotAModelError(f"{path} is not a file: expected {what}")
    return path


def load_sklearn(path: Path) -> Any:
    """A fitted estimator from a joblib or pickle file (trusted files only); raises NotAModelError."""
    require("sklearn")  # unpickling an estimator imports scikit-learn; say so plainly when it is missing
    joblib = require("joblib")
    existing(path, "a scikit-learn model saved with joblib.dump or pickle.dump")
    try:
        model = joblib.load(path)
    except Exception as exc:  # unpickling raises anything at all for a file that is not a pickle
        raise NotAModelError(
            f"{path} is not a scikit-learn model saved with joblib.dump or pickle.dump: {first_line(exc)}"
        ) from None
    if not callable(getattr(model, "predict", None)):
        raise NotAModelError(f"{path} holds a {type(model).__name__}, not a model: it has no predict() method")
    return model


def _read_csv(path: Path) -> np.ndarray:
    with path.open(newline="") as stream:
        rows = [row for row in csv.reader(stream) if row]
    if rows:
        try:
            [float(value) for value in rows[0]]
        except ValueError:
            rows = rows[1:]  # a header
    return np.asarray([[float(value) for value in row] for row in rows])


def _has_header(path: Path) -> bool:
    with path.open(newline="") as stream:
        first = next((row for row in csv.reader(stream) if row), [])
    try:
        [float(value) for value in first]
    except ValueError:
        return True
    return False


def load_frame(path: Path) -> Any:
    """A CSV with a header as a pandas DataFrame (pandas types each column: numbers, strings; a blank cell is
    missing), for models fitted on a DataFrame; raises DataFileError."""
    pandas = require("pandas")
    try:
        frame = pandas.read_csv(path)
    except (ValueError, OSError) as exc:  # pandas' ParserError and EmptyDataError are ValueErrors
        raise DataFileError(f"sample file {path} cannot be read as a table: {first_line(exc)}") from None
    if len(frame) == 0:
        raise DataFileError(f"sample file {path} has a header but no rows: expected rows of the model's columns")
    return frame


def load_sample(path: Path, *, table: bool = False) -> Any:
    """Sample inputs, rows along axis 0, from .npy or .csv (optional header) as float32; raises DataFileError.
    With ``table``, a CSV with a header is read as a DataFrame instead, its columns typed by pandas."""
    if not path.is_file():
        raise DataFileError(f"sample file {path} is not a file")
    if table and path.suffix == ".csv" and _has_header(path):
        return load_frame(path)
    return _numeric_sample(path)


def _numeric_sample(path: Path) -> np.ndarray:
    try:
        if path.suffix == ".npy":
            data = np.load(path, allow_pickle=False)
        elif path.suffix == ".csv":
            data = _read_csv(path)
        else:
            raise DataFileError(f"sample file {path}: expected a .npy or .csv file")
        data = np.asarray(data, dtype=np.float32)
    except (ValueError, OSError) as exc:
        raise DataFileError(f"sample file {path} is not a numeric array: {first_line(exc)}") from None
    if data.ndim < 2 or len(data) == 0:
        raise DataFileError(f"sample file {path} has shape {list(data.shape)}: expected rows along axis 0")
    return data


def load_eval_data(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Held-out (x, y) from an .npz with arrays ``x`` (or ``X``) and ``y`` (np.savez); raises DataFileError."""
    if not path.is_file():
        raise DataFileError(f"eval data file {path} is not a file")
    try:
        with np.load(path, allow_pickle=False) as arrays:
            names = set(arrays.files)
            x_name = "x" if "x" in names else "X"
            if not {x_name, "y"} <= names:
                raise DataFileError(f"eval data file {path} holds {sorted(names)}: expected arrays x and y (np.savez)")
            x, y = np.asarray(arrays[x_name], dtype=np.float32), arrays["y"]
    except (ValueError, OSError) as exc:  # not a zip, pickled objects, non-numeric x
        raise DataFileError(f"eval data file {path} is not an .npz of numeric x and y: {first_line(exc)}") from None
    if x.ndim < 2 or len(x) == 0 or y.ndim == 0 or len(y) != len(x):
        raise DataFileError(
            f"eval data file {path}: x has shape {list(x.shape)} and y {list(y.shape)}; expected the same number "
            "of rows (at least one) along axis 0"
        )
    return x, y


def parse_labels(text: str | None, path: Path | None = None) -> list[str] | None:
    """Class labels from "a,b,c" or a file with one per line (blank lines skipped); raises DataFileError."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise DataFileError(f"labels file {path} cannot be read: {first_line(exc)}") from None
        labels = [line.strip() for line in text.splitlines() if line.strip()]
    elif text is not None:
        labels = [label.strip() for label in text.split(",")]
    else:
        return None
    if not labels or not all(labels):
        raise DataFileError(f"no usable class labels in {path or repr(text)}: expected one non-empty label per class")
    return labels


def load_vocabulary(path: Path) -> list[str]:
    """A generator's tokens: a JSON list of strings, or one token per line (a line's spaces are kept)."""
    existing(path, "vocabulary file")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            tokens = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(f"vocabulary file {path} is not JSON: {exc}") from None
        if not isinstance(tokens, list) or not all(isinstance(token, str) for token in tokens):
            raise DataFileError(f"vocabulary file {path}: expected a JSON list of strings")
        return tokens
    return text.rstrip("\n").split("\n")
