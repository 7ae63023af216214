"""The fixtures and hooks of the whole suite: defined in tests/testkit/suite_fixtures.py, where shared fixtures live;
imported here, which is how pytest gives them to this folder."""

from tests.testkit.suite_fixtures import (  # noqa: F401
    aws,
    default_model,
    moto,
    names_model,
    pytest_configure,
    pytest_runtest_logreport,
    pytest_terminal_summary,
    shapes_model,
)
