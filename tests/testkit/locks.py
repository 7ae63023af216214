"""The project's three locks, read offline: what each pins (and where), the hashes, the command that made it,
and whether the pins close over what pyproject.toml and the installed packages ask for.

Why offline: re-resolving against the registry gives a new answer whenever the registry changes (a release a
mirror dates before the cut-off, a yank), with no change to the project; the test that did so failed every
clean clone on a packaging 26.4 nobody asked for (issue 14). What a lock promises is checked here against
pyproject.toml, the Makefile and the metadata of the installed packages instead, none of which moves unless
the project does. The live re-resolution is `make lock-check`, opt-in.

Locks:
- runtime.lock: what the image installs (`pip --no-deps --require-hashes`): complete, nothing stale, hashed.
- dev.lock: the project venv's constraints (every extra, the runtime pins as runtime.lock has them).
- tools.lock: the deploy tools' venv constraints (SAM CLI, cfn-lint, checkov, uv).
"""

from __future__ import annotations

import re
import shlex
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.testkit.paths import REPO

REQUIREMENTS = REPO / "requirements"
RUNTIME_LOCK = REQUIREMENTS / "runtime.lock"
DEV_LOCK = REQUIREMENTS / "dev.lock"
TOOLS_LOCK = REQUIREMENTS / "tools.lock"
Environment = Mapping[str, str]
HERE: Environment = default_environment()
_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)(?:\s*;\s*(.*?))?\s*((?:--hash=\S+\s*)*)$")


def normalize_name(name: str) -> str:
    """PEP 503 name: lower case, runs of "-", "_" and "." become one "-" (so Typing_Extensions is typing-extensions)."""
    return canonicalize_name(name)


def linux(python: str, machine: str) -> Environment:
    """The marker environment of CPython ``python`` (such as "3.13") on Linux ``machine`` (aarch64, x86_64)."""
    return {
        **HERE,
        "python_version": python,
        "python_full_version": f"{python}.0",
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }


@dataclass(frozen=True)
class Pin:
    """One `name==version [; marker]` entry of a lock, with its hashes."""

    name: str
    version: str
    marker: Marker | None
    hashes: tuple[str, ...]

    def applies(self, environment: Environment) -> bool:
        return self.marker is None or self.marker.evaluate(dict(environment))


@dataclass(frozen=True)
class Lock:
    """A lock file as uv writes it: the command in its header, then its pins."""

    name: str
    command: tuple[str, ...]
    pins: tuple[Pin, ...]

    def pinned(self, name: str, environment: Environment) -> Pin | None:
        """The pin of ``name`` that applies in ``environment`` (uv writes one per marker-disjoint case)."""
        wanted = normalize_name(name)
        return next((pin for pin in self.pins if pin.name == wanted and pin.applies(environment)), None)

    def versions(self, environment: Environment) -> dict[str, str]:
        """name -> version of every pin that applies in ``environment``."""
        return {pin.name: pin.version for pin in self.pins if pin.applies(environment)}


def parse_lock(text: str, name: str = "lock") -> Lock:
    """A lock's text: continuation lines joined, comments dropped; the header's command kept (the line that
    follows uv's "via the following command:")."""
    lines = text.splitlines()
    header = next((line for line in lines if re.match(r"^#\s+uv pip compile ", line)), "")
    logical = re.sub(r"\\\n", " ", "\n".join(line for line in lines if not line.lstrip().startswith("#")))
    pins = []
    for line in logical.splitlines():
        found = _ENTRY.match(line.strip())
        if found:
            marker = Marker(found[3]) if found[3] else None
            hashes = tuple(re.findall(r"--hash=(\S+)", found[4]))
            pins.append(Pin(normalize_name(found[1]), found[2], marker, hashes))
    return Lock(name, tuple(shlex.split(header.lstrip("# "))), tuple(pins))


def read_lock(path: Path) -> Lock:
    return parse_lock(path.read_text(encoding="utf-8"), path.name)


def command_of(args: Iterable[str]) -> tuple[str, ...]:
    """A uv command line as its header records it: the program as plain `uv`, without --quiet."""
    words = list(args)
    return ("uv", *[word for word in words[1:] if word != "--quiet"])


def make_lock_commands() -> dict[str, tuple[str, ...]]:
    """What `make lock` runs (`make -n`: printed, not run), by the file each command writes."""
    printed = subprocess.run(["make", "-n", "lock"], cwd=REPO, capture_output=True, text=True, check=True, timeout=60)
    commands = [shlex.split(line) for line in printed.stdout.splitlines() if "uv pip compile" in line]
    return {Path(words[words.index("-o") + 1]).name: command_of(words) for words in commands}


@dataclass(frozen=True)
class Installed:
    """What a venv holds of one distribution: enough to walk its requirements and judge its wheel."""

    version: str
    requires: tuple[str, ...]
    pure: bool = True


