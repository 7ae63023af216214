"""An offline vulnerability audit of requirements/runtime.lock against requirements/advisories.json.

Why this exists: pip-audit needs the PyPI JSON API or the OSV API, and this machine reaches only a PyPI *simple*
index mirror. So the advisories for every locked package were collected once from stored copies of the PyPA
advisory database (and the GitHub advisory database where it could be read), written down compactly in
requirements/advisories.json, and this module evaluates them the way OSV does. The data file says which sources
were read, how, and how fresh they were; refreshing it is a deliberate, reviewed edit.

Range semantics (OSV "ECOSYSTEM" ranges, PEP 440 ordering through packaging.version.Version): walking the events
sorted by version, a version is affected from an "introduced" (inclusive; "0" means from the first release) up to
the next "fixed" (exclusive) or "last_affected" (inclusive); a range with no closing event stays open. An advisory
that lists explicit "versions" also affects exactly those versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.version import Version

from tests.testkit import locks
from tests.testkit.locks import HERE, RUNTIME_LOCK, normalize_name
from tests.testkit.paths import REPO

DATA = REPO / "requirements" / "advisories.json"

# An OSV event is a one-key mapping: {"introduced": v}, {"fixed": v} or {"last_affected": v}.
Event = Mapping[str, str]
EVENT_KINDS = ("introduced", "fixed", "last_affected")


def parse_lock(text: str) -> dict[str, str]:
    """Every `name==version` pin of a lock's text, by normalized name; hashes and comments are not pins."""
    return dict(locks.parse_lock(text).versions(HERE))


@dataclass(frozen=True)
class Advisory:
    """One advisory as our data file keeps it: enough to decide "affected?" and to say what to upgrade to."""

    id: str
    aliases: tuple[str, ...]
    summary: str
    ranges: tuple[Mapping[str, str], ...]
    versions: tuple[str, ...]

    @property
    def fixed(self) -> tuple[str, ...]:
        """Every version that closes one of the ranges."""
        return tuple(interval["fixed"] for interval in self.ranges if "fixed" in interval)

    def fixed_for(self, version: str) -> tuple[str, ...]:
        """What to upgrade to from this version: the fix of each range that contains it ("none (open range)" when a
        range has no closing event), or every known fix when only the explicit versions list matched."""
        parsed = Version(version)
        containing = [interval for interval in self.ranges if is_affected(parsed, interval_events(interval))]
        if not containing:
            return self.fixed
        return tuple(interval.get("fixed", "none (open range)") for interval in containing)

    def names(self) -> set[str]:
        """The id and every alias, so an acceptance may name the advisory by either."""
        return {self.id, *self.aliases}


@dataclass(frozen=True)
class Acceptance:
    """A finding the project has looked at and accepted, with the written reason a reviewer can check."""

    package: str
    id: str
    reason: str


@dataclass(frozen=True)
class Finding:
    """A locked package version that an advisory covers."""

    package: str
    version: str
    advisory: Advisory

    def __str__(self) -> str:
        fixed = ", ".join(self.advisory.fixed_for(self.version)) or "none"
        aliases = ", ".join(self.advisory.aliases) or "no aliases"
        summary = self.advisory.summary
        return f"{self.package}=={self.version}: {self.advisory.id} ({aliases}), fix versions: {fixed}: {summary}"


@dataclass(frozen=True)
class AdvisoryData:
    """requirements/advisories.json, parsed: advisories by normalized package name plus the accepted findings."""

    generated: str
    sources: tuple[Mapping[str, Any], ...]
    packages: Mapping[str, tuple[Advisory, ...]]
    accepted: tuple[Acceptance, ...]


def _advisory(raw: Mapping[str, Any]) -> Advisory:
    """One advisory from its JSON form; every range must be a known interval shape so a typo cannot pass silently."""
    ranges = tuple(dict(interval) for interval in raw.get("ranges", []))
    for interval in ranges:
        unknown = set(interval) - set(EVENT_KINDS)
        if unknown or "introduced" not in interval or ("fixed" in interval and "last_affected" in interval):
            raise ValueError(f"{raw['id']}: a range is {{introduced[, fixed | last_affected]}}, got {interval}")
    return Advisory(
        id=raw["id"],
        aliases=tuple(raw.get("aliases", [])),
        summary=raw.get("summary", ""),
        ranges=ranges,
        versions=tuple(raw.get("versions", [])),
    )


