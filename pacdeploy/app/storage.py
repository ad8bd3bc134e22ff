"""The default StorageClass: make ours the only default, remember and restore the previous one.

This is the lesson's pair of `kubectl patch storageclass` commands, done safely: the
annotations are only changed once every check has passed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from pacdeploy.errors import NotFound, PermissionDenied
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of

GA = "storageclass.kubernetes.io/is-default-class"
BETA = "storageclass.beta.kubernetes.io/is-default-class"
# Recorded on the app's namespace, so `down --purge` can put things back.
PREVIOUS_DEFAULT = "pacdeploy.io/previous-default-storage-classes"
MADE_DEFAULT = "pacdeploy.io/default-storage-class"
# Written on our class by `down --purge` before its first delete, cleared by its last step:
# the namespace holding PREVIOUS_DEFAULT goes, so a re-run after a crash reads it here.
PURGING = "pacdeploy.io/purging"

Patch = tuple[str, dict[str, Any]]
log = logging.getLogger(__name__)


def _annotations(sc: dict[str, Any]) -> dict[str, str]:
    return sc.get("metadata", {}).get("annotations") or {}


def is_default(sc: dict[str, Any]) -> bool:
    annotations = _annotations(sc)
    return "true" in (annotations.get(GA), annotations.get(BETA))


def defaults(classes: list[dict[str, Any]]) -> list[str]:
    return sorted(name_of(sc) for sc in classes if is_default(sc))


def require(classes: list[dict[str, Any]], name: str) -> None:
    if name not in {name_of(sc) for sc in classes}:
        available = ", ".join(sorted(name_of(sc) for sc in classes)) or "none"
        raise NotFound(
            f"StorageClass {name!r} does not exist (available: {available})",
            "Pass --storage-class with one of them; nothing was changed",
        )


FSTYPE_PARAMETERS = ("csi.storage.k8s.io/fstype", "fsType")


def fsgroup_warning(sc: dict[str, Any], csi_driver: dict[str, Any] | None) -> str | None:
    """Why the kubelet will not hand this class's volumes to the pod's fsGroup, if it won't.

    Only CSI drivers say so (their CSIDriver's fsGroupPolicy): None ignores fsGroup, and
    ReadWriteOnceWithFSType (the API default) applies it only to volumes with an fsType.
    """
    if csi_driver is None:
        return None
    name = name_of(csi_driver)
    policy = csi_driver.get("spec", {}).get("fsGroupPolicy")
    if policy in (None, "None"):
        return f"CSI driver {name} ignores fsGroup (fsGroupPolicy: {policy or 'unset'})"
    parameters = sc.get("parameters") or {}
    has_fstype = any(parameters.get(k) for k in FSTYPE_PARAMETERS)
    if policy == "ReadWriteOnceWithFSType" and not has_fstype:
        return (
            f"CSI driver {name} applies fsGroup only to volumes with an fsType, and "
            f"StorageClass {sc['metadata']['name']} sets none"
        )
    return None


def volume_permission_warnings(
    cluster: Cluster, classes: list[dict[str, Any]], storage_class: str
) -> list[str]:
    """MongoDB runs as uid 1001: say so before `up` if its volume will not be writable."""
    sc = next(c for c in classes if name_of(c) == storage_class)
    try:
        driver = cluster.get("CSIDriver", sc.get("provisioner", ""))
    except PermissionDenied:
        log.info("cannot read CSIDriver %s; volume permissions not checked", sc.get("provisioner"))
        return []
    reason = fsgroup_warning(sc, driver)
    if reason is None:
        return []
    return [
        f"{reason}, so MongoDB (uid 1001) may not be able to write its volume; "
        "pass --volume-permissions to chown it first"
    ]


def record_defaults(
    ns_obj: dict[str, Any],
    current: dict[str, Any] | None,
    classes: list[dict[str, Any]],
    *,
    storage_class: str,
    keep_default: bool,
) -> None:
    """Annotate the Namespace with the defaults before the first `up` (``current``: the
    Namespace as it is live), kept on later runs."""
    annotations = ns_obj["metadata"].setdefault("annotations", {})
    recorded = (current or {}).get("metadata", {}).get("annotations") or {}
    for key in (PREVIOUS_DEFAULT, MADE_DEFAULT):
        if key in recorded:
            annotations[key] = recorded[key]
    if keep_default or PREVIOUS_DEFAULT in annotations:
        return
    annotations[PREVIOUS_DEFAULT] = ",".join(defaults(classes))
    annotations[MADE_DEFAULT] = storage_class


def _set(sc: dict[str, Any], value: str) -> dict[str, Any]:
    """Annotations that make ``sc`` default (value 'true') or not ('false'), GA and beta alike."""
    annotations = _annotations(sc)
    patch = {GA: value} if annotations.get(GA) != value else {}
    if BETA in annotations and annotations[BETA] != value:
        patch[BETA] = value
    return patch


def _patches(classes: list[dict[str, Any]], wanted: dict[str, str]) -> list[Patch]:
    """Annotation patches giving each named class its wanted value; none where it already has."""
    changes = ((name_of(sc), sc) for sc in classes)
    return [
        (name, change)
        for name, sc in changes
        if name in wanted and (change := _set(sc, wanted[name]))
    ]


def make_only_default(classes: list[dict[str, Any]], target: str) -> list[Patch]:
    """Patches that leave ``target`` the one default class; empty when it already is."""
    others = {name_of(sc): "false" for sc in classes if is_default(sc)}
    return _patches(classes, {**others, target: "true"})


def restore(classes: list[dict[str, Any]], previous: list[str], ours: str) -> list[Patch]:
    """Patches that give the default back to ``previous`` (those that still exist), if it
    is still ours to give: once someone (another app's purge) made a third class default,
    it stays put, so a cluster never ends with two defaults. A purge killed half-way
    (ours no longer default, previous not yet) is finished."""
    if any(name != ours and name not in previous for name in defaults(classes)):
        return []
    return _patches(classes, {ours: "false", **dict.fromkeys(previous, "true")})


def apply_patches(cluster: Cluster, patches: Sequence[Patch]) -> None:
    for name, change in patches:
        cluster.merge_patch("StorageClass", name, {"metadata": {"annotations": change}})


def parse_previous(namespace: dict[str, Any] | None) -> list[str] | None:
    """The classes that were default before `up`, or None if `up` never recorded them."""
    value = _annotations(namespace or {}).get(PREVIOUS_DEFAULT)
    if value is None:
        return None
    return [name for name in value.split(",") if name]


def purge_record(namespace: str, previous: list[str]) -> dict[str, Any]:
    """The annotation patch that records, on our class, what a purge is to give back."""
    value = json.dumps({"namespace": namespace, "previous": previous}, sort_keys=True)
    return {"metadata": {"annotations": {PURGING: value}}}


def purging(classes: list[dict[str, Any]], namespace: str) -> tuple[str, list[str]] | None:
    """(our class, the classes to make default again) of an unfinished purge of namespace."""
    for sc in classes:
        try:
            record = json.loads(_annotations(sc).get(PURGING) or "null")
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("namespace") == namespace:
            return name_of(sc), [str(n) for n in record.get("previous") or []]
    return None
