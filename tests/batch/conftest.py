"""The fixtures and hooks of tests/batch/: defined in tests/testkit/batch_fixtures.py, where shared fixtures live;
imported here, which is how pytest gives them to this folder."""

from tests.testkit.batch_fixtures import (  # noqa: F401
    digits,
    entry,
    expected_probabilities,
    fault_report,
)
