"""Headless Chromium for browser tests: Debian's build, installed on first use, driven by Playwright.

Playwright's own browser download (`playwright install`) cannot work on a closed network, and CI may run
on a fresh machine, so the tests drive Debian's ``chromium`` package and install it with apt-get when it
is missing. The flags below are the ones Chromium needs where the network is closed: without the
background-networking ones it keeps trying (and failing) to reach Google's hosts.

The /docs page loads Swagger UI's JavaScript and CSS from DOCS_ASSETS_URL, jsDelivr's CDN by default,
which a closed network cannot reach. ``keep_on_machine`` plays that CDN inside the browser, from a pinned
``swagger-ui-dist`` that npm fetches once into pytest's cache, so the page can be tested as a user with a
network sees it; ``static_host`` serves the same files as a user's own host would (DOCS_ASSETS_URL set);
any other request that leaves the machine is refused and recorded, so a test can see what the page needs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from tests.testkit.apt import apt_install
from tests.testkit.loopback import serving

# Debian's package; Playwright needs no chromedriver (it speaks the DevTools protocol to the browser itself).
CHROMIUM_PACKAGES = ("chromium",)
CHROMIUM_FLAGS = (
    "--no-sandbox",  # tests run as root in CI, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The Swagger UI FastAPI's page asks jsDelivr for (swagger-ui-dist@5: the newest 5.x), pinned with npm's hash.
SWAGGER_UI_DIST = "swagger-ui-dist@5.35.0"
SWAGGER_UI_INTEGRITY = "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ=="
SWAGGER_UI_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
SWAGGER_UI_CDN = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/"
CONTENT_TYPES = {".js": "application/javascript", ".css": "text/css", ".png": "image/png"}


def chromium_path() -> Path | None:
    """Debian's Chromium if it is installed (the package names its program ``chromium``)."""
    found = shutil.which("chromium")
    return Path(found) if found else None


def install_chromium() -> Path:
    """Install Debian's chromium with apt-get (the package lists first: a fresh machine has none); fails the test
    if the install fails or leaves no ``chromium`` on PATH."""
    apt_install(CHROMIUM_PACKAGES)
    path = chromium_path()
    if path is None:
        pytest.fail(f"apt-get installed {' '.join(CHROMIUM_PACKAGES)} but no `chromium` is on PATH")
    return path


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium, installed once per session when missing (never Playwright's own download)."""
    return chromium_path() or install_chromium()


@contextmanager
def browser_page(executable: Path, profile: Path) -> Iterator[Page]:
    """A page in headless Chromium with a new empty profile in PROFILE; the browser stops when the block ends."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(executable),
            headless=True,
            args=list(CHROMIUM_FLAGS),
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.set_default_timeout(30_000)
            yield page
        finally:
            context.close()


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def fetch_swagger_ui(cache: Path) -> Path:
    """SWAGGER_UI_FILES of SWAGGER_UI_DIST in CACHE, packed by npm on first use and checked against npm's hash;
    fails the test if npm is missing or the tarball is not the one pinned."""
    target = cache / SWAGGER_UI_DIST
    if all((target / name).is_file() for name in SWAGGER_UI_FILES):
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail(f"npm is missing: the Swagger UI test fetches {SWAGGER_UI_DIST} with it", pytrace=False)
    quiet = {"NPM_CONFIG_UPDATE_NOTIFIER": "false", "NPM_CONFIG_FUND": "false", "NPM_CONFIG_AUDIT": "false"}
    packed = subprocess.run(
        [npm, "pack", SWAGGER_UI_DIST, "--pack-destination", str(cache), "--silent"],
        env={**os.environ, **quiet},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if packed.returncode != 0:
        pytest.fail(f"`npm pack {SWAGGER_UI_DIST}` failed ({packed.returncode}):\n{packed.stderr[-2000:]}")
    tarball = cache / packed.stdout.strip().splitlines()[-1]
    if _integrity(tarball.read_bytes()) != SWAGGER_UI_INTEGRITY:
        pytest.fail(f"{tarball.name} is not the {SWAGGER_UI_DIST} pinned here (its sha512 differs)")
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(tarball) as archive:
        for name in SWAGGER_UI_FILES:
            source = archive.extractfile(f"package/{name}")
            assert source is not None, f"{tarball.name} has no package/{name}"
            (target / name).write_bytes(source.read())
    tarball.unlink()
    return target


@pytest.fixture(scope="session")
def swagger_ui_dist(request: pytest.FixtureRequest) -> Path:
    """The pinned Swagger UI files, kept in pytest's cache (.pytest_cache, git-ignored) across runs."""
    assert request.config.cache is not None, (
        "the Swagger UI test needs pytest's cache (do not run with -p no:cacheprovider)"
    )
    return fetch_swagger_ui(request.config.cache.mkdir("swagger-ui-dist"))


@contextmanager
def static_host(directory: Path) -> Iterator[str]:
    """DIRECTORY over HTTP on a free loopback port (a user's own host for Swagger UI's files); yields its URL."""
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietFiles, directory=str(directory)))) as url:
        yield url


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest output is for failures."""


@dataclass
class OutsideRequests:
    """What the page asked of hosts other than the server under test: served from the local copy, or refused."""

    served: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def keep_on_machine(page: Page, *local_origins: str, swagger_ui: Path | None = None) -> OutsideRequests:
    """Route every request of PAGE that leaves LOCAL_ORIGINS: jsDelivr's Swagger UI files from SWAGGER_UI (when
    given), everything else refused. Returns the record, filled in as the page loads."""
    record = OutsideRequests()

    def route(handled: Route) -> None:
        url = handled.request.url
        if _origin(url) in local_origins:
            handled.continue_()
            return
        name = url.removeprefix(SWAGGER_UI_CDN)
        if swagger_ui is not None and url.startswith(SWAGGER_UI_CDN) and name in SWAGGER_UI_FILES:
            record.served.append(url)
            body = (swagger_ui / name).read_bytes()
            handled.fulfill(status=200, body=body, content_type=CONTENT_TYPES[Path(name).suffix])
            return
        record.refused.append(url)
        handled.abort("internetdisconnected")

    page.route("**/*", route)
    return record


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
