"""A stand-in for the Lambda base image's file layout, built here from the Dockerfile's own lines, for AWS's runtime
emulator to run (tests/deploy/test_runtime_emulator.py) where no registry can serve the real base image.

- ``var/task``: the final stage's instructions interpreted one by one: the dependencies stage's pip line (the
  runtime lock, installed and pruned as the image does), each ``COPY`` with the mode its ``--chmod`` gives (so a
  model exported under umask 077 is readable, or not, exactly as in the image), the ``RUN`` that compiles the
  bytecode. An instruction this does not know fails, so the layout cannot drift from the Dockerfile unseen.
- ``var/runtime``: what the base image ships there: the runtime interface client and boto3, at the versions the
  dev lock pins (the base image's own), and a ``bootstrap`` that starts the client on ``$_HANDLER``.
- The interpreter: Debian's /usr/bin/python3 (a uid without a home can run it), the stand-in for /var/lang.
"""

from __future__ import annotations

import json
import platform
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.testkit.apt import apt_install
from tests.testkit.image import install_like_the_image
from tests.testkit.locks import DEV_LOCK, read_lock
from tests.testkit.paths import REPO
from tests.testkit.template import dockerfile_instructions, resolved_environment

# What the base image has in /var/runtime (besides its own bootstrap), by the dev lock's names.
RUNTIME_PACKAGES = ("awslambdaric", "simplejson", "snapshot-restore-py", "boto3", "botocore", "s3transfer")
RUNTIME_PACKAGES += ("jmespath", "python-dateutil", "six", "urllib3")
BOOTSTRAP = """#!/bin/sh
# Stand-in for the base image's /var/runtime/bootstrap: the runtime interface client on the image's handler.
export PYTHONPATH="{runtime}"
exec "{python}" -m awslambdaric "$_HANDLER"
"""
LAMBDA_USER = 1051  # the uid Lambda runs a function as (sbx_user1051)


@dataclass(frozen=True)
class Layout:
    """A laid-out stand-in root: where its task root and runtime are, and the interpreter they run on."""

    root: Path
    python: str

    @property
    def task_root(self) -> Path:
        return self.root / "var" / "task"

    @property
    def runtime(self) -> Path:
        return self.root / "var" / "runtime"

    @property
    def bootstrap(self) -> Path:
        return self.runtime / "bootstrap"

    def environment(
        self, function: str = "ApiFunction", resolved: dict[str, str] | None = None, **extra: str
    ) -> dict[str, str]:
        """What the function's process gets: the template's variables (references as ``resolved`` names them), the
        Dockerfile's ENV and the base image's own (LAMBDA_TASK_ROOT, _HANDLER from CMD, AWS_EXECUTION_ENV), with
        /var/task pointing at this task root; ``extra`` last."""
        image_env = dict(args.split("=", 1) for keyword, args in final_stage() if keyword == "ENV")
        values = {**resolved_environment(function, resolved), **image_env}
        environment = {name: value.replace("/var/task", str(self.task_root)) for name, value in values.items()}
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LAMBDA_TASK_ROOT": str(self.task_root),
            "LAMBDA_RUNTIME_DIR": str(self.runtime),
            "_HANDLER": handler_name(),
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            **environment,
            **extra,
        }


def final_stage() -> list[tuple[str, str]]:
    """The instructions after the Dockerfile's last FROM."""
    instructions = dockerfile_instructions()
    last = max(index for index, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last + 1 :]


def handler_name() -> str:
    """The image's CMD: the handler the base image's entry point passes to the runtime."""
    [command] = [args for keyword, args in final_stage() if keyword == "CMD"]
    words: list[str] = json.loads(command)
    return words[0]


def system_python() -> str:
    """Debian's python3, installed with apt-get if missing (CI may run on a fresh machine)."""
    found = shutil.which("python3", path="/usr/bin")
    if found is None:
        apt_install(("python3",))
        found = shutil.which("python3", path="/usr/bin")
    assert found is not None, "no /usr/bin/python3 even after apt-get install python3"
    return found


def python_version(python: str) -> str:
    script = "import sys; print('%d.%d' % sys.version_info[:2])"
    return subprocess.run([python, "-c", script], check=True, capture_output=True, text=True).stdout.strip()


def _chmod_tree(path: Path, mode: int) -> None:
    for item in [path, *path.rglob("*")] if path.is_dir() else [path]:
        item.chmod(mode)


