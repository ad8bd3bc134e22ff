"""Comparing objects field by field, the one way `up`, `diff` and `status` all do it.

An applied object carries a digest of itself (``APPLIED``), so one that pacdeploy applied
from another version of the manifests (a field since dropped) never looks up to date; a
recorded revision keeps the objects without it (``without_digest``), and the digest is
computed again when the revision is applied.

``drift`` asks whether a live object still holds what was applied, looking only at the
fields that were (`up` skips an object that does; `status` names each field that does not);
``field_changes`` lists every leaf two whole objects differ in (`diff`, against a dry run).
Lists of named objects are compared by name, so a path reads
`spec.template.spec.containers[pacman].image`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

from pacdeploy.app.manifests import is_managed
from pacdeploy.kube.resources import annotations_of

MAX_VALUE = 80  # characters of a value shown inline
APPLIED = "pacdeploy.io/applied"  # annotation: digest of what pacdeploy applied last
DIGEST_PATH = f"metadata.annotations.{APPLIED}"
# Set by the server, never by an apply: not a difference between two versions of an object.
SERVER_SET_METADATA = ("resourceVersion", "managedFields", "generation", "creationTimestamp", "uid")


class FieldChange(NamedTuple):
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
    applied: Any, live: Any, path: str = "", *, ignore: tuple[str, ...] = NOT_DRIFT
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
            found += drift(applied[key], live.get(key, MISSING), sub, ignore=ignore)
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


# -- the digest and the comparisons up and diff make --------------------------------------
def with_digest(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` annotated with a digest of itself."""
    digest = hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
    metadata = obj["metadata"]
    annotations = {**(metadata.get("annotations") or {}), APPLIED: digest}
    return {**obj, "metadata": {**metadata, "annotations": annotations}}


def without_digest(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as rendered, before :func:`with_digest`."""
    annotations = {k: v for k, v in annotations_of(obj).items() if k != APPLIED}
    metadata = {k: v for k, v in obj["metadata"].items() if k != "annotations"}
    if annotations:
        metadata["annotations"] = annotations
    return {**obj, "metadata": metadata}


def covers(live: Any, desired: Any) -> bool:
    """Every field ``desired`` sets has that value in ``live`` (which the server filled in
    with defaults and status): applying it would change nothing."""
    return not drift(desired, live, ignore=())


def up_to_date(desired: dict[str, Any], live: dict[str, Any] | None) -> bool:
    """An apply of ``desired`` would change nothing: skip it (a no-op `up` writes nothing)."""
    return live is not None and is_managed(live) and covers(live, desired)


def comparable(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """``obj`` without what only the server sets (status, versions, managed fields)."""
    if obj is None:
        return None
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_SET_METADATA}
    return {**{k: v for k, v in obj.items() if k != "status"}, "metadata": meta}


def unchanged_by_dry_run(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A server-side dry run's result equals the live object, but for server-set fields."""
    return comparable(after) == comparable(before)


def dry_run_changes(live: dict[str, Any], dry_run: dict[str, Any]) -> list[FieldChange]:
    """The changes a dry run made to ``live``; the digest annotation only when it is all."""
    changes = field_changes(comparable(live), comparable(dry_run))
    real = [c for c in changes if c.path != DIGEST_PATH]
    return real or changes