def installed_packages(site_packages: Path | None = None) -> dict[str, Installed]:
    """Every distribution in ``site_packages`` (this interpreter's when None), by normalized name."""
    found = metadata.distributions(path=[str(site_packages)]) if site_packages else metadata.distributions()
    packages = {}
    for dist in found:
        wheel = dist.read_text("WHEEL") or ""
        pure = all(tag.endswith("-none-any") for tag in re.findall(r"^Tag:\s*(\S+)", wheel, re.MULTILINE))
        packages[normalize_name(dist.metadata["Name"])] = Installed(dist.version, tuple(dist.requires or ()), pure)
    return packages


@dataclass
class Walk:
    """The requirements reached from a set of roots through the installed metadata, in one environment."""

    edges: list[tuple[str, Requirement]] = field(default_factory=list)
    unreadable: set[str] = field(default_factory=set)

    @property
    def reached(self) -> set[str]:
        return {normalize_name(requirement.name) for _, requirement in self.edges}


def _needed(requirement: Requirement, extra: str | None, environment: Environment) -> bool:
    """Whether a package's ``requirement`` is asked for in ``environment`` by the package itself (``extra`` None)
    or only by its extra ``extra``."""
    marker = requirement.marker
    if marker is None:
        return extra is None
    itself = marker.evaluate({**environment, "extra": ""})
    return itself if extra is None else not itself and marker.evaluate({**environment, "extra": extra})


def walk(roots: Iterable[str], installed: Mapping[str, Installed], environment: Environment) -> Walk:
    """Every (who asked, requirement) reachable from ``roots`` (requirement strings pyproject.toml asks for)
    in ``environment``; a reached package missing from ``installed`` lands in ``unreadable``."""
    result, seen = Walk(), set()
    asked = [Requirement(root) for root in roots]
    queue = [("pyproject.toml", root) for root in asked if _needed(root, None, environment)]
    while queue:
        parent, requirement = queue.pop()
        result.edges.append((parent, requirement))
        name = normalize_name(requirement.name)
        for extra in (None, *sorted(requirement.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            package = installed.get(name)
            if package is None:
                result.unreadable.add(name)
                continue
            wanted = [Requirement(text) for text in package.requires]
            queue += [(name, child) for child in wanted if _needed(child, extra, environment)]
    return result


def closure_problems(lock: Lock, found: Walk, environment: Environment, left_out: Iterable[str] = ()) -> list[str]:
    """Each requirement of ``found`` the lock does not pin in ``environment`` at a version it allows."""
    skip, problems = {normalize_name(name) for name in left_out}, []
    for parent, requirement in found.edges:
        name = normalize_name(requirement.name)
        pin = lock.pinned(name, environment)
        if name in skip:
            continue
        if pin is None:
            problems.append(f"{lock.name} has no pin for {name}, which {parent} asks for (`{requirement}`)")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{lock.name} pins {name}=={pin.version}, which {parent}'s `{requirement}` does not allow")
    return problems


def version_problems(lock: Lock, installed: Mapping[str, Installed], names: Iterable[str], where: str) -> list[str]:
    """Each of ``names`` installed at another version than the lock pins here (a local label such as +cpu aside)."""
    problems = []
    for name in sorted(set(names)):
        pin, package = lock.pinned(name, HERE), installed.get(name)
        if pin is not None and package is not None and Version(package.version).public != pin.version:
            problems.append(f"{where} has {name} {package.version}; {lock.name} pins {pin.version}")
    return problems


def pyproject_roots(project: Mapping[str, object], extras: Iterable[str] = ()) -> list[str]:
    """The requirement strings of pyproject.toml's [project] table: its dependencies, plus each extra named."""
    roots = list(project.get("dependencies", []))  # type: ignore[call-overload]
    groups: Mapping[str, list[str]] = project.get("optional-dependencies", {})  # type: ignore[assignment]
    for extra in extras:
        roots += groups[extra]
    return roots


def requirement_lines(path: Path) -> list[str]:
    """The requirement lines of a pip requirements file (comments and blank lines dropped)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line]


def options(command: Iterable[str], flag: str) -> list[str]:
    """Every value given to ``flag`` in a command line (`--no-emit-package boto3 --no-emit-package six`)."""
    words = list(command)
    return [words[index + 1] for index, word in enumerate(words[:-1]) if word == flag]


def stale_pins(lock: Lock, walks: Iterable[Walk], environments: Iterable[Environment]) -> set[str]:
    """Pins that apply in some environment yet no walk reaches: installed by `-r`, asked for by nothing."""
    reached = set().union(*(found.reached for found in walks))
    applying = {pin.name for pin in lock.pins for environment in environments if pin.applies(environment)}
    return applying - reached
