"""LightGBM and XGBoost inside skl2onnx: onnxmltools' converters, registered for their scikit-learn classes.

Registered, a booster converts alone or as a Pipeline's last step exactly as a scikit-learn estimator does
(one ``label`` and one ``probabilities`` output for classifiers), so the same parity check and contract apply.
Each library is optional: only those importable are registered, and neither is imported unless a model holds
one of its estimators (their import costs seconds).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from model_export.deps import require

# Opsets of the ML domain the tree converters write (TreeEnsemble ops); onnxruntime 1.32 runs both.
ML_OPSET = 3
CLASSIFIER_OPTIONS = {"nocl": [True, False], "zipmap": [True, False, "columns"]}


def _module_of(estimator: Any) -> str:
    return type(estimator).__module__.split(".")[0]


def booster_libraries(estimators: Iterable[Any]) -> set[str]:
    """Which of lightgbm and xgboost the estimators come from."""
    return {_module_of(estimator) for estimator in estimators} & {"lightgbm", "xgboost"}


def register(libraries: set[str]) -> None:
    """Register onnxmltools' converters for the boosters of ``libraries`` with skl2onnx."""
    if "lightgbm" in libraries:
        lightgbm = require("lightgbm")
        convert = require("onnxmltools.convert.lightgbm.operator_converters.LightGbm").convert_lightgbm
        _register_pair("LightGbm", (lightgbm.LGBMClassifier, lightgbm.LGBMRegressor), convert)
    if "xgboost" in libraries:
        xgboost = require("xgboost")
        convert = require("onnxmltools.convert.xgboost.operator_converters.XGBoost").convert_xgboost
        _register_pair("XGBoost", (xgboost.XGBClassifier, xgboost.XGBRegressor), convert)


def _register_pair(prefix: str, classes: tuple[Any, Any], convert: Any) -> None:
    skl2onnx = require("skl2onnx")
    shapes = require("skl2onnx.common.shape_calculator")
    classifier, regressor = classes
    skl2onnx.update_registered_converter(
        classifier,
        f"{prefix}{classifier.__name__}",
        shapes.calculate_linear_classifier_output_shapes,
        convert,
        options=CLASSIFIER_OPTIONS,
    )
    skl2onnx.update_registered_converter(
        regressor, f"{prefix}{regressor.__name__}", shapes.calculate_linear_regressor_output_shapes, convert
    )


def without_feature_names(estimators: Iterable[Any]) -> None:
    """Clear the feature names of XGBoost boosters (of a copy being converted): onnxmltools reads a split's
    feature by its name and accepts only f0, f1, ...; the order of the columns is what matters to the graph."""
    for estimator in estimators:
        if _module_of(estimator) == "xgboost" and hasattr(estimator, "get_booster"):
            estimator.get_booster().feature_names = None


def target_opset(opset: int, libraries: set[str]) -> int | dict[str, int]:
    """The opset for skl2onnx: the default domain's alone, or with the ML domain the tree converters need."""
    return {"": opset, "ai.onnx.ml": ML_OPSET} if libraries else opset
