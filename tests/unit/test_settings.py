"""GIVEN environment variables WHEN settings are read THEN good values apply and bad ones name themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from handler.settings import DEFAULT_MAX_BODY_BYTES, DEFAULT_MODEL_PATH, SettingsError, settings_from_env


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = settings_from_env({})
    assert settings.model_path == DEFAULT_MODEL_PATH
    assert settings.max_body_bytes == DEFAULT_MAX_BODY_BYTES
    assert settings.log_level == "INFO"
    assert settings.model_name is None


def test_values_are_read_from_their_variables() -> None:
    settings = settings_from_env(
        {"MODEL_PATH": "/opt/m.onnx", "MODEL_NAME": "mnist", "ORT_INTRA_OP_THREADS": "3", "LOG_LEVEL": "debug"}
    )
    assert settings.model_path == Path("/opt/m.onnx")
    assert settings.model_name == "mnist"
    assert settings.threads() == 3
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"ORT_INTRA_OP_THREADS": "many"}, "ORT_INTRA_OP_THREADS='many'"),
        ({"ORT_INTRA_OP_THREADS": "0"}, "ORT_INTRA_OP_THREADS='0': Input should be greater than or equal to 1"),
        ({"MAX_BODY_BYTES": "99999999"}, "MAX_BODY_BYTES='99999999': Input should be less than or equal to 6291456"),
        ({"MAX_BATCH_SIZE": "-4"}, "MAX_BATCH_SIZE='-4'"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD': Value error, must be one of DEBUG"),
        ({"MODEL_NAME": "has spaces"}, "MODEL_NAME='has spaces'"),
        ({"DOCS_ASSETS_URL": "javascript:void"}, "DOCS_ASSETS_URL='javascript:void': String should match"),
        ({"DOCS_ASSETS_URL": 'https://x/"><script>'}, "DOCS_ASSETS_URL="),
    ],
)
def test_a_bad_value_fails_with_the_variable_its_value_and_what_is_accepted(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message.replace("(", r"\(")):
        settings_from_env(env)


def test_threads_follow_the_memory_lambda_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "1024")
    assert settings_from_env({}).threads() == 1
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3538")
    assert settings_from_env({}).threads() == 2
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
    assert settings_from_env({}).threads() == 6


def test_an_empty_input_prefix_is_the_whole_bucket_not_the_default() -> None:
    """The template's InputPrefix allows "" (the whole input bucket): it must not be read as input/."""
    settings = settings_from_env({"INPUT_PREFIX": "", "INPUT_BUCKET": "in-bucket", "OUTPUT_BUCKET": "out-bucket"})
    assert settings.input_prefix == ""
    assert settings_from_env({}).input_prefix == "input/"  # unset is still the default
    with pytest.raises(SettingsError, match="OUTPUT_PREFIX 'output/' and INPUT_PREFIX '' overlap"):
        settings_from_env({"INPUT_PREFIX": "", "INPUT_BUCKET": "one-bucket"})  # outputs would be scored as inputs
