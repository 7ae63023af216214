"""Export a fitted scikit-learn estimator or pipeline to ONNX with skl2onnx, proven by a parity check.

Classifiers get ``label`` (the class values, as skl2onnx gives them) and ``probabilities`` (a float32
tensor: ZipMap is switched off), regressors one ``output``. A model fitted on a pandas DataFrame and exported
with a DataFrame sample takes one input per column, named and typed as the columns are (model_export.tabular);
any other takes ``input`` float32 [batch, n_features]. LightGBM and XGBoost estimators, alone or as a
pipeline's last step, convert through onnxmltools' converters (model_export.boosters).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Unpack

import numpy as np

from handler.contract import shape_text
from model_export.boosters import booster_libraries, register, target_opset
from model_export.deps import require
from model_export.errors import NotAModelError, ShapeMismatchError, UnsupportedModelError
from model_export.graph_edit import name_batch_axis, rename_output
from model_export.metadata import dims_of
from model_export.options import DEFAULT_OPSET, ExportOptions, card_of, tolerance_of, tuning_of
from model_export.parity import INPUT_NAME, ParitySpec, SourcePredict
from model_export.report import ExportReport
from model_export.sklearn_inputs import InputPlan, array_plan, frame_plan, settled, takes_columns, text_plan
from model_export.tabular import estimators_in
from model_export.text_inputs import sample_texts, vectorizer_hints, vectorizer_options
from model_export.writer import finish_export


def describe_estimator(model: Any) -> str:
    """The estimator's type, with a pipeline's steps: Pipeline(StandardScaler -> LogisticRegression)."""
    steps = getattr(model, "steps", None)
    if isinstance(steps, list):
        return f"{type(model).__name__}({' -> '.join(describe_estimator(step) for _, step in steps)})"
    return type(model).__name__


def _check_fitted_model(model: Any) -> None:
    not_fitted = require("sklearn.exceptions").NotFittedError
    check_is_fitted = require("sklearn.utils.validation").check_is_fitted
    if not callable(getattr(model, "predict", None)):
        raise NotAModelError(f"a {type(model).__name__} is not a model: it has no predict() method")
    try:
        check_is_fitted(model)
    except not_fitted:
        raise NotAModelError(f"the {describe_estimator(model)} is not fitted: fit it before exporting") from None
    except TypeError:
        pass  # not a scikit-learn estimator; skl2onnx decides whether it can convert it


def _feature_count(model: Any, n_features: int | None, sample: np.ndarray | None) -> int:
    fitted = getattr(model, "n_features_in_", None)
    where = describe_estimator(model)
    if sample is not None and (sample.ndim != 2 or len(sample) == 0):
        raise ShapeMismatchError(f"sample data has shape {list(sample.shape)}; expected [rows, n_features] for {where}")
    given = {"n_features": n_features, "sample": sample.shape[1] if sample is not None else None}
    known = {name: value for name, value in given.items() if value is not None}
    if len(set(known.values())) > 1:
        raise ShapeMismatchError(f"n_features={n_features} but the sample data has {given['sample']} columns")
    wanted = next(iter(known.values()), None)
    if fitted is not None and wanted is not None and int(fitted) != wanted:
        source = "n_features" if n_features is not None else "sample data"
        raise ShapeMismatchError(
            f"{source} gives {wanted} features but the {where} was fitted on {int(fitted)} (n_features_in_)"
        )
    count = wanted if wanted is not None else fitted
    if count is None:
        raise ShapeMismatchError(
            f"cannot tell how many features the {where} takes (no n_features_in_): pass n_features or sample data"
        )
    return int(count)


def _class_labels(model: Any, given: Sequence[str] | None) -> list[str]:
    where = describe_estimator(model)
    if not callable(getattr(model, "predict_proba", None)):
        raise UnsupportedModelError(
            f"the {where} is a classifier without predict_proba(), so it has no probabilities output to serve; "
            "use one that has it (e.g. SVC(probability=True) or CalibratedClassifierCV)"
        )
    classes = [str(value) for value in model.classes_]
    if given is None:
        return classes
    if len(given) != len(classes):
        raise ShapeMismatchError(
            f"{len(given)} class labels were given but the {where} has {len(classes)} classes ({', '.join(classes)})"
        )
    return [str(label) for label in given]


def _convert(model: Any, plan: InputPlan, classifier: bool, opset: int | dict[str, int]) -> Any:
    convert_sklearn = require("skl2onnx").convert_sklearn
    options: dict[int, dict[str, Any]] = vectorizer_options(plan.to_convert)
    if classifier:
        options[id(plan.to_convert)] = {"zipmap": False}
    try:
        converted = convert_sklearn(
            plan.to_convert,
            initial_types=plan.initial_types,
            options=options or None,
            target_opset=opset,
            name=type(model).__name__,  # skl2onnx names the graph with a random UUID otherwise: no stable hash
        )
    except Exception as exc:  # skl2onnx raises RuntimeError, MissingShapeCalculator, NotImplementedError, ...
        first_line = _reason(exc)
        hint = ""
        if plan.columns is None and getattr(model, "feature_names_in_", None) is not None:
            hint = "; it was fitted on a DataFrame: pass sample=<a DataFrame of its columns> (--sample data.csv)"
        raise UnsupportedModelError(
            f"skl2onnx cannot convert the {describe_estimator(model)}: {first_line}{hint}"
        ) from None
    return converted


def _reason(exc: BaseException) -> str:
    """The converter's message on one bounded line, and what caused it: skl2onnx wraps the cause of a failed node
    in a message that quotes the node's whole attributes (thousands of numbers) before saying what was wrong."""
    text = str(exc).strip()
    reason = text.splitlines()[0][:300] if text else type(exc).__name__
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip():
        reason += f" (caused by {type(cause).__name__}: {str(cause).strip().splitlines()[0][:300]})"
    return reason