def parse_data(raw: Mapping[str, Any]) -> AdvisoryData:
    """The data file's JSON object as typed records (package names normalized)."""
    packages = {
        normalize_name(name): tuple(_advisory(item) for item in items) for name, items in raw["packages"].items()
    }
    accepted = tuple(
        Acceptance(package=normalize_name(item["package"]), id=item["id"], reason=item["reason"])
        for item in raw.get("accepted", [])
    )
    return AdvisoryData(raw["generated"], tuple(raw["sources"]), packages, accepted)


def load_data(path: Path = DATA) -> AdvisoryData:
    """Read and parse requirements/advisories.json (or another file of the same shape)."""
    return parse_data(json.loads(path.read_text(encoding="utf-8")))


def load_lock(path: Path = RUNTIME_LOCK) -> dict[str, str]:
    """The runtime set the Lambda image installs: normalized name -> pinned version."""
    return parse_lock(path.read_text(encoding="utf-8"))


def _event_key(event: Event) -> tuple[int, Version]:
    """Sort key for OSV events: introduced "0" before any real version, then PEP 440 order."""
    ((kind, value),) = event.items()
    if kind == "introduced" and value == "0":
        return (0, Version("0"))
    return (1, Version(value))


def is_affected(version: Version, events: Sequence[Event]) -> bool:
    """The OSV evaluation of one ECOSYSTEM range: walk the events in version order and keep the last state that
    applies to `version` (affected after an introduced <= version; cleared by a fixed <= version or by a
    last_affected < version)."""
    affected = False
    for event in sorted(events, key=_event_key):
        ((kind, value),) = event.items()
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown OSV event {event}")
        if kind == "introduced":
            affected = affected or value == "0" or version >= Version(value)
        else:
            # A fixed version is no longer affected; a last_affected version still is.
            closed = version >= Version(value) if kind == "fixed" else version > Version(value)
            affected = affected and not closed
    return affected


def interval_events(interval: Mapping[str, str]) -> list[Event]:
    """The data file's compact {introduced, fixed|last_affected} interval as the OSV event list it stands for."""
    return [{kind: interval[kind]} for kind in EVENT_KINDS if kind in interval]


def applies(advisory: Advisory, version: str) -> bool:
    """Whether the advisory covers this version: any of its intervals, or its explicit versions list.

    Each interval is walked on its own: two stored copies of one advisory can disagree (one says fixed 1.10.0, the
    other 1.21.0rc1), and keeping both intervals is the conservative union; merging them into one event list would
    let the earlier "fixed" cancel the later interval.
    """
    parsed = Version(version)
    if any(parsed == Version(listed) for listed in advisory.versions):
        return True
    return any(is_affected(parsed, interval_events(interval)) for interval in advisory.ranges)


def audit(pins: Mapping[str, str], packages: Mapping[str, Sequence[Advisory]]) -> list[Finding]:
    """Every (package, advisory) pair where the pinned version is affected, sorted for a stable report."""
    findings = [
        Finding(normalize_name(name), version, advisory)
        for name, version in pins.items()
        for advisory in packages.get(normalize_name(name), ())
        if applies(advisory, version)
    ]
    return sorted(findings, key=lambda finding: (finding.package, finding.advisory.id))


def accepted_by(finding: Finding, accepted: Iterable[Acceptance]) -> Acceptance | None:
    """The acceptance that covers this finding (same package, advisory id or alias), if the project wrote one."""
    for acceptance in accepted:
        if acceptance.package == finding.package and acceptance.id in finding.advisory.names():
            return acceptance
    return None


def split_accepted(
    findings: Iterable[Finding], accepted: Sequence[Acceptance]
) -> tuple[list[Finding], list[tuple[Finding, Acceptance]]]:
    """Findings nobody has accepted (these fail the audit) and the accepted ones with their reasons (these are
    printed, so a written reason is never silent)."""
    open_findings: list[Finding] = []
    with_reason: list[tuple[Finding, Acceptance]] = []
    for finding in findings:
        acceptance = accepted_by(finding, accepted)
        if acceptance is None:
            open_findings.append(finding)
        else:
            with_reason.append((finding, acceptance))
    return open_findings, with_reason


def all_versions(packages: Mapping[str, Sequence[Advisory]]) -> list[str]:
    """Every version string the data mentions, so a test can check that each one parses under PEP 440."""
    return [
        value
        for advisories in packages.values()
        for advisory in advisories
        for value in (*advisory.versions, *(v for interval in advisory.ranges for v in interval.values()))
        if value != "0"
    ]
