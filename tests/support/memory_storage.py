"""The storage side of the in-memory API server (tests/support/memory.py): what the PV
controller, the external provisioner, the resizer, the snapshot controller and the CSI
snapshot sidecar do, immediately, as part of the write that calls for it.

Each volume's data is a small dict in ``Memory.volumes`` (by PersistentVolume name), each
snapshot's in ``Memory.snapshots`` (by snapshot handle): a test says "the live volume
holds marker `before`" without bytes on a disk. The rules are the real ones pacdeploy's
restore relies on (and the sandbox's provisioner, pacdeploy/sandbox/, plays them too):

- a new claim naming no volume is provisioned a new one, empty, or a copy of the
  snapshot its dataSource names (Pending while that snapshot is not ready);
- a claim naming a volume (spec.volumeName) is bound to it only if the volume's claimRef
  allows it: none, or this namespace and name with no uid or this claim's uid. A
  Released volume still names its old claim's uid, so it stays unbound until that uid
  goes (restore.prebind_patch); a volume patched so binds a claim waiting on it;
- a deleted claim releases its volume: Delete removes it with its data, Retain keeps it
  Released, and a Released volume patched back to Delete goes then;
- a claim asking for more of a class that allows expansion is grown, its volume too;
- a VolumeSnapshot of a bound claim gets a VolumeSnapshotContent holding a copy of the
  volume's data, and both are readyToUse with the claim's capacity as restoreSize; a
  deleted snapshot takes its content (and, by policy Delete, the data) with it.

Finalizers that wait (pvc-protection, the snapshot finalizers) are the real server's:
here everything a controller does happens at once.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from pacdeploy.kube import official
from pacdeploy.sandbox.objects import CSI_DRIVER

if TYPE_CHECKING:
    from tests.support.memory import Key, Memory, Obj

SNAPSHOT_GROUP = "snapshot.storage.k8s.io"


def _volume_of(memory: Memory, claim: Obj) -> Obj | None:
    name = claim["spec"].get("volumeName")
    return memory.objects.get(("PersistentVolume", "", name)) if name else None


def _claim_ref(claim: Obj) -> Obj:
    meta = claim["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "namespace": meta["namespace"],
        "name": meta["name"],
        "uid": meta["uid"],
        "resourceVersion": meta["resourceVersion"],
    }


def claim_created(memory: Memory, claim: Obj) -> None:
    """The PV controller and the provisioner on a new claim."""
    if claim["spec"].get("volumeName"):
        _bind_named(memory, claim)
        return
    source = _snapshot_source(claim)
    data: dict[str, Any] = {}
    if source is not None:
        found = _ready_snapshot_data(memory, claim["metadata"]["namespace"], source)
        if found is None:
            _set_phase(memory, claim, "Pending")
            return
        data = found
    _provision(memory, claim, data)


def _snapshot_source(claim: Obj) -> str | None:
    for key in ("dataSourceRef", "dataSource"):
        source = claim["spec"].get(key) or {}
        if source.get("kind") == "VolumeSnapshot" and source.get("apiGroup") == SNAPSHOT_GROUP:
            return str(source["name"])
    return None


def _ready_snapshot_data(memory: Memory, namespace: str, name: str) -> dict[str, Any] | None:
    snapshot = memory.objects.get(("VolumeSnapshot", namespace, name))
    status = (snapshot or {}).get("status") or {}
    if not status.get("readyToUse"):
        return None
    bound = status["boundVolumeSnapshotContentName"]
    content = memory.objects.get(("VolumeSnapshotContent", "", bound))
    handle = ((content or {}).get("status") or {}).get("snapshotHandle")
    return copy.deepcopy(memory.snapshots[handle]) if handle in memory.snapshots else None


def _provision(memory: Memory, claim: Obj, data: dict[str, Any]) -> None:
    """A new volume of the claim's class and size, holding ``data``, bound to the claim."""
    memory.made += 1
    name = f"pvc-{memory.made}"
    spec = claim["spec"]
    found = memory.objects.get(("StorageClass", "", spec.get("storageClassName") or ""))
    volume = {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": spec["resources"]["requests"]["storage"]},
            "accessModes": copy.deepcopy(spec.get("accessModes") or ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": (found or {}).get("reclaimPolicy", "Delete"),
            "storageClassName": spec.get("storageClassName") or "",
            "csi": {"driver": (found or {}).get("provisioner", CSI_DRIVER), "volumeHandle": name},
            "claimRef": _claim_ref(claim),
        },
        "status": {"phase": "Bound"},
    }
    memory.volumes[name] = data
    memory.store(("PersistentVolume", "", name), volume, "ADDED")
    _bound(memory, claim, volume)


def _bound(memory: Memory, claim: Obj, volume: Obj) -> None:
    bound = copy.deepcopy(claim)
    bound["spec"]["volumeName"] = volume["metadata"]["name"]
    capacity = copy.deepcopy(volume["spec"]["capacity"])
    bound["status"] = {"phase": "Bound", "capacity": capacity}
    memory.store(_key(bound), bound, "MODIFIED")


def _set_phase(memory: Memory, claim: Obj, phase: str) -> None:
    changed = copy.deepcopy(claim)
    changed["status"] = {"phase": phase}
    memory.store(_key(changed), changed, "MODIFIED")


def _key(obj: Obj) -> Key:
    meta = obj["metadata"]
    return (obj["kind"], meta.get("namespace", ""), meta["name"])


