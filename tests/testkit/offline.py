"""The network refused for a module's tests, so "offline" is enforced, not only claimed in a docstring.

Imported into a test module, the autouse fixture ``offline`` makes every socket connection and name lookup in the
test process fail with NetworkUsed, and points the package clients its subprocesses could start (pip, uv) at no
index, configuration file or wheel folder at all. For tests that read only files the project holds (the locks,
the advisory data): their outcome then cannot depend on what a registry serves today.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

# What pip and uv read: no index, no configuration files (which may name more indexes or wheel folders), offline.
# A subprocess that tried to resolve anything would fail, not download.
OFFLINE_CLIENTS = {"PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull, "UV_OFFLINE": "1", "UV_NO_INDEX": "1"}
UNSET = tuple(
    f"{client}_{setting}" for client in ("PIP", "UV") for setting in ("INDEX_URL", "EXTRA_INDEX_URL", "FIND_LINKS")
)


class NetworkUsed(AssertionError):
    """A test meant to be offline tried to reach the network."""


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    where = next((arg for arg in args if isinstance(arg, tuple | str)), "?")
    raise NetworkUsed(f"this test must not use the network, and tried to reach {where!r}")


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    """The module's tests run with connections and name lookups refused, and pip and uv told to stay offline."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("connect", "connect_ex", "sendto"):
            patch.setattr(socket.socket, name, _refuse)
        for name in ("create_connection", "getaddrinfo", "gethostbyname"):
            patch.setattr(socket, name, _refuse)
        for key, value in OFFLINE_CLIENTS.items():
            patch.setenv(key, value)
        for key in UNSET:
            patch.delenv(key, raising=False)
        yield