def _contract_outputs(model: Any, converted: Any, classifier: bool) -> Any:
    names = [output.name for output in converted.graph.output]
    where = describe_estimator(model)
    if classifier and names != ["label", "probabilities"]:
        raise UnsupportedModelError(f"skl2onnx gave the {where} outputs {names}; expected ['label', 'probabilities']")
    if not classifier:
        if len(names) != 1:
            raise UnsupportedModelError(
                f"skl2onnx gave the {where} {len(names)} outputs {names}; onnx-lambda exports classifiers "
                "(label, probabilities) and regressors (one output)"
            )
        rename_output(converted, names[0], "output")
    return name_batch_axis(converted)


def _output_descriptions(converted: Any, classifier: bool) -> dict[str, str]:
    tensor_proto = require("onnx").TensorProto
    shapes = {output.name: shape_text(dims_of(output)) for output in converted.graph.output}
    if not classifier:
        return {"output": f"float32 {shapes['output']}: the predicted value(s)"}
    label_type = tensor_proto.DataType.Name(converted.graph.output[0].type.tensor_type.elem_type).lower()
    return {
        "label": f"{label_type} {shapes['label']}: the predicted class value (class_labels names it by position)",
        "probabilities": f"float32 {shapes['probabilities']}: class probabilities; column i is class_labels[i]",
    }


def _source_predict(model: Any, classifier: bool) -> SourcePredict:
    def predict(batch: Any) -> Mapping[str, np.ndarray]:
        if classifier:
            return {"label": np.asarray(model.predict(batch)), "probabilities": np.asarray(model.predict_proba(batch))}
        return {"output": np.asarray(model.predict(batch))}

    return predict


def _plan(model: Any, n_features: int | None, sample: Any, quantize: str | None) -> InputPlan:
    """By name and type for a DataFrame-fitted model given a DataFrame; positional float32 features else."""
    if takes_columns(model, sample):
        return frame_plan(model, sample, model.predict, quantize)
    texts = sample_texts(model, sample)
    if texts is not None:
        return text_plan(model, *texts)
    data = None if sample is None else np.asarray(sample, dtype=np.float32)
    return array_plan(model, _feature_count(model, n_features, data), data)


def export_sklearn(
    model: Any,
    path: str | Path,
    *,
    n_features: int | None = None,
    sample: Any = None,
    **options: Unpack[ExportOptions],
) -> ExportReport:
    """Convert, check parity on ``sample`` (an array, a DataFrame, or 64 generated rows), tune if asked, write;
    raises an ExportError."""
    sklearn, skl2onnx = require("sklearn"), require("skl2onnx")
    for package in ("onnx", "onnxruntime"):
        require(package)
    tuning = tuning_of(options)
    _check_fitted_model(model)
    libraries = booster_libraries(estimator for estimator, _ in estimators_in(model))
    register(libraries)
    classifier = bool(require("sklearn.base").is_classifier(model))
    labels = _class_labels(model, options.get("class_labels")) if classifier else None
    plan = _plan(model, n_features, sample, tuning.quantize)
    converted = _convert(model, plan, classifier, target_opset(options.get("opset", DEFAULT_OPSET), libraries))
    converted = _contract_outputs(model, converted, classifier)
    compare = ParitySpec(compare=("probabilities",), label="label") if classifier else ParitySpec(compare=("output",))
    compare = replace(compare, hints=vectorizer_hints(model))
    source, tolerance = _source_predict(model, classifier), tolerance_of(options)
    plan = settled(plan, converted.SerializeToString(), source, replace(compare, feeds_of=plan.feeds_of), tolerance)
    card = card_of(
        options,
        Path(path),
        task="classification" if classifier else "regression",
        input_default=plan.inputs.get(INPUT_NAME, ""),
        outputs=_output_descriptions(converted, classifier),
        source=_source_of(sklearn.__version__, skl2onnx.__version__, libraries),
        class_labels=labels,
        inputs=plan.inputs if plan.columns is not None else None,
        columns=[column.to_dict() for column in plan.columns] if plan.columns is not None else None,
    )
    return finish_export(
        converted,
        card=card,
        source=source,
        batches=plan.batches,
        spec=replace(compare, feeds_of=plan.feeds_of),
        tolerance=tolerance,
        path=Path(path),
        notes=plan.notes,
        tuning=tuning,
    )


def _source_of(sklearn_version: str, skl2onnx_version: str, libraries: set[str]) -> tuple[str, str, str]:
    """(framework, its version, converter): the boosters' library when the model holds one."""
    converter = f"skl2onnx {skl2onnx_version}"
    if not libraries:
        return "scikit-learn", sklearn_version, converter
    onnxmltools = require("onnxmltools")
    library = sorted(libraries)[0]
    return library, require(library).__version__, f"{converter} + onnxmltools {onnxmltools.__version__}"
