"""How an event file is compared with AWS's shape for its kind: the reference events (from
`sam local generate-event`, or testkit.event_references' explicit shapes, with the table's additions
applied) and the recursive comparison that lists every place a file departs from them.

Why: only the shape is compared (keys, and whether each value is an object, a list or a scalar), so that
values differ freely while a renamed, missing or retyped key anywhere in a file is caught; the table of
allowed differences is applied here so the comparison says nothing it has not been told is legitimate.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import re

import pytest

from tests.testkit.event_references import DIFFERENCES, KINDS, RULES, Command, Difference, How, Json, Kind
from tests.testkit.tools import run_tool

# --- references -------------------------------------------------------------------------------------------


def generate_event(command: Command) -> Json:
    """`sam local generate-event SERVICE EVENT` as JSON (about half a second, offline)."""
    result = run_tool("sam", "local", "generate-event", *command, timeout=60)
    if result.returncode != 0:
        pytest.fail(f"sam local generate-event {' '.join(command)} failed:\n{result.stderr}", pytrace=False)
    return json.loads(result.stdout)


def differences(kind: str, *hows: How) -> list[Difference]:
    """The table's rows for one kind, of the given sorts."""
    return [row for row in DIFFERENCES if row.kind == kind and row.how in hows]


def parent(tree: Json, path: str) -> tuple[dict[str, Json], str]:
    """The object holding the last key of a dotted path, and that key."""
    *parents, last = path.split(".")
    for key in parents:
        tree = tree[key]
    return tree, last


def references(kind: Kind, generated: dict[Command, Json]) -> list[Json]:
    """The kind's reference event, then its alternative form when the table renames keys (ALB multi-value)."""
    base = copy.deepcopy(generated[kind.generator] if kind.generator else kind.explicit)
    for row in differences(kind.name, How.ADDED, How.REPLACED):
        holder, key = parent(base, row.path)
        holder[key] = copy.deepcopy(row.shape)
    renames = differences(kind.name, How.RENAMED)
    if not renames:
        return [base]
    alternative = copy.deepcopy(base)
    for row in renames:
        holder, key = parent(alternative, row.path)
        holder[row.shape] = holder.pop(key)
    return [base, alternative]


def allowances(kind: str) -> dict[str, set[How]]:
    """Path pattern -> the ways a file of this kind may differ there."""
    allowed: dict[str, set[How]] = {}
    for row in differences(kind, How.OPTIONAL, How.NULLABLE, How.MAP):
        allowed.setdefault(row.path, set()).add(row.how)
    return allowed


def kind_for(name: str) -> Kind:
    """The one kind whose rule matches this file name; a new or ambiguous name is an error, not a pass."""
    matches = [kind for pattern, kind in RULES.items() if fnmatch.fnmatchcase(name, pattern)]
    if not matches:
        raise LookupError(f"no reference shape for {name}: add a rule to RULES (and its kind to KINDS)")
    if len(matches) > 1:
        raise LookupError(f"{name} matches several rules ({', '.join(matches)}): make the patterns disjoint")
    return KINDS[matches[0]]


# --- comparison -------------------------------------------------------------------------------------------


def _form(value: Json) -> str:
    """What the comparison tells apart: objects (compared key by key), lists (item by item), scalars."""
    if isinstance(value, dict):
        return "an object"
    return "a list" if isinstance(value, list) else "a scalar"


def _join(path: str, key: str) -> str:
    """The display path of a key: dotted, as the table writes it."""
    return f"{path}.{key}" if path else key


def _pattern(path: str) -> str:
    """Records[3].s3 -> Records[].s3: the table speaks of every list item at once."""
    return re.sub(r"\[\d+\]", "[]", path)


def drift(ours: Json, reference: Json, allowed: dict[str, set[How]], path: str = "") -> list[str]:
    """Where ``ours`` differs in shape from ``reference``, beyond what ``allowed`` permits."""
    hows = allowed.get(_pattern(path), set())
    if ours is None and How.NULLABLE in hows:
        return []
    if _form(ours) != _form(reference):
        found = "null" if ours is None else _form(ours)
        return [f"{path or '(top)'}: {_form(reference)} expected, found {found}"]
    if isinstance(reference, dict):
        return [] if How.MAP in hows else _object_drift(ours, reference, allowed, path)
    if isinstance(reference, list) and reference:
        return [line for i, item in enumerate(ours) for line in drift(item, reference[0], allowed, f"{path}[{i}]")]
    return []


def _object_drift(
    ours: dict[str, Json], reference: dict[str, Json], allowed: dict[str, set[How]], path: str
) -> list[str]:
    """Missing keys (unless optional), keys the reference lacks, and the drift of every shared key."""
    lines = [
        f"{_join(path, key)}: missing"
        for key in reference.keys() - ours.keys()
        if How.OPTIONAL not in allowed.get(_pattern(_join(path, key)), set())
    ]
    lines += [f"{_join(path, key)}: not in the reference" for key in ours.keys() - reference.keys()]
    for key in ours.keys() & reference.keys():
        lines += drift(ours[key], reference[key], allowed, _join(path, key))
    return sorted(lines)


def _body_drift(event: Json, kind: Kind, generated: dict[Command, Json]) -> list[str]:
    """For SQS carrying another kind of event: each record's body, parsed, against that kind's reference."""
    if kind.body is None:
        return []
    lines: list[str] = []
    for i, record in enumerate(event.get("Records", [])):
        try:
            body = json.loads(record.get("body", ""))
        except json.JSONDecodeError:
            lines.append(f"Records[{i}].body: not JSON")
            continue
        lines += [f"Records[{i}].body -> {line}" for line in shape_drift(body, KINDS[kind.body], generated)]
    return lines


def shape_drift(event: Json, kind: Kind, generated: dict[Command, Json]) -> list[str]:
    """No lines when the event has one of the kind's reference shapes; else the closest one's drift."""
    candidates = [drift(event, reference, allowances(kind.name)) for reference in references(kind, generated)]
    closest = min(candidates, key=len)
    return closest + _body_drift(event, kind, generated)
