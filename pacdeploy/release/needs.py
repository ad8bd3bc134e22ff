"""The permissions a change needs, checked before its first write."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pacdeploy.kube.permissions import Need
from pacdeploy.kube.resources import resource


def scope(obj: dict[str, Any], namespace: str) -> str | None:
    """The namespace ``obj`` lives in, None for a cluster-scoped kind."""
    return namespace if resource(obj["kind"]).namespaced else None


def for_up(
    ns: str,
    writes: Sequence[tuple[dict[str, Any], bool]],
    *,
    creates_secret: bool,
    patches_classes: bool,
    resizes: bool,
) -> frozenset[Need]:
    """What `up`'s writes (each object with whether it exists) and its wait need; the
    reads have already succeeded. Nothing when there is nothing to write: with no change
    to protect, there is nothing to check."""
    if not writes and not creates_secret and not patches_classes:
        return frozenset()
    needs = {Need.on("patch", "StorageClass")} if patches_classes else set()
    for obj, exists in writes:
        needs.add(Need.on("patch", obj["kind"], scope(obj, ns)))
        if not exists:
            needs.add(Need.on("create", obj["kind"], scope(obj, ns)))
    if creates_secret:
        needs.add(Need.on("create", "Secret", ns))
    if resizes:
        needs |= {
            Need.on("patch", "PersistentVolumeClaim", ns),
            Need.on("delete", "StatefulSet", ns),
        }
    return frozenset(needs | for_wait(ns))


def for_wait(ns: str) -> set[Need]:
    """What waiting for the workloads reads."""
    return {
        Need.on("get", "StatefulSet", ns),
        Need.on("get", "Deployment", ns),
        *(Need.on("list", kind, ns) for kind in ("Pod", "PersistentVolumeClaim", "Event")),
    }
