"""Text models: a scikit-learn pipeline fitted on raw strings (TfidfVectorizer + LogisticRegression) takes one
string column.

The export gives the graph one input, a string tensor [batch, 1] named after the sample's column ("text" for a
plain list), and records it as a one-column schema (model_export.tabular's ``Column``), so the server takes
``{"instances": ["great product"]}``, ``{"instances": [{"text": "great product"}]}``, an OIP BYTES tensor and a
batch file's text column alike (handler.columns). The parity check feeds the sample, the sample at another
length, and texts the model never saw (empty, unknown words, accents and capitals).

skl2onnx lowercases with ONNX's StringNormalizer, whose default locale (en_US.UTF-8) is installed neither here
nor in Lambda's base image: onnxruntime then refuses to load the graph. The export names ``C.UTF-8``, which both
have and which lowercases Unicode as Python's ``str.lower`` does for the texts the parity check feeds; and it
gives the default token pattern in RE2's Unicode classes, which skl2onnx's translation leaves ASCII-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from model_export.deps import require
from model_export.tabular import Column, estimators_in, is_frame

TEXT_NAME = "text"  # the input's name when the sample does not name its column
LOCALE = "C.UTF-8"
# scikit-learn's default token pattern, and the same in RE2 (onnxruntime's Tokenizer): RE2's \\w is ASCII-only, so
# skl2onnx's translation splits "café" into "caf"; Python's \\w is a letter, a digit or "_" in any script.
DEFAULT_TOKENS = r"(?u)\b\w\w+\b"
UNICODE_TOKENS = r"[\p{L}\p{N}_][\p{L}\p{N}_]+"
VECTORIZERS = frozenset({"TfidfVectorizer", "CountVectorizer"})
# Texts no sample is likely to hold: nothing, words outside any vocabulary, capitals and accents, punctuation.
UNSEEN_TEXTS = ("", "zzqx wvvk", "GREAT Product!!", "Café crème, naïve déjà-vu", "a\tb\nc  d")


def sample_texts(model: Any, sample: Any) -> tuple[str, list[str]] | None:
    """The sample as (column name, texts) when it is text for a model that takes raw strings: a list, a 1-D
    array or Series of strings, or a one-column DataFrame of them for a model not fitted on a DataFrame."""
    if sample is None or getattr(model, "feature_names_in_", None) is not None:
        return None
    if is_frame(sample):
        if len(sample.columns) != 1:
            return None
        name, values = str(sample.columns[0]), sample.iloc[:, 0].tolist()
    elif hasattr(sample, "tolist") and getattr(sample, "ndim", 1) == 1:
        name, values = str(getattr(sample, "name", None) or TEXT_NAME), sample.tolist()
    elif isinstance(sample, list | tuple):
        name, values = TEXT_NAME, list(sample)
    else:
        return None
    if not values or not all(isinstance(value, str) for value in values):
        return None
    return name, values


def text_column(name: str) -> Column:
    """The one string column a text model takes: any text (no categories), never missing (send "" for none)."""
    return Column(name, "string", missing=False, categories=None, unseen=True)


def text_feeds(texts: Sequence[str], *, name: str) -> dict[str, np.ndarray]:
    """The graph's feeds for a batch of texts, as the server builds them: strings [rows, 1]."""
    return {name: np.asarray(list(texts), dtype=object).reshape(-1, 1)}


def text_batches(texts: Sequence[str]) -> list[list[str]]:
    """The sample, the sample cycled to another length, and texts it does not hold."""
    size = next(n for n in (1, 3, 5, 7) if n != len(texts))
    return [list(texts), [texts[index % len(texts)] for index in range(size)], list(UNSEEN_TEXTS)]


def text_initial_types(name: str) -> list[tuple[str, Any]]:
    """skl2onnx's initial_types for a text model: one string tensor [None, 1]."""
    return [(name, require("skl2onnx.common.data_types").StringTensorType([None, 1]))]


def text_feeds_of(name: str) -> partial[dict[str, np.ndarray]]:
    """The parity check's feeds builder for a text model's input ``name``."""
    return partial(text_feeds, name=name)


def vectorizer_options(model: Any) -> dict[int, dict[str, str]]:
    """skl2onnx options for every text vectorizer in ``model``: a locale onnxruntime can load and, for
    scikit-learn's default token pattern, the same pattern in RE2's words."""
    options: dict[int, dict[str, str]] = {}
    for step, _ in estimators_in(model):
        if type(step).__name__ in VECTORIZERS:
            options[id(step)] = {"locale": LOCALE}
            if (
                getattr(step, "token_pattern", None) == DEFAULT_TOKENS
                and step.analyzer == "word"
                and not step.tokenizer
            ):
                options[id(step)]["tokenexp"] = UNICODE_TOKENS
    return options


def vectorizer_hints(model: Any) -> tuple[str, ...]:
    """What a parity failure of a text model likely comes from: a TF-IDF setting skl2onnx does not convert as
    scikit-learn computes it."""
    for step, _ in estimators_in(model):
        if type(step).__name__ in ("TfidfVectorizer", "TfidfTransformer") and getattr(step, "sublinear_tf", False):
            return (
                "skl2onnx 1.20 computes TF-IDF's sublinear_tf=True as log(1 + tf), scikit-learn as 1 + log(tf): "
                "refit with sublinear_tf=False",
            )
    return ()
