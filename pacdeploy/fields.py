"""Comparing objects field by field, the one way `up`, `diff` and `status` all do it.

``drift`` asks whether a live object still holds what was applied, looking only at the
fields that were (`up` skips an object that does; `status` names each field that does not);
``field_changes`` lists every leaf two whole objects differ in (`diff`, against a dry run).
Lists of named objects are compared by name, so a path reads
`spec.template.spec.containers[pacman].image`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_VALUE = 80  # characters of a value shown inline


@dataclass(frozen=True)
class FieldChange:
    path: str
    live: Any
    desired: Any

    def line(self) -> str:
        return f"{self.path}: {_short(self.live)} -> {_short(self.desired)}"


MISSING = "<none>"


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _named(items: list[Any]) -> dict[str, Any] | None:
    """A list of objects keyed by what is unique in it: `name` (containers, env, ports), else
    `mountPath` (volumeMounts, where one volume may be mounted at several paths); else None."""
    for key in ("name", "mountPath"):
        if items and all(isinstance(i, dict) and key in i for i in items):
            keyed = {str(i[key]): i for i in items}
            if len(keyed) == len(items):
                return keyed
    return None


def field_changes(live: Any, desired: Any, path: str = "") -> list[FieldChange]:
    """Every leaf that differs, by path (`spec.template.spec.containers[pacman].image`)."""
    if isinstance(live, dict) and isinstance(desired, dict):
        changes = []
        for key in sorted(set(live) | set(desired)):
            sub = f"{path}.{key}" if path else key
            changes += field_changes(live.get(key, MISSING), desired.get(key, MISSING), sub)
        return changes
    if isinstance(live, list) and isinstance(desired, list):
        a, b = _named(live), _named(desired)
        if a is not None and b is not None:
            changes = []
            for name in sorted(set(a) | set(b)):
                changes += field_changes(
                    a.get(name, MISSING), b.get(name, MISSING), f"{path}[{name}]"
                )
            return changes
    return [] if live == desired else [FieldChange(path, live, desired)]


# Not drift: `scale` (and a restore, for a while) set replicas through the scale subresource.
NOT_DRIFT = ("spec.replicas",)


def drift(
    applied: Any, live: Any, path: str = "", ignore: tuple[str, ...] = NOT_DRIFT
) -> list[FieldChange]:
    """Where ``live`` no longer holds what was applied: only the fields pacdeploy set are
    compared, so what the server or a controller adds (defaults, status) is never drift.
    FieldChange(path, live, desired=applied)."""
    if path in ignore:
        return []
    if isinstance(applied, dict) and isinstance(live, dict):
        found = []
        for key in sorted(applied):
            sub = f"{path}.{key}" if path else key
            found += drift(applied[key], live.get(key, MISSING), sub, ignore)
        return found
    if isinstance(applied, list) and isinstance(live, list):
        want, have = _named(applied), _named(live)
        if want is not None and have is not None:
            found = []
            for name in sorted(want):
                found += drift(want[name], have.get(name, MISSING), f"{path}[{name}]")
            return found
        if len(applied) == len(live):
            return [
                c
                for i, (a, b) in enumerate(zip(applied, live, strict=True))
                for c in drift(a, b, f"{path}[{i}]")
            ]
    return [] if applied == live else [FieldChange(path, live, applied)]
