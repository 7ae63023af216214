"""Debian packages a test needs, installed with apt-get when missing: CI may run on a fresh machine, which has none
of them and no package lists yet."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def as_root(command: list[str], packages: tuple[str, ...] = ()) -> list[str]:
    """COMMAND run as root: as it is when we are root, else through a sudo that asks no password; fails the test,
    naming what to install by hand, when neither is possible."""
    if os.geteuid() == 0:
        return command
    if shutil.which("sudo"):
        return ["sudo", "-n", *command]
    pytest.fail(f"this needs root: run `apt-get install -y {' '.join(packages)}` as root, then the tests again")


def apt_install(packages: tuple[str, ...]) -> None:
    """apt-get update, then install ``packages`` (no recommends); fails the test with apt's own words if it fails."""
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait = ["-o", "DPkg::Lock::Timeout=300"]  # unattended upgrades on a fresh machine may hold the lock a while
    for command in (
        ["apt-get", *wait, "update"],
        ["apt-get", *wait, "install", "-y", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(
            as_root(command, packages), env=env, capture_output=True, text=True, timeout=900, check=False
        )
        if done.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
