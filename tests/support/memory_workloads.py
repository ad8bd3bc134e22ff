"""The workload side of the in-memory API server (tests/support/memory.py): what the
Deployment and StatefulSet controllers and the kubelets get to, at once. A workload's
spec changed: its pods replaced by new ones, a StatefulSet's missing claims made from its
templates (the DefaultStorageClass admission plugin's class, provisioned), and its status
saying how many are ready; a pod is Ready once every claim it mounts is Bound."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

from tests.support import memory_storage

if TYPE_CHECKING:
    from tests.support.memory import Key, Memory, Obj

DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"


def owner_of(pod: Obj) -> str | None:
    owners = pod["metadata"].get("ownerReferences") or [{}]
    return owners[0].get("name")


def pods_of(memory: Memory, namespace: str, owner: str) -> list[Key]:
    return [
        k
        for k, o in memory.objects.items()
        if k[0] == "Pod" and k[1] == namespace and owner_of(o) == owner
    ]


def _default_class(memory: Memory) -> str | None:
    return next(
        (
            k[2]
            for k, o in memory.objects.items()
            if k[0] == "StorageClass"
            and (o["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
        ),
        None,
    )


def roll_out(memory: Memory, workload: Obj) -> None:
    """``workload`` (being stored) rolled out: new pods, its claims, its status."""
    meta, spec = workload["metadata"], workload["spec"]
    namespace, name, replicas = meta["namespace"], meta["name"], spec.get("replicas", 1)
    for pod in pods_of(memory, namespace, name):
        memory.remove(pod)
    for template in spec.get("volumeClaimTemplates", []):
        for i in range(replicas):
            key, obj = _claim(namespace, name, i, template, spec["selector"])
            obj["spec"].setdefault("storageClassName", _default_class(memory))
            if key not in memory.objects:
                memory_storage.claim_created(memory, memory.store(key, obj, "ADDED"))
    ready = 0
    for i in range(replicas):
        key, pod = _pod(namespace, name, i, spec, _bound(memory, workload, i))
        memory.store(key, pod, "ADDED")
        ready += pod["status"]["phase"] == "Running"
    counts = ("replicas", "updatedReplicas", "currentReplicas")
    status = dict.fromkeys(counts, replicas) | {"readyReplicas": ready, "availableReplicas": ready}
    revision = f"{name}-{meta['generation']}"
    status |= {"observedGeneration": meta["generation"]}
    status |= {"currentRevision": revision, "updateRevision": revision}
    workload["status"] = status
    memory.version += 1
    meta["resourceVersion"] = str(memory.version)
    memory.events.append((memory.version, "MODIFIED", copy.deepcopy(workload)))


def _bound(memory: Memory, workload: Obj, index: int) -> bool:
    """Every claim pod ``index`` of ``workload`` mounts is Bound."""
    name, namespace = workload["metadata"]["name"], workload["metadata"]["namespace"]
    for template in workload["spec"].get("volumeClaimTemplates", []):
        claim = memory.objects.get(
            ("PersistentVolumeClaim", namespace, f"{template['metadata']['name']}-{name}-{index}")
        )
        if (claim or {}).get("status", {}).get("phase") != "Bound":
            return False
    return True


def _pod(namespace: str, owner: str, index: int, spec: Obj, ready: bool) -> tuple[Key, Obj]:
    """Pod ``index`` of the workload ``owner`` of ``spec``: mounting, as the StatefulSet
    controller makes it, a volume per claim template named after it, of claim
    TEMPLATE-OWNER-INDEX (what the database tools find their pod's data by)."""
    name = f"{owner}-{index}"
    template = spec["template"]
    containers = template["spec"]["containers"]
    statuses = [
        {"name": c["name"], "image": c["image"], "imageID": c["image"], "ready": ready}
        for c in containers
    ]
    owners = [{"kind": "ReplicaSet", "name": owner, "controller": True}]
    meta = {"name": name, "namespace": namespace, "ownerReferences": owners}
    condition = {"type": "Ready", "status": "True" if ready else "False"}
    obj = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {**meta, "labels": dict(template["metadata"].get("labels") or {})},
        "spec": copy.deepcopy(template["spec"]),
        "status": {
            "phase": "Running" if ready else "Pending",
            "conditions": [condition],
            "containerStatuses": statuses,
        },
    }
    for claim in spec.get("volumeClaimTemplates", []):
        mounted = claim["metadata"]["name"]
        volume = {"name": mounted, "persistentVolumeClaim": {"claimName": f"{mounted}-{name}"}}
        obj["spec"].setdefault("volumes", []).append(volume)
    return ("Pod", namespace, name), obj


def _claim(namespace: str, owner: str, index: int, template: Obj, selector: Obj) -> tuple[Key, Obj]:
    """A claim as the StatefulSet controller makes it: its template's labels and the
    StatefulSet's selector's."""
    name = f"{template['metadata']['name']}-{owner}-{index}"
    labels = {**(template["metadata"].get("labels") or {}), **selector.get("matchLabels", {})}
    obj = {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": copy.deepcopy(template["spec"]),
        "status": {"phase": "Pending"},
    }
    return ("PersistentVolumeClaim", namespace, name), obj
