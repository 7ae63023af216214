"""The project's Dockerfile built and run unmodified with Debian's podman, FROM a stand-in for the Lambda base image
(``public.ecr.aws/lambda/python:3.13`` cannot be pulled here), for tests/deploy/test_container_image.py.

The stand-in is defined once, below: a Debian trixie root filesystem from mmdebstrap (Python 3.13, as the base image;
pip, ``python`` on PATH, libstdc++ for onnxruntime), AWS's runtime emulator from the aws-sam-cli wheel, the base
image's entry point, ENV and WORKDIR, and what it ships (testkit.lambda_base, at the dev lock's versions): the runtime
interface client in /var/runtime, started by /var/runtime/bootstrap, and the SDK (boto3 and its dependencies) where
the interpreter finds it without PYTHONPATH, as in the 3.11 and later base images (their site-packages): a plain
``python`` (HTTP mode) imports it too. Its image is tagged by a hash of that definition in a private podman store,
so a second run only retags it; the Dockerfile's own layers are cached there too.

What it takes from the registries, and why the verdict is still the project's: packages only, each by name and
pinned where the registry allows it. From PyPI: the image's own set (the Dockerfile's `pip --require-hashes` on
requirements/runtime.lock: those exact files or a refusal) and the base image's runtime packages at the dev lock's
versions (`--no-deps`, wheels only). From Debian: podman, runc and mmdebstrap, and the stand-in's trixie root
filesystem. Debian keeps no old versions to pin, so the stand-in's OS patch level is whatever trixie is; it stands in
for AWS's base image, which AWS also patches under the same tag, and the tests assert only what the Dockerfile
makes of it (the answers, the user, the writable folders, the sizes reported, not checked against a number). The
stand-in is built once per definition and machine (its tag below). This is the guide's own way to prove the
image without Docker; made opt-in it would leave `make test` with no proof that the Dockerfile builds and serves.

Podman runs with a private containers.conf (CONTAINERS_CONF): runc (crun fails on these hosts' cgroups) and Lambda's
own limits of 1024 file descriptors and 1024 processes (podman's defaults are above the host's hard limits, which
a root without CAP_SYS_RESOURCE cannot raise, and runc then fails to start anything).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.testkit.apt import apt_install, as_root
from tests.testkit.emulator import rie_binary
from tests.testkit.lambda_base import BOOTSTRAP, LAMBDA_USER, RUNTIME_PACKAGES, install_runtime_packages, runtime_pins
from tests.testkit.paths import REPO

APT_PACKAGES = ("podman", "runc", "mmdebstrap")  # runc named, so apt does not pick crun for podman's `crun | runc`
HOME = Path("/var/lib/containers/onnx-lambda-tests")  # private store: the tags below never replace a real pull
RUNROOT = Path("/run/onnx-lambda-tests")
CONTAINERS_CONF = """[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
runtime = "runc"
"""
SUITE = "trixie"  # Python 3.13, the base image's; the runtime lock has cp313 wheels
ROOTFS_PACKAGES = ("python3", "python-is-python3", "python3-pip", "libstdc++6")
UNDOCUMENTED = [f"--dpkgopt=path-exclude=/usr/share/{folder}/*" for folder in ("doc", "man", "locale", "info")]
MMDEBSTRAP = ["mmdebstrap", "--variant=essential", f"--include={','.join(ROOTFS_PACKAGES)}", *UNDOCUMENTED]
MMDEBSTRAP += [SUITE, "rootfs.tar", "http://deb.debian.org/debian"]
SDK = ("boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3")
RUNTIME_CLIENT = tuple(name for name in RUNTIME_PACKAGES if name not in SDK)  # awslambdaric and what it imports
STAND_IN = "localhost/onnx-lambda-stand-in"
BASE_TAGS = ("public.ecr.aws/lambda/python:3.13", "public.ecr.aws/lambda/python:3.11")
ENTRYPOINT = """#!/bin/sh
# The base image's /lambda-entrypoint.sh: the handler from CMD; AWS's emulator unless Lambda's Runtime API is there.
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
else
  exec /var/runtime/bootstrap
fi
"""
CONTAINERFILE = """FROM scratch
ADD rootfs.tar /
COPY runtime/ /var/runtime/
COPY sdk/ /usr/local/lib/python3.13/dist-packages/
COPY --chmod=0755 lambda-entrypoint.sh /lambda-entrypoint.sh
COPY --chmod=0755 aws-lambda-rie /usr/local/bin/aws-lambda-rie
ENV LANG=C.UTF-8 TZ=:/etc/localtime PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \\
    LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
ENTRYPOINT ["/lambda-entrypoint.sh"]
"""
# How Lambda runs a function: its uid, a read-only root, only /tmp writable (512 MB, the default ephemeral storage).
SANDBOX = ["--user", f"{LAMBDA_USER}:{LAMBDA_USER}", "--read-only", "--read-only-tmpfs=false"]
SANDBOX += ["--tmpfs", "/tmp:rw,size=512m,mode=1777"]
# What a kernel that refuses containers says, and what says a podman misconfigured here instead (crun: "cgroups in
# hybrid mode not supported"; the rlimits): a failure, not a skip.
REFUSED = re.compile(r"namespace|cgroup|unshare|clone|pivot_root|seccomp|mount", re.IGNORECASE)
NOT_THE_KERNEL = re.compile(r"crun|rlimit")


def _as_root(command: list[str]) -> list[str]:
    return as_root(command, APT_PACKAGES)


def install_tools() -> None:
    """podman, runc and mmdebstrap from Debian, installed with apt-get when one is missing (a fresh machine)."""
    if not all(shutil.which(name, path="/usr/bin:/usr/sbin:/bin") for name in APT_PACKAGES):
        apt_install(APT_PACKAGES)


@dataclass(frozen=True)
class Podman:
    """Podman on the private store and containers.conf."""

    def command(self, *args: str) -> list[str]:
        config = f"CONTAINERS_CONF={HOME / 'containers.conf'}"
        return _as_root(["env", config, "podman", "--root", str(HOME / "storage"), "--runroot", str(RUNROOT), *args])

    def __call__(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"podman {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-4000:]}")
        return done

    def size(self, image: str) -> int:
        return int(self("image", "inspect", "--format", "{{.Size}}", image).stdout)


def podman() -> Podman:
    """The tools installed, the private configuration written; a Podman to run them."""
    install_tools()
    write = f"mkdir -p {HOME / 'storage'} {RUNROOT} && cat > {HOME / 'containers.conf'}"
    subprocess.run(_as_root(["sh", "-c", write]), input=CONTAINERS_CONF, text=True, check=True, timeout=30)
    return Podman()


def stand_in_tag() -> str:
    """The stand-in's tag: a hash of everything that defines it."""
    digest = hashlib.sha256()
    for part in (*MMDEBSTRAP, ENTRYPOINT, CONTAINERFILE, BOOTSTRAP, *runtime_pins(), platform.machine()):
        digest.update(part.encode() + b"\0")
    digest.update(rie_binary().read_bytes())
    return f"{STAND_IN}:{digest.hexdigest()[:16]}"


def _stand_in_context(context: Path) -> None:
    """The build context of CONTAINERFILE: the root filesystem, /var/runtime, the emulator, the entry point."""
    done = subprocess.run(_as_root(MMDEBSTRAP), cwd=context, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"mmdebstrap failed ({done.returncode}):\n{done.stderr[-4000:]}"
    install_runtime_packages(context / "runtime", "3.13", RUNTIME_CLIENT)
    install_runtime_packages(context / "sdk", "3.13", SDK)
    (context / "runtime" / "bootstrap").write_text(BOOTSTRAP.format(runtime="/var/runtime", python="/usr/bin/python3"))
    (context / "runtime" / "bootstrap").chmod(0o755)
    (context / "lambda-entrypoint.sh").write_text(ENTRYPOINT)
    shutil.copy(rie_binary(), context / "aws-lambda-rie")
    (context / "Containerfile").write_text(CONTAINERFILE)


def stand_in_base(run: Podman) -> str:
    """The stand-in, built when its tag is not in the store, and tagged as each of BASE_TAGS."""
    tag = stand_in_tag()
    if run("image", "exists", tag, check=False).returncode != 0:
        with tempfile.TemporaryDirectory(prefix="onnx-lambda-stand-in-") as folder:
            _stand_in_context(Path(folder))
            run("build", "--format", "docker", "--pull=never", "-t", tag, "-f", "Containerfile", folder, timeout=600)
    for name in BASE_TAGS:
        run("tag", tag, name)
    return tag


def refuse_unless_containers_run(run: Podman, image: str) -> None:
    """Skip (saying why) when the kernel refuses a trivial container; fail on any other error."""
    done = run("run", "--rm", "--entrypoint", "true", image, check=False, timeout=120)
    if done.returncode != 0 and REFUSED.search(done.stderr) and not NOT_THE_KERNEL.search(done.stderr):
        pytest.skip(f"this kernel refuses containers: `podman run {image} true` said: {done.stderr.strip()[-1500:]}")
    assert done.returncode == 0, f"`podman run --rm {image} true` failed:\n{done.stderr[-4000:]}"


@functools.cache
def pip_index_settings() -> dict[str, str]:
    """This machine's pip index settings (its files and PIP_* variables) that make sense inside a build: index URLs
    but those naming this machine's folders (file:), and trusted hosts."""
    command = [sys.executable, "-m", "pip", "config", "list"]
    listed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    settings: dict[str, str] = {}
    for line in listed.stdout.splitlines():
        key, _, quoted = line.partition("=")
        name, value = key.rsplit(".", 1)[-1], quoted.strip("'\"")
        if name in {"index-url", "extra-index-url", "trusted-host"}:
            value = " ".join(word for word in value.split() if not word.startswith("file:"))
            if value:
                settings[name] = value
    return settings


@functools.cache
def certificates() -> Path:
    """The CA bundle this machine's pip trusts (where an egress proxy's own CA is added)."""
    command = [sys.executable, "-m", "pip", "config", "get", "global.cert"]
    listed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return Path(os.environ.get("PIP_CERT") or listed.stdout.strip() or "/etc/ssl/certs/ca-certificates.crt")


def build_volumes(folder: Path) -> list[str]:
    """``--volume`` options giving every RUN of a build this machine's CA bundle (over the base image's own file:
    Debian's pip reads it) and, when it has any, pip index settings (an /etc/pip.conf): the Dockerfile's pip then
    reaches an index as this machine's does. A file mounted over one the image has leaves nothing in the image."""
    volumes = ["--volume", f"{certificates()}:/etc/ssl/certs/ca-certificates.crt:ro"]
    settings = pip_index_settings()
    if settings:  # buildah leaves an empty /etc/pip.conf behind in each RUN's layer
        pip_conf = folder / "pip.conf"
        pip_conf.write_text("[global]\n" + "".join(f"{name} = {value}\n" for name, value in settings.items()))
        pip_conf.chmod(0o644)
        volumes += ["--volume", f"{pip_conf}:/etc/pip.conf:ro"]
    return volumes


@dataclass(frozen=True)
class Built:
    """What `podman build` printed and exited with, and the image's ID ("" when it failed)."""

    done: subprocess.CompletedProcess[str]
    image: str

    @property
    def output(self) -> str:
        return self.done.stdout + self.done.stderr


def build(run: Podman, tag: str, *build_args: str, timeout: float = 900) -> Built:
    """`podman build --pull=never -f Dockerfile -t TAG .` from the repository root (Docker's format: an OCI image
    drops HEALTHCHECK), with ``--build-arg`` for each of BUILD_ARGS; not checked. Its ID, not TAG, names the image
    built: another session may move TAG meanwhile."""
    with tempfile.TemporaryDirectory(prefix="onnx-lambda-build-") as folder:
        Path(folder).chmod(0o755)
        options = [option for argument in build_args for option in ("--build-arg", argument)]
        command = ["build", "--pull=never", "--format", "docker", *build_volumes(Path(folder)), *options]
        command += ["--iidfile", f"{folder}/iid", "-f", "Dockerfile", "-t", tag, str(REPO)]
        done = run(*command, timeout=timeout, check=False)
        iid = Path(folder, "iid")
        return Built(done, iid.read_text().strip() if done.returncode == 0 and iid.is_file() else "")


@dataclass(frozen=True)
class Container:
    """A running container and the loopback URL of its port 8080."""

    name: str
    url: str


@contextmanager
def container(run: Podman, name: str, port: int, *image_and_args: str) -> Iterator[Container]:
    """The image run detached as Lambda runs a function: uid 1051, a read-only root with only a 512 MB /tmp
    writable; its 8080 on loopback ``port``. Removed when the block ends; what it printed is added to an error."""
    run("rm", "-f", "-t", "0", name, check=False)
    run("run", "-d", "--name", name, *SANDBOX, "-p", f"127.0.0.1:{port}:8080", *image_and_args, timeout=120)
    try:
        yield Container(name, f"http://127.0.0.1:{port}")
    except Exception as error:
        printed = run("logs", name, check=False)
        raise AssertionError(f"{error}\n{name} printed:\n{printed.stdout[-3000:]}{printed.stderr[-3000:]}") from error
    finally:
        run("rm", "-f", "-t", "0", name, check=False, timeout=120)


def fetch(url: str, body: Any = None, timeout: float = 120) -> tuple[int, Any]:
    """GET ``url``, or POST ``body`` to it as JSON; (status, the answer as JSON, or its text). Connections refused
    or dropped (nothing listens yet, INIT under way) are tried again until ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    data = None if body is None else json.dumps(body).encode()
    while True:
        request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=max(1.0, deadline - time.monotonic())) as response:
                return response.status, _parsed(response.read())
        except urllib.error.HTTPError as error:
            return error.code, _parsed(error.read())
        except (urllib.error.URLError, ConnectionError) as error:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer in {timeout} s: {error}") from error
            time.sleep(0.1)


def _parsed(answer: bytes) -> Any:
    try:
        return json.loads(answer or b"null")
    except ValueError:
        return answer.decode(errors="replace")
