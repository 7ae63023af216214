"""GIVEN a model directory (flat NAME.onnx files, Triton's NAME/VERSION/model.onnx) or loaded models WHEN the
repository is listed, built and asked for a model THEN every model is found under its name and version, the latest
version is the highest number, and a layout that cannot be served, or a model that is not served, is refused in words
that say what is served and what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from handler.errors import ModelLoadError, NotFound
from handler.model import InitReport, ModelInfo, OnnxModel
from handler.repository import (
    LoadedModel,
    ModelFile,
    ModelRepository,
    index_entries,
    load_repository,
    repository_files,
    version_order,
)
from handler.settings import Settings
from tests.testkit import onnx_models


def loaded(name: str, version: str, path: str | None = None) -> LoadedModel:
    """A served model as the repository sees it: its name, version and file (no session is ever run here)."""
    info = ModelInfo(
        name=name,
        version=version,
        inputs=(),
        outputs=(),
        metadata={},
        task="regression",
        class_labels=None,
        probabilities_output=None,
    )
    report = InitReport(path or f"/models/{name}-{version}.onnx", 1, 0.0, 0.0, "on-demand")
    return LoadedModel(OnnxModel(cast(Any, None), info, 8), report)


def served(repository: ModelRepository) -> list[tuple[str, str]]:
    return [(entry.model.info.name, entry.model.info.version) for entry in repository]


def test_versions_sort_by_number_then_the_non_numeric_ones_by_text() -> None:
    versions = ["10", "b", "2", "a", "1", "9"]
    assert sorted(versions, key=version_order) == ["1", "2", "9", "10", "a", "b"]
    assert version_order("007") == (0, 7)
    assert version_order("v2") == (1, "v2")
    assert version_order("²") == (1, "²")  # a digit to str.isdigit, not to int(): ordered as text, never a crash


def test_a_directory_lists_its_flat_files_then_its_triton_models_each_named_by_its_folders(tmp_path: Path) -> None:
    for relative in ("zeta.onnx", "alpha.onnx", "scaler/2/model.onnx", "scaler/10/model.onnx", "other/1/model.onnx"):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(b"")
    assert repository_files(tmp_path) == [
        ModelFile(tmp_path / "alpha.onnx"),
        ModelFile(tmp_path / "zeta.onnx"),
        ModelFile(tmp_path / "other/1/model.onnx", "other", "1"),
        ModelFile(tmp_path / "scaler/10/model.onnx", "scaler", "10"),
        ModelFile(tmp_path / "scaler/2/model.onnx", "scaler", "2"),
    ]


def test_files_outside_both_layouts_are_not_models(tmp_path: Path) -> None:
    (tmp_path / "folder.onnx").mkdir()  # a directory named like a model
    (tmp_path / "a" / "model.onnx").parent.mkdir()
    (tmp_path / "a" / "model.onnx").write_bytes(b"")  # NAME/model.onnx: no version folder
    (tmp_path / "b" / "1" / "weights.onnx").parent.mkdir(parents=True)
    (tmp_path / "b" / "1" / "weights.onnx").write_bytes(b"")  # not Triton's file name
    (tmp_path / "README.md").write_text("models go here")
    with pytest.raises(ModelLoadError) as raised:
        repository_files(tmp_path)
    assert str(raised.value) == (
        f"MODEL_PATH={str(tmp_path)!r} is a directory without models: expected NAME.onnx files in it, or "
        "Triton's layout NAME/VERSION/model.onnx"
    )


def test_the_default_is_the_first_name_and_its_latest_version_is_the_highest_number() -> None:
    repository = ModelRepository([loaded("zeta", "1"), loaded("beta", "9"), loaded("beta", "10"), loaded("beta", "2")])
    assert repository.default_name == "beta"
    assert (repository.default.model.info.name, repository.default.model.info.version) == ("beta", "10")
    assert repository.find("beta", None).info.version == "10"
    assert repository.find("beta", "9").info.version == "9"


def test_a_named_default_is_served_by_default_whatever_the_order_of_names() -> None:
    repository = ModelRepository([loaded("alpha", "1"), loaded("zeta", "3")], default_name="zeta")
    assert repository.default_name == "zeta"
    assert repository.default.model.info.version == "3"


def test_every_version_is_listed_by_name_then_version_and_counted() -> None:
    repository = ModelRepository([loaded("b", "10"), loaded("a", "1"), loaded("b", "2"), loaded("b", "x")])
    assert served(repository) == [("a", "1"), ("b", "2"), ("b", "10"), ("b", "x")]
    assert len(repository) == 4
    assert index_entries(repository) == [
        {"name": "a", "version": "1", "state": "READY"},
        {"name": "b", "version": "2", "state": "READY"},
        {"name": "b", "version": "10", "state": "READY"},
        {"name": "b", "version": "x", "state": "READY"},
    ]
    assert repository.names_text() == "'a', 'b'"


def test_an_unknown_model_is_not_found_in_tritons_words_naming_every_served_model() -> None:
    repository = ModelRepository([loaded("digits", "1"), loaded("scaler", "1")])
    with pytest.raises(NotFound) as raised:
        repository.find("resnet", "1")
    assert raised.value.message == (
        "Request for unknown model: 'resnet' is not served here; this endpoint serves 'digits', 'scaler'"
    )


@pytest.mark.parametrize(
    ("versions", "words"),
    [
        (["1"], "model 'scaler' has no version '3'; the served version is '1'"),
        (["10", "2", "1"], "model 'scaler' has no version '3'; the served versions are '1', '2', '10'"),
    ],
)
def test_an_unknown_version_is_not_found_naming_the_served_versions_in_order(versions: list[str], words: str) -> None:
    repository = ModelRepository([loaded("scaler", version) for version in versions])
    with pytest.raises(NotFound) as raised:
        repository.find("scaler", "3")
    assert raised.value.message == words


def test_two_files_giving_the_same_name_and_version_are_refused_naming_both() -> None:
    with pytest.raises(ModelLoadError) as raised:
        ModelRepository([loaded("a", "1", "/m/a.onnx"), loaded("b", "1"), loaded("a", "1", "/m/a/1/model.onnx")])
    assert str(raised.value) == (
        "'/m/a/1/model.onnx' and '/m/a.onnx' are both model 'a' version '1': give each file its own name or version"
    )


def test_a_default_model_that_is_not_served_is_refused_naming_what_is() -> None:
    with pytest.raises(ModelLoadError) as raised:
        ModelRepository([loaded("a", "1"), loaded("b", "1")], default_name="c")
    assert str(raised.value) == "DEFAULT_MODEL='c' is not among the models served: 'a', 'b'"


def test_a_single_file_is_a_repository_of_one_model_named_by_the_settings(tmp_path: Path) -> None:
    path = onnx_models.scaler(tmp_path / "scaler.onnx")
    settings = Settings(model_path=path, model_name="doubler", model_version="4", max_batch_size=16)
    repository = load_repository(settings, "provisioned-concurrency")
    assert served(repository) == [("doubler", "4")]
    assert repository.default.report.model_path == str(path)
    assert repository.default.report.initialization_type == "provisioned-concurrency"
    assert repository.default.model.max_batch_size == 16


def test_flat_files_are_named_by_their_metadata_else_their_stem_and_triton_models_by_their_folders(
    tmp_path: Path,
) -> None:
    onnx_models.scaler(tmp_path / "plain.onnx")
    onnx_models.scaler(tmp_path / "tagged.onnx", metadata={"model_name": "fancy", "model_version": "7"})
    (tmp_path / "triton" / "3").mkdir(parents=True)
    onnx_models.scaler(tmp_path / "triton" / "3" / "model.onnx", metadata={"model_name": "ignored"})
    repository = load_repository(Settings(model_path=tmp_path), "on-demand")
    assert served(repository) == [("fancy", "7"), ("plain", "1"), ("triton", "3")]
    assert repository.default_name == "fancy"
    paths = {entry.model.info.name: entry.report.model_path for entry in repository}
    assert paths == {
        "fancy": str(tmp_path / "tagged.onnx"),
        "plain": str(tmp_path / "plain.onnx"),
        "triton": str(tmp_path / "triton" / "3" / "model.onnx"),
    }


def test_a_directory_chooses_its_default_with_default_model(tmp_path: Path) -> None:
    onnx_models.scaler(tmp_path / "a.onnx", factor=2.0)
    onnx_models.scaler(tmp_path / "b.onnx", factor=3.0)
    repository = load_repository(Settings(model_path=tmp_path, default_model="b"), "on-demand")
    assert repository.default_name == "b"
    assert repository.default.report.model_path == str(tmp_path / "b.onnx")


@pytest.mark.parametrize("setting", [{"model_name": "x"}, {"model_version": "2"}])
def test_a_directory_with_model_name_or_version_set_is_refused_saying_to_use_default_model(
    tmp_path: Path, setting: dict[str, Any]
) -> None:
    onnx_models.scaler(tmp_path / "a.onnx")
    with pytest.raises(ModelLoadError) as raised:
        load_repository(Settings(model_path=tmp_path, **setting), "on-demand")
    assert str(raised.value) == (
        f"MODEL_NAME and MODEL_VERSION name a single model file, but MODEL_PATH={str(tmp_path)!r} is a directory: "
        "its models are named by their files or folders (use DEFAULT_MODEL to pick the default)"
    )


def test_one_broken_file_fails_the_whole_directory_naming_that_file(tmp_path: Path) -> None:
    onnx_models.scaler(tmp_path / "a.onnx")
    (tmp_path / "b.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelLoadError) as raised:
        load_repository(Settings(model_path=tmp_path), "on-demand")
    assert str(raised.value).startswith(f"MODEL_PATH={str(tmp_path / 'b.onnx')!r} is not a loadable ONNX model: ")
