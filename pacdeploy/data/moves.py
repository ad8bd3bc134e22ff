"""Moving the scores to another stack's MongoDB: its intent and its pure decisions.

MongoDB 8 cannot open the files 4.4 wrote, so `up --stack modern` on the lesson's data
moves it logically: a backup of the volume first (where the cluster snapshots), the web
app stopped, `mongodump --archive` from the running mongo to a file on the user's disk,
the old StatefulSet and claim gone (the volume kept: Retain, labelled with its stack), the
new StatefulSet on a new claim, `mongorestore --archive` into it, and only once every
document is there the new web app. `up --stack lesson` goes back by binding the kept
volume again: the old data as it was.

A move survives being killed after any write. Before its first change it records its
intent on the Namespace (``pacdeploy.io/move``; the StatefulSet it carries out is replaced
on the way), and each step checks what is done: the archive is complete once renamed into
place, a kept volume says whose it was, the restore is recorded when every document is in.
Running the same command again finishes it; `status` names it meanwhile.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pacdeploy.app import stacks
from pacdeploy.data.kept_volumes import RECLAIM_POLICY
from pacdeploy.errors import Conflict
from pacdeploy.kube.resources import annotations_of, labels_of, name_of

INTENT = "pacdeploy.io/move"  # Namespace annotation: a move under way (JSON)
LAST = "pacdeploy.io/last-move"  # Namespace annotation: the last move done, to undo (JSON)
MOVE_ID = "pacdeploy.io/move-id"  # annotation on a volume a move kept
# Labels of a kept volume: whose claim it held (not restore's labels, since a restore lets
# the volumes earlier restores kept go, and this one is the way back to the other stack).
MOVED_NAMESPACE = "pacdeploy.io/moved-namespace"
MOVED_CLAIM = "pacdeploy.io/moved-claim"


@dataclass(frozen=True)
class MoveIntent:
    """What a move is doing, recorded before it changes anything."""

    id: str
    source: str  # the stack whose MongoDB wrote the data
    target: str
    web_replicas: int  # to come back to, on the new stack
    documents: int | None = None  # in the archive, once it is complete
    restored: bool = False  # every document is in the new MongoDB
    safety: str | None = None  # the backup of the volume taken first

    def dump(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def command(self, namespace: str) -> str:
        return f"pacdeploy up --stack {self.target} --yes -n {namespace}"


def intent_of(namespace: dict[str, Any] | None) -> MoveIntent | None:
    raw = annotations_of(namespace).get(INTENT) if namespace else None
    try:
        return MoveIntent(**json.loads(raw)) if raw else None
    except (ValueError, TypeError):
        return None


def none_under_way(namespace: dict[str, Any] | None, name: str, *, explicit: bool) -> None:
    """A plain `up` (no ``explicit`` --stack) does not go on over an interrupted move: only
    the command that started it finishes it (release/move.py)."""
    if not explicit and (moving := intent_of(namespace)) is not None:
        raise Conflict(
            f"a move of the scores to the {moving.target} stack was interrupted in "
            f"namespace {name}",
            f"Finish it with `{moving.command(name)}`",
        )


def last_of(namespace: dict[str, Any] | None) -> dict[str, str]:
    """The last move done here ({id, source, target}), while going back would undo it."""
    raw = annotations_of(namespace).get(LAST) if namespace else None
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def undoes(last: dict[str, str], source: str, target: str) -> bool:
    """Moving from ``source`` to ``target`` goes back over the last move: its kept volume,
    the data as it was, is bound again. Any other move carries the current data over."""
    return last.get("source") == target and last.get("target") == source


def new_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"m-{stamp}-{secrets.token_hex(2)}"


def archive_path(state: Path, namespace: str, move_id: str) -> Path:
    """Where a move keeps its archive until the move is done (the user's disk)."""
    return state / "moves" / f"{namespace}-{move_id}.archive"


def state_dir() -> Path:
    """$XDG_STATE_HOME/pacdeploy (~/.local/state/pacdeploy): the user's own disk."""
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "pacdeploy"


def kept_for(volumes: list[dict[str, Any]], claim: str, stack: str) -> dict[str, Any] | None:
    """The volume a move kept of ``stack``'s data for ``claim`` (of this namespace's)."""
    for volume in volumes:
        labels = labels_of(volume)
        if labels.get(MOVED_CLAIM) == claim and labels.get(stacks.LABEL) == stack:
            return volume
    return None


def keep_patch(
    volume: dict[str, Any], *, namespace: str, claim: str, stack: str, move_id: str
) -> dict[str, Any]:
    """Retain ``volume`` and say whose claim it held and which stack's MongoDB wrote it."""
    policy = volume["spec"].get("persistentVolumeReclaimPolicy", "Delete")
    return {
        "metadata": {
            "labels": {MOVED_NAMESPACE: namespace, MOVED_CLAIM: claim, stacks.LABEL: stack},
            "annotations": {
                RECLAIM_POLICY: annotations_of(volume).get(RECLAIM_POLICY, policy),
                MOVE_ID: move_id,
            },
        },
        "spec": {"persistentVolumeReclaimPolicy": "Retain"},
    }


def unkeep_patch(volume: dict[str, Any]) -> dict[str, Any]:
    """A kept volume in use again: its labels go and its policy comes back."""
    return {
        "metadata": {
            "labels": {MOVED_NAMESPACE: None, MOVED_CLAIM: None, stacks.LABEL: None},
            "annotations": {RECLAIM_POLICY: None, MOVE_ID: None},
        },
        "spec": {
            "persistentVolumeReclaimPolicy": annotations_of(volume).get(RECLAIM_POLICY, "Delete")
        },
    }


def claim_on(volume: dict[str, Any], claim: str, namespace: str) -> dict[str, Any]:
    """The claim a StatefulSet's pod mounts, made again on a kept volume (pre-bound to it)."""
    spec = volume["spec"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim, "namespace": namespace, "labels": {"name": "mongo"}},
        "spec": {
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "resources": {"requests": {"storage": spec["capacity"]["storage"]}},
            "storageClassName": spec.get("storageClassName", ""),
            "volumeName": name_of(volume),
        },
    }
