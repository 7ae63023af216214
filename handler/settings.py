"""Every setting the function reads, from environment variables, validated once at start-up.

A bad value fails INIT with one message naming the variable, its value and what is accepted, so a
misconfigured function never serves traffic half-working.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

# The model that `make model` writes and the image bakes in, relative to the directory above handler/
# (the repository locally, ${LAMBDA_TASK_ROOT} in the image), so the default is right in both places.
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "digits-cnn.onnx"

# Lambda's synchronous invocation payload limit is 6 MB (6,291,456 bytes) for the whole event, headers
# included; keep the body limit just under it so an oversized body gets our clear 413, not Lambda's.
LAMBDA_SYNC_PAYLOAD_BYTES = 6_291_456
DEFAULT_MAX_BODY_BYTES = 6_000_000

# Swagger UI's files for /docs (FastAPI's default source); DOCS_ASSETS_URL points elsewhere.
DEFAULT_DOCS_ASSETS_URL = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"

# Lambda allocates CPU in proportion to memory: 1,769 MB buys one full vCPU.
MB_PER_VCPU = 1769

# The environment variable of each setting, written here rather than by pydantic-settings' BaseSettings (2.16.3).
# Importing pydantic_settings adds 16.5-21 ms to the API function's cold path (median of 21 fresh processes on top
# of `import handler.entrypoint`, two runs; min 14.9 ms; 67-83 ms on top of pydantic alone): 32 modules, argparse,
# python-dotenv and every settings source it offers (CLI, dotenv, TOML, YAML, AWS, Azure, GCP secrets), for a
# runtime dependency of 642 kB installed plus python-dotenv's 120 kB (bench/dependency_costs.py imports). Nor would
# it replace this map cleanly: four names differ from their field's (ORT_, POWERTOOLS_, _SECONDS) and the tests read
# the names from here; an empty or blank value means the default but an empty prefix is the whole bucket
# (EMPTY_MEANS_EMPTY), where env_ignore_empty is one switch for every field and keeps a blank value; and
# settings_from_env reads whatever mapping it is given, where BaseSettings reads os.environ.
ENV_NAMES: dict[str, str] = {
    "model_path": "MODEL_PATH",
    "model_name": "MODEL_NAME",
    "model_version": "MODEL_VERSION",
    "default_model": "DEFAULT_MODEL",
    "intra_op_threads": "ORT_INTRA_OP_THREADS",
    "max_body_bytes": "MAX_BODY_BYTES",
    "max_batch_size": "MAX_BATCH_SIZE",
    "log_level": "LOG_LEVEL",
    "docs_assets_url": "DOCS_ASSETS_URL",
    "trace_inference": "TRACE_INFERENCE",
    "thin_path": "THIN_PATH",
    "service_name": "POWERTOOLS_SERVICE_NAME",
    "metrics_namespace": "POWERTOOLS_METRICS_NAMESPACE",
    "input_bucket": "INPUT_BUCKET",
    "input_prefix": "INPUT_PREFIX",
    "output_bucket": "OUTPUT_BUCKET",
    "output_prefix": "OUTPUT_PREFIX",
    "batch_chunk_records": "BATCH_CHUNK_RECORDS",
    "batch_chunk_bytes": "BATCH_CHUNK_BYTES",
    "max_record_bytes": "MAX_RECORD_BYTES",
    "batch_time_margin_s": "BATCH_TIME_MARGIN_SECONDS",
    "jobs_result_bucket": "JOBS_RESULT_BUCKET",
    "jobs_result_prefix": "JOBS_RESULT_PREFIX",
    "batch_label_column": "BATCH_LABEL_COLUMN",
    "batch_passthrough_columns": "BATCH_PASSTHROUGH_COLUMNS",
    "max_image_pixels": "MAX_IMAGE_PIXELS",
}

# Variables whose empty value is a value (the whole bucket), where an empty value elsewhere means "the default".
EMPTY_MEANS_EMPTY = ("input_prefix", "output_prefix")

# S3 bucket names: 3-63 lowercase letters, digits, dots and hyphens.
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
# A key prefix that names a folder: empty, or ending in "/" so "input/" never matches "input-old/".
PREFIX_PATTERN = r"^$|^[^/].*/$"
# The same, never empty: a prefix that confines writes must not be the whole bucket.
FOLDER_PATTERN = r"^[^/].*/$"


class SettingsError(ValueError):
    """A setting has a value the function cannot start with."""


class Settings(BaseModel):
    """The function's configuration; see the README's table of environment variables."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    model_path: Path = DEFAULT_MODEL_PATH
    model_name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")] | None = None
    model_version: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")] | None = None
    # With MODEL_PATH a directory: the model /predict, /health and batch scoring use (default: first by name).
    default_model: Annotated[str, Field(min_length=1)] | None = None
    intra_op_threads: Annotated[int, Field(ge=1, le=64)] | None = None
    max_body_bytes: Annotated[int, Field(ge=1024, le=LAMBDA_SYNC_PAYLOAD_BYTES)] = DEFAULT_MAX_BODY_BYTES
    max_batch_size: Annotated[int, Field(ge=1, le=1_000_000)] = 8192
    # An image model's largest image, in pixels (width x height), checked from the file's header before any
    # decoding: a few kilobytes of PNG can claim gigapixels (a decompression bomb). 4096 x 4096 decodes to 48 MiB.
    max_image_pixels: Annotated[int, Field(ge=1, le=1 << 30)] = 4096 * 4096
    log_level: str = "INFO"
    # Where /docs loads swagger-ui-bundle.js, swagger-ui.css and favicon-32x32.png from: a URL or a path.
    docs_assets_url: Annotated[str, Field(pattern=r"^(https?://[^\s\"'<>]+|/[^\s\"'<>]*)$")] = DEFAULT_DOCS_ASSETS_URL
    # Off by default: aws-xray-sdk builds a botocore client at import, ~270 ms of every cold start.
    trace_inference: bool = False
    # POST /predict and /v2/.../infer with JSON bodies answered without FastAPI (handler.thin_path); false: every
    # request through Mangum + FastAPI.
    thin_path: bool = True
    service_name: Annotated[str, Field(min_length=1)] = "onnx-lambda"
    metrics_namespace: Annotated[str, Field(min_length=1)] = "OnnxLambda"
    input_bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)] | None = None
    input_prefix: Annotated[str, Field(pattern=PREFIX_PATTERN)] = "input/"
    output_bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)] | None = None
    output_prefix: Annotated[str, Field(pattern=PREFIX_PATTERN)] = "output/"
    batch_chunk_records: Annotated[int, Field(ge=1, le=100_000)] = 2048
    # What one chunk of a batch file may hold, in bytes of input (lines or rows): with the decoded
    # records and the model's tensors a chunk costs a few times this, far under the batch function's
    # 3,538 MB (see the README's reliability table for the peak RSS measured on hostile files).
    batch_chunk_bytes: Annotated[int, Field(ge=64 * 1024, le=1024 * 1024 * 1024)] = 8 * 1024 * 1024
    max_record_bytes: Annotated[int, Field(ge=64, le=64 * 1024 * 1024)] = 1024 * 1024
    batch_time_margin_s: Annotated[float, Field(ge=0, le=600)] = 30.0
    # The one place an SQS job's result_uri may name: under this prefix of this bucket (by default
    # OUTPUT_BUCKET, else INPUT_BUCKET); with neither set, no job may name a result_uri.
    jobs_result_bucket: Annotated[str, Field(pattern=BUCKET_PATTERN)] | None = None
    jobs_result_prefix: Annotated[str, Field(pattern=FOLDER_PATTERN)] = "jobs/"
    # A batch file's column holding the true value: passed through to the predictions, and the counts its
    # metrics are made of go into each summary (onnx-lambda evaluate reads them).
    batch_label_column: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    # Comma-separated columns of a batch file passed through to its predictions (an id of one's own, a date).
    batch_passthrough_columns: Annotated[str, Field(max_length=4096)] = ""

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError("must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @model_validator(mode="after")
    def _outputs_apart_from_inputs(self) -> Settings:
        # Predictions written under the input prefix of the same bucket would be scored in turn, forever.
        same_bucket = self.output_bucket is None or self.output_bucket == self.input_bucket
        inside = self.output_prefix.startswith(self.input_prefix) or self.input_prefix.startswith(self.output_prefix)
        if same_bucket and inside:
            raise ValueError(
                f"OUTPUT_PREFIX {self.output_prefix!r} and INPUT_PREFIX {self.input_prefix!r} overlap in the same "
                "bucket, so outputs would be scored as inputs; use separate prefixes or set OUTPUT_BUCKET"
            )
        return self

    @model_validator(mode="after")
    def _job_results_apart(self) -> Settings:
        # A job's answer written over a prediction or a summary would forge it, and under the input
        # prefix it would be scored; the jobs' prefix must overlap neither.
        def overlap(a: str, b: str) -> bool:
            return a.startswith(b) or b.startswith(a)

        jobs, bucket = self.jobs_result_prefix, self.job_results_bucket()
        # Outputs go to OUTPUT_BUCKET, or beside their inputs when it is unset.
        if bucket == (self.output_bucket or self.input_bucket or bucket) and overlap(jobs, self.output_prefix):
            raise ValueError(f"JOBS_RESULT_PREFIX {jobs!r} and OUTPUT_PREFIX {self.output_prefix!r} overlap")
        if bucket == (self.input_bucket or bucket) and overlap(jobs, self.input_prefix):
            raise ValueError(f"JOBS_RESULT_PREFIX {jobs!r} and INPUT_PREFIX {self.input_prefix!r} overlap")
        return self

    def passthrough_columns(self) -> tuple[str, ...]:
        """BATCH_PASSTHROUGH_COLUMNS as names, blanks dropped."""
        return tuple(name.strip() for name in self.batch_passthrough_columns.split(",") if name.strip())

    def job_results_bucket(self) -> str | None:
        """Where SQS jobs' answers go: JOBS_RESULT_BUCKET, else the output bucket, else the input bucket."""
        return self.jobs_result_bucket or self.output_bucket or self.input_bucket

    def threads(self) -> int:
        """Intra-op threads: the setting, else the vCPUs the function's memory buys (at least one)."""
        if self.intra_op_threads is not None:
            return self.intra_op_threads
        cpus = os.cpu_count() or 1
        memory_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        if memory_mb.isdigit():
            cpus = min(cpus, max(1, math.ceil(int(memory_mb) / MB_PER_VCPU)))
        return cpus


def settings_from_env(environ: Mapping[str, str]) -> Settings:
    """Build settings from an environment mapping; raises SettingsError naming each bad variable."""
    raw: dict[str, str] = {field: environ[name] for field, name in ENV_NAMES.items() if environ.get(name, "").strip()}
    for field in EMPTY_MEANS_EMPTY:  # an empty prefix is the whole bucket, not "use the default"
        if environ.get(ENV_NAMES[field]) == "":
            raw[field] = ""
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            if not error["loc"]:  # a check across settings names its variables itself
                problems.append(str(error["msg"]).removeprefix("Value error, "))
                continue
            field = str(error["loc"][0])
            name = ENV_NAMES.get(field, field)
            problems.append(f"{name}={raw.get(field)!r}: {error['msg']}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once; tests build their own with settings_from_env instead."""
    return settings_from_env(os.environ)
