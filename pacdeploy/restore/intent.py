"""What a restore under way recorded on the StatefulSet before its first change, and how
to undo the last one: all `status`, `up` and `rollback` need to know of a restore, without
its rules (rules.py), its plan or its run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pacdeploy.kube.resources import annotations_of

INTENT = "pacdeploy.io/restore"  # StatefulSet annotation: a restore under way (JSON)
LAST = "pacdeploy.io/last-restore"  # StatefulSet annotation: how to undo the last one (JSON)


@dataclass(frozen=True)
class Intent:
    """What a restore is doing, recorded before it changes anything."""

    id: str
    source: str  # for people: "backup b1", "the volumes restore r-… replaced"
    replicas: int  # mongo's replicas before the restore, to come back to
    backup: str | None = None  # restoring this backup's snapshots
    # An undo of restore ``undo_of``: binding again the volumes it kept, or (with
    # ``backup``) restoring the backup it took of the data it replaced.
    undo_of: str | None = None
    safety: str | None = None  # the automatic backup of the data being replaced

    def dump(self) -> str:
        return json.dumps(self.__dict__, sort_keys=True)

    def command(self, namespace: str) -> str:
        """The command that finishes this restore."""
        what = "restore --undo" if self.undo_of else f"restore {self.backup}"
        return f"pacdeploy {what} --yes -n {namespace}"


def _annotation(statefulset: dict[str, Any], key: str) -> dict[str, Any] | None:
    raw = annotations_of(statefulset).get(key)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def intent_of(statefulset: dict[str, Any]) -> Intent | None:
    """The restore under way on this StatefulSet, if one was interrupted or is running."""
    value = _annotation(statefulset, INTENT)
    if value is None:
        return None
    try:
        return Intent(**value)
    except TypeError:
        return None


def last_of(statefulset: dict[str, Any]) -> dict[str, Any]:
    """How to undo the last completed restore: ``safety`` backup or ``kept_by`` an id."""
    return _annotation(statefulset, LAST) or {}
