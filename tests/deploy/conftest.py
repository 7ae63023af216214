"""The fixtures and hooks of tests/deploy/: defined in tests/testkit/deploy_fixtures.py, where shared fixtures live;
imported here, which is how pytest gives them to this folder."""

from tests.testkit.deploy_fixtures import (  # noqa: F401
    layout,
    report,
)
