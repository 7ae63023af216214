"""/predict's body forms as the model's feeds: ``instances``, ``inputs`` and MLflow's ``dataframe_split`` and
``dataframe_records`` (what its scoring server's users already send).

A tabular model (one with a ``columns`` schema) takes rows as objects of columns and ``inputs`` as columns, with
null as missing where it imputes (handler.columns), and a one-column model (a text classifier) its bare values;
any other model takes what /predict always took: an array per row for one input, an object keyed by input name
for several (handler.codec).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from handler.codec import columns_of_inputs, instances_to_feeds
from handler.columns import Column, columns_to_feeds, records_to_feeds
from handler.errors import BadRequest
from handler.image_contract import ImageContract
from handler.model import ModelInfo
from handler.request_bodies import DataFrameSplit, PredictRequest


def _encoded_image(instance: Any, contract: ImageContract, where: str) -> bytes:
    """One image instance in JSON: {"b64": ...} (TF Serving's convention), or {"<input>": {"b64": ...}}."""
    from handler.image_decoding import from_base64  # noqa: PLC0415 - Pillow, for image models only

    if isinstance(instance, dict) and set(instance) == {contract.input}:
        instance, where = instance[contract.input], f"{where}.{contract.input}"
    if not isinstance(instance, dict) or set(instance) != {"b64"}:
        raise BadRequest(
            f'{where}: expected {{"b64": "<base64 of the image>"}} for this image model, which takes '
            f"{contract.describe()}; or post the image itself (image/png, image/jpeg, image/webp, or multipart)"
        )
    return from_base64(instance["b64"], f"{where}.b64")


def image_feeds(images: list[bytes], contract: ImageContract, where: str) -> dict[str, np.ndarray]:
    """Encoded images as an image model's feeds."""
    from handler.image_decoding import images_to_tensor  # noqa: PLC0415 - Pillow, for image models only

    return {contract.input: images_to_tensor(images, contract, where)}


def rows_to_feeds(rows: list[Any], info: ModelInfo, prefix: str) -> dict[str, np.ndarray]:
    """Rows as feeds: objects of columns for tabular models, images in base64 for image models, else instances as
    /predict has always taken them."""
    if not rows:
        raise BadRequest(f"{prefix}: expected at least one row")
    if info.image is not None:
        encoded = [_encoded_image(row, info.image, f"{prefix}[{index}]") for index, row in enumerate(rows)]
        return image_feeds(encoded, info.image, prefix)
    if info.columns is not None:
        return records_to_feeds(_as_records(rows, info.columns), info.columns, prefix)
    return instances_to_feeds(rows, info.inputs, prefix)


def _as_records(rows: list[Any], columns: tuple[Column, ...]) -> list[Any]:
    """A one-column model's rows may be its bare values (``["great product"]`` for a text model)."""
    if len(columns) == 1 and not any(isinstance(row, dict) for row in rows):
        return [{columns[0].name: row} for row in rows]
    return rows


def _split_rows(split: DataFrameSplit, info: ModelInfo) -> list[Any]:
    """dataframe_split's rows: objects keyed by its columns (the rows themselves for a one-input positional model,
    whose columns are only positions)."""
    if len(set(split.columns)) != len(split.columns):
        raise BadRequest("dataframe_split.columns: a column is named twice: expected each name once")
    for index, row in enumerate(split.data):
        if len(row) != len(split.columns):
            raise BadRequest(
                f"dataframe_split.data[{index}] has {len(row)} values for {len(split.columns)} columns: expected one "
                "value per column"
            )
    if info.columns is None and len(info.inputs) == 1:
        return split.data
    return [dict(zip(split.columns, row, strict=True)) for row in split.data]


def predict_feeds(request: PredictRequest, info: ModelInfo) -> dict[str, np.ndarray]:
    """The feeds of a /predict body, whichever form it takes; raises BadRequest naming the row and column."""
    form, value = request.rows_form()
    if isinstance(value, DataFrameSplit):
        return rows_to_feeds(_split_rows(value, info), info, "dataframe_split.data")
    if isinstance(value, dict):
        if info.columns is not None:
            return columns_to_feeds(value, info.columns, form)
        if info.image is not None and isinstance(value.get(info.image.input), list) and len(value) == 1:
            return rows_to_feeds(value[info.image.input], info, f"{form}.{info.image.input}")
        return columns_of_inputs(value, info.inputs, form)
    return rows_to_feeds(value, info, form)
