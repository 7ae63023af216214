"""GIVEN testkit.offline's fixture, as the lock and advisory tests import it WHEN a test reaches for the network
(a connection, a name lookup, a datagram) or starts pip THEN it fails at once with NetworkUsed, nothing is sent,
and pip is told there is no index nor any folder of wheels: those tests' outcome cannot come from a registry."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from tests.testkit.offline import NetworkUsed, offline  # noqa: F401 - autouse: this module's tests run offline


def test_a_connection_and_a_name_lookup_are_refused_naming_where_they_went() -> None:
    with pytest.raises(NetworkUsed, match=r"tried to reach \('registry\.invalid', 443\)"):
        socket.create_connection(("registry.invalid", 443), timeout=1)
    with pytest.raises(NetworkUsed):
        socket.getaddrinfo("registry.invalid", 443)
    with socket.socket() as probe, pytest.raises(NetworkUsed, match=r"127\.0\.0\.1"):
        probe.connect(("127.0.0.1", 9))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as datagram, pytest.raises(NetworkUsed):
        datagram.sendto(b"x", ("127.0.0.1", 9))


def test_pip_in_a_subprocess_finds_no_index_and_downloads_nothing(tmp_path: os.PathLike[str]) -> None:
    assert os.environ["PIP_NO_INDEX"] == "1"
    assert "PIP_FIND_LINKS" not in os.environ
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-d", str(tmp_path), "pip"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert list(os.scandir(tmp_path)) == []
