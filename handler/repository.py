"""Many models, one function: MODEL_PATH as a directory of ONNX files, each served under its own name and version.

Two layouts, as people already keep models: a flat folder of ``NAME.onnx`` files (the name and version come
from the file's metadata, as ``model_export`` writes them, else the file name and "1"), and Triton's model
repository, ``NAME/VERSION/model.onnx``. Every model is loaded and warmed up at INIT, so a broken one fails
the function before it serves anything, and each holds its own onnxruntime session in memory for the life
of the instance: memory grows with the sum of the models (see docs/api.md "Many models, one function" for the
trade-off).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from handler.errors import ModelLoadError, NotFound
from handler.model import InitReport, OnnxModel, load_model
from handler.settings import Settings

TRITON_FILE = "model.onnx"


@dataclass(frozen=True)
class ModelFile:
    """One file to load, with the name and version its place in the layout gives (None: from its metadata)."""

    path: Path
    name: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class LoadedModel:
    """A served model and how its loading went."""

    model: OnnxModel
    report: InitReport


def version_order(version: str) -> tuple[int, int | str]:
    """Numeric versions by number (Triton's "latest" is the highest), others after them, by text."""
    return (0, int(version)) if version.isascii() and version.isdigit() else (1, version)  # "²" is a digit


def repository_files(directory: Path) -> list[ModelFile]:
    """The ONNX files of a model directory, flat and Triton-style; raises ModelLoadError when there are none."""
    flat = [ModelFile(path) for path in sorted(directory.glob("*.onnx")) if path.is_file()]
    triton = [
        ModelFile(path, path.parent.parent.name, path.parent.name)
        for path in sorted(directory.glob(f"*/*/{TRITON_FILE}"))
        if path.is_file()
    ]
    if not flat and not triton:
        raise ModelLoadError(
            f"MODEL_PATH={str(directory)!r} is a directory without models: expected NAME.onnx files in it, or "
            f"Triton's layout NAME/VERSION/{TRITON_FILE}"
        )
    return flat + triton


class ModelRepository:
    """The models an instance serves, by name and version; the default one answers /predict, /health and batch."""

    def __init__(self, loaded: list[LoadedModel], default_name: str | None = None) -> None:
        self.versions: dict[str, dict[str, LoadedModel]] = {}
        for entry in loaded:
            info = entry.model.info
            same = self.versions.setdefault(info.name, {}).get(info.version)
            if same is not None:
                raise ModelLoadError(
                    f"{entry.report.model_path!r} and {same.report.model_path!r} are both model {info.name!r} "
                    f"version {info.version!r}: give each file its own name or version"
                )
            self.versions[info.name][info.version] = entry
        if default_name is not None and default_name not in self.versions:
            raise ModelLoadError(f"DEFAULT_MODEL={default_name!r} is not among the models served: {self.names_text()}")
        self.default_name = default_name or sorted(self.versions)[0]

    @property
    def default(self) -> LoadedModel:
        """The latest version of the default model."""
        return self._latest(self.default_name)

    def _latest(self, name: str) -> LoadedModel:
        versions = self.versions[name]
        return versions[max(versions, key=version_order)]

    def find(self, name: str, version: str | None) -> OnnxModel:
        """The model a request's path names (its latest version when none is given); 404 saying what is served."""
        versions = self.versions.get(name)
        if versions is None:
            # Begins as Triton's does, so clients that match "Request for unknown model" recognise it.
            raise NotFound(
                f"Request for unknown model: {name!r} is not served here; this endpoint serves {self.names_text()}"
            )
        if version is None:
            return self._latest(name).model
        if version not in versions:
            served = ", ".join(repr(known) for known in sorted(versions, key=version_order))
            are = "the served version is" if len(versions) == 1 else "the served versions are"
            raise NotFound(f"model {name!r} has no version {version!r}; {are} {served}")
        return versions[version].model

    def names_text(self) -> str:
        """The served names, for messages."""
        return ", ".join(repr(name) for name in sorted(self.versions))

    def __iter__(self) -> Iterator[LoadedModel]:
        """Every model, by name then version."""
        for name in sorted(self.versions):
            versions = self.versions[name]
            yield from (versions[version] for version in sorted(versions, key=version_order))

    def __len__(self) -> int:
        return sum(len(versions) for versions in self.versions.values())


def load_repository(settings: Settings, initialization_type: str) -> ModelRepository:
    """Every model MODEL_PATH names, loaded and warmed up; raises ModelLoadError at the first that fails."""
    if not settings.model_path.is_dir():
        model, report = load_model(settings, initialization_type)
        return ModelRepository([LoadedModel(model, report)])
    if settings.model_name or settings.model_version:
        raise ModelLoadError(
            f"MODEL_NAME and MODEL_VERSION name a single model file, but MODEL_PATH={str(settings.model_path)!r} "
            "is a directory: its models are named by their files or folders (use DEFAULT_MODEL to pick the default)"
        )
    loaded = []
    for file in repository_files(settings.model_path):
        one = settings.model_copy(
            update={"model_path": file.path, "model_name": file.name, "model_version": file.version}
        )
        model, report = load_model(one, initialization_type)
        loaded.append(LoadedModel(model, report))
    return ModelRepository(loaded, settings.default_model)


def index_entries(repository: ModelRepository) -> list[Mapping[str, str]]:
    """Triton's repository index: one entry per served model version, all READY (loading failed INIT otherwise)."""
    return [{"name": e.model.info.name, "version": e.model.info.version, "state": "READY"} for e in repository]
