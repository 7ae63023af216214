"""The image's HEALTHCHECK (container hosts run it; Lambda ignores it): exit 0 when this container serves.

In HTTP mode (handler.http_host) healthy means GET /health answers 200, which it does only once INIT has loaded
and warmed up the model. In the Lambda mode the container runs AWS's runtime emulator, whose INIT waits for the
first invoke, so healthy means its invocations port takes connections. Standard library only, and nothing from
the handler is imported: the check must cost a fraction of a second of CPU every interval.

    python -m handler.healthcheck
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.error
import urllib.request
from pathlib import Path

TIMEOUT_S = 3.0


def serving_mode(pid1_cmdline: bytes) -> str:
    """The mode PID 1 serves in: "http" for the HTTP host, else "lambda" (the entry point and its emulator)."""
    return "http" if b"handler.http_host" in pid1_cmdline else "lambda"


def healthy(mode: str, port: int) -> bool:
    """Whether the server of ``mode`` on loopback ``port`` answers as a ready one does."""
    if mode == "lambda":
        try:
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S).close()
        except OSError:
            return False
        return True
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=TIMEOUT_S) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def main() -> None:
    """Exit 0 when healthy, 1 when not (what Docker's HEALTHCHECK reads)."""
    try:
        cmdline = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        cmdline = b""
    port = int(os.environ.get("PORT", "8080"))
    sys.exit(0 if healthy(serving_mode(cmdline), port) else 1)


if __name__ == "__main__":
    main()
