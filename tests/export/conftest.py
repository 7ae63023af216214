"""The fixtures and hooks of tests/export/: defined in tests/testkit/export_fixtures.py, where shared fixtures live;
imported here, which is how pytest gives them to this folder."""

from tests.testkit.export_fixtures import (  # noqa: F401
    classification_data,
    cli,
    net_module,
    read_metadata,
    run_onnx,
    tuned_digits,
)