def _bind_named(memory: Memory, claim: Obj) -> None:
    """A claim naming its volume: bound if the volume's claimRef allows, else Pending."""
    volume = _volume_of(memory, claim)
    ref = (volume or {}).get("spec", {}).get("claimRef")
    meta = claim["metadata"]
    allowed = volume is not None and (
        ref is None
        or (
            (ref.get("namespace"), ref.get("name")) == (meta["namespace"], meta["name"])
            and ref.get("uid") in (None, meta["uid"])
        )
    )
    if not allowed or volume is None:
        _set_phase(memory, claim, "Pending")
        return
    taken = copy.deepcopy(volume)
    taken["spec"]["claimRef"] = _claim_ref(claim)
    taken["status"] = {"phase": "Bound"}
    memory.store(_key(taken), taken, "MODIFIED")
    _bound(memory, claim, taken)


def volume_changed(memory: Memory, volume: Obj) -> None:
    """The PV controller on a changed volume: a Released one now of policy Delete goes;
    one now reserved for a claim that waits on it is bound to it."""
    policy = volume["spec"].get("persistentVolumeReclaimPolicy")
    if volume.get("status", {}).get("phase") == "Released" and policy == "Delete":
        memory.remove(_key(volume))
        return
    ref = volume["spec"].get("claimRef") or {}
    key = ("PersistentVolumeClaim", ref.get("namespace", ""), ref.get("name", ""))
    waiting = memory.objects.get(key)
    named = volume["metadata"]["name"]
    if waiting is not None and not ref.get("uid") and waiting["spec"].get("volumeName") == named:
        _bind_named(memory, waiting)


def claim_deleted(memory: Memory, claim: Obj) -> None:
    """The claim's volume released: deleted by policy Delete, kept Released by Retain."""
    volume = _volume_of(memory, claim)
    ref = (volume or {}).get("spec", {}).get("claimRef") or {}
    if volume is None or ref.get("uid") != claim["metadata"]["uid"]:
        return
    if volume["spec"].get("persistentVolumeReclaimPolicy") == "Retain":
        released = copy.deepcopy(volume)
        released["status"] = {"phase": "Released"}
        memory.store(_key(released), released, "MODIFIED")
        return
    memory.remove(_key(volume))


def volume_deleted(memory: Memory, volume: Obj) -> None:
    memory.volumes.pop(volume["metadata"]["name"], None)


def claim_changed(memory: Memory, claim: Obj) -> None:
    """The resizer: a bound claim of a class that allows it gets what it asks for, its
    volume too (written into ``claim``, which is being stored)."""
    found = memory.objects.get(("StorageClass", "", claim["spec"].get("storageClassName", "")))
    volume = _volume_of(memory, claim)
    if found is None or not found.get("allowVolumeExpansion"):
        return
    asked = claim["spec"]["resources"]["requests"]["storage"]
    claim.setdefault("status", {})["capacity"] = {"storage": asked}
    if volume is not None and volume["spec"]["capacity"]["storage"] != asked:
        grown = copy.deepcopy(volume)
        grown["spec"]["capacity"] = {"storage": asked}
        memory.store(_key(grown), grown, "MODIFIED")


def snapshot_created(memory: Memory, snapshot: Obj) -> None:
    """The snapshot controller and the sidecar: a content holding the claim's data, both
    ready. A claim not (yet) bound leaves the snapshot waiting, as the controller does."""
    meta, spec = snapshot["metadata"], snapshot["spec"]
    claim = memory.objects.get(
        ("PersistentVolumeClaim", meta["namespace"], spec["source"]["persistentVolumeClaimName"])
    )
    volume = _volume_of(memory, claim) if claim is not None else None
    if claim is None or volume is None or volume["metadata"]["name"] not in memory.volumes:
        return
    memory.made += 1
    handle, content_name = f"snap-{memory.made}", f"snapcontent-{meta['uid']}"
    memory.snapshots[handle] = copy.deepcopy(memory.volumes[volume["metadata"]["name"]])
    found = memory.objects.get(("VolumeSnapshotClass", "", spec.get("volumeSnapshotClassName", "")))
    size = claim["status"]["capacity"]["storage"]
    ref = {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"]}
    content = {
        "apiVersion": snapshot["apiVersion"],
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": content_name},
        "spec": {
            "deletionPolicy": (found or {}).get("deletionPolicy", "Delete"),
            "driver": volume["spec"]["csi"]["driver"],
            "source": {"volumeHandle": volume["spec"]["csi"]["volumeHandle"]},
            "volumeSnapshotClassName": spec.get("volumeSnapshotClassName"),
            "volumeSnapshotRef": ref,
        },
        "status": {
            "snapshotHandle": handle,
            "readyToUse": True,
            "restoreSize": int(official.parse_quantity(size)),
        },
    }
    memory.store(("VolumeSnapshotContent", "", content_name), content, "ADDED")
    ready = copy.deepcopy(snapshot)
    ready["status"] = {
        "boundVolumeSnapshotContentName": content_name,
        "creationTime": meta["creationTimestamp"],
        "readyToUse": True,
        "restoreSize": size,
    }
    memory.store(_key(ready), ready, "MODIFIED")


def snapshot_deleted(memory: Memory, snapshot: Obj) -> None:
    name = (snapshot.get("status") or {}).get("boundVolumeSnapshotContentName")
    content = memory.objects.get(("VolumeSnapshotContent", "", name or ""))
    if content is None:
        return
    if content["spec"].get("deletionPolicy") == "Delete":
        memory.snapshots.pop(content["status"]["snapshotHandle"], None)
    memory.remove(_key(content))