def _copy(source: Path, destination: Path, mode: int | None, context: bool = True) -> None:
    """COPY: a folder of the build context without what .dockerignore leaves out of it."""
    if source.is_dir():
        ignored = shutil.ignore_patterns("__pycache__", "*.pyc", *dockerignored(source)) if context else None
        shutil.copytree(source, destination, ignore=ignored, dirs_exist_ok=True)
    else:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, destination)
    if mode is not None:
        _chmod_tree(destination, mode)


def dockerignored(folder: Path) -> list[str]:
    """The names .dockerignore leaves out of ``folder`` (its plain path lines under it)."""
    relative = folder.resolve().relative_to(REPO).as_posix() + "/"
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line[len(relative) :] for line in lines if line.startswith(relative) and "*" not in line]


def _run_copy(args: str, layout: Layout, installed: Path, model: Path) -> None:
    words = shlex.split(args)
    flags = {word.split("=", 1)[0]: word.split("=", 1)[1] for word in words if word.startswith("--")}
    *sources, destination = [word for word in words if not word.startswith("--")]
    mode = int(flags["--chmod"], 8) if "--chmod" in flags else None
    target = Path(destination.replace("${LAMBDA_TASK_ROOT}", str(layout.task_root)))
    for source in sources:
        if flags.get("--from") == "dependencies":
            assert source == "/opt/runtime", f"unknown path {source!r} from the dependencies stage"
            _copy(installed, target, mode, context=False)
        else:
            _copy(model if source == "${MODEL_FILE}" else REPO / source, target, mode)


def lay_out(root: Path, model: Path) -> Layout:
    """Build the stand-in under ``root`` (world-readable, as / is) for serving ``model``."""
    python = system_python()
    layout = Layout(root, python)
    layout.task_root.mkdir(parents=True)
    installed = root / "opt" / "runtime"
    result = install_like_the_image(platform.machine(), installed, python_version(python))
    assert result.returncode == 0, result.stderr[-3000:]
    for keyword, args in final_stage():
        if keyword == "COPY":
            _run_copy(args, layout, installed, model)
        elif keyword == "RUN":
            command = args.replace("${LAMBDA_TASK_ROOT}", str(layout.task_root)).replace("python ", f"{python} ", 1)
            subprocess.run(shlex.split(command), check=True, timeout=120)
        else:
            assert keyword in {"ARG", "ENV", "CMD", "HEALTHCHECK", "EXPOSE", "LABEL"}, f"{keyword} {args}: unknown here"
    _install_runtime(layout)
    return layout


def runtime_pins(names: tuple[str, ...] = RUNTIME_PACKAGES) -> list[str]:
    """``name==version`` for each of ``names`` (RUNTIME_PACKAGES or some of them), as the dev lock pins them: the
    base image's own versions."""
    lock = read_lock(DEV_LOCK)
    pins = [f"{pin.name}=={pin.version}" for pin in lock.pins if pin.name in names]
    assert len(pins) == len(names), pins
    return pins


def install_runtime_packages(target: Path, version: str, names: tuple[str, ...] = RUNTIME_PACKAGES) -> None:
    """What the base image ships (``names``: RUNTIME_PACKAGES or some of them, at runtime_pins), installed into
    ``target`` as wheels for this machine's architecture and Python ``version`` (3.13, ...), whatever the
    interpreter running this is."""
    arch = platform.machine()
    command = ["pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:"]
    command += ["--target", str(target), "--python-version", version]
    command += [f"--platform=manylinux_2_{minor}_{arch}" for minor in (34, 28, 17)]
    command.append(f"--platform=manylinux2014_{arch}")
    command += runtime_pins(names)
    done = subprocess.run([sys.executable, "-m", *command], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]


def _install_runtime(layout: Layout) -> None:
    install_runtime_packages(layout.runtime, python_version(layout.python))
    layout.bootstrap.write_text(BOOTSTRAP.format(runtime=layout.runtime, python=layout.python))
    layout.bootstrap.chmod(0o755)


@contextmanager
def stand_in_root(prefix: str) -> Iterator[Path]:
    """An empty directory every uid can traverse (pytest's own temporary folders are root's alone)."""
    root = Path(tempfile.mkdtemp(prefix=prefix))
    root.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)
