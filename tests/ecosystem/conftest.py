"""The fixtures and hooks of tests/ecosystem/: defined in tests/testkit/client_fixtures.py, where shared fixtures live;
imported here, which is how pytest gives them to this folder."""

from tests.testkit.client_fixtures import (  # noqa: F401
    curl,
    digits,
    lambda_handler,
    oracle,
    server,
    session,
)
