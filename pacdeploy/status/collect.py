"""Reading what `status` shows, only what is the app's, and building its document."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pacdeploy.app import storage
from pacdeploy.app.manifests import DEPLOYMENT, INGRESS, SERVICE, STATEFULSET
from pacdeploy.data import consistency, moves, revisions
from pacdeploy.forward import DEFAULT_LOCAL_PORT
from pacdeploy.kube import fanout
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of
from pacdeploy.release.fields import drift
from pacdeploy.restore import intent
from pacdeploy.status.schema import (
    SCHEMA_VERSION,
    ClaimDoc,
    DriftDoc,
    IngressDoc,
    LockDoc,
    MoveDoc,
    PodDoc,
    RestoreDoc,
    RevisionDoc,
    ServiceDoc,
    StatusDoc,
    StorageClassDoc,
    WorkloadDoc,
)
from pacdeploy.wait import readiness

if TYPE_CHECKING:  # views for the type checker: at run time they are the dicts read
    from pacdeploy.kube.bodies import PersistentVolume, PersistentVolumeClaim, Pod, Workload

APP_PODS = f"name in ({DEPLOYMENT},{STATEFULSET})"
# What collect() reads at once, in its first round: the app's objects, each by name or
# selector (never every volume of the cluster).
_READS: dict[str, Callable[[Cluster, str], Any]] = {
    "classes": lambda cluster, _: cluster.list("StorageClass"),
    "namespace": lambda cluster, ns: cluster.get("Namespace", ns),
    "pods": lambda cluster, ns: cluster.list("Pod", ns, label_selector=APP_PODS),
    "deployment": lambda cluster, ns: cluster.get("Deployment", DEPLOYMENT, ns),
    "statefulset": lambda cluster, ns: cluster.get("StatefulSet", STATEFULSET, ns),
    "claims": lambda cluster, ns: cluster.list("PersistentVolumeClaim", ns),
    "services": lambda cluster, ns: cluster.list("Service", ns),
    "ingress": lambda cluster, ns: cluster.get("Ingress", INGRESS, ns),
    "revisions": revisions.read,
}


def _pod(pod: Pod) -> PodDoc:
    status = pod.get("status", {})
    return {
        "name": name_of(pod),
        "phase": "Terminating"
        if pod["metadata"].get("deletionTimestamp")
        else status.get("phase", "Unknown"),
        "ready": readiness.has_ready_condition(pod),
        "node": pod.get("spec", {}).get("nodeName"),
        "restarts": sum(c.get("restartCount", 0) for c in status.get("containerStatuses", [])),
        "claims": readiness.claims_of(pod),
    }


def _reach(svc: dict[str, Any], namespace: str) -> str:
    kind = svc["spec"].get("type", "ClusterIP")
    ports = svc["spec"].get("ports", [])
    port = DEFAULT_LOCAL_PORT
    forward = f"pacdeploy forward {port} -n {namespace}, then http://127.0.0.1:{port}"
    if kind == "LoadBalancer":
        ingress = svc.get("status", {}).get("loadBalancer", {}).get("ingress") or []
        if ingress:
            host = ingress[0].get("ip") or ingress[0].get("hostname")
            return f"http://{host}:{ports[0]['port']}"
        return f"external address pending (minikube: `minikube tunnel`); meanwhile {forward}"
    if kind == "NodePort":
        return f"any node address, port {ports[0].get('nodePort')}; or {forward}"
    return forward


def _workload(obj: Workload | None, pods: list[Pod]) -> WorkloadDoc | None:
    if obj is None:
        return None
    verdict = readiness.of(obj)
    mine = [p for p in pods if readiness.selects(obj, p)]
    status = obj.get("status", {})
    return {
        "name": name_of(obj),
        "replicas": obj["spec"].get("replicas", 1),
        "readyReplicas": status.get("readyReplicas", 0),
        "availableReplicas": status.get("availableReplicas", 0),
        "ready": verdict.ready,
        "waitingFor": verdict.message or None,
        "images": [c["image"] for c in obj["spec"]["template"]["spec"]["containers"]],
        "pods": sorted((_pod(p) for p in mine), key=lambda p: p["name"]),
    }


def collect(cluster: Cluster, namespace: str) -> StatusDoc:
    """Everything `status` shows: the app's objects in one round of parallel reads, then
    the volumes its claims are bound to, by name (never every volume of the cluster)."""
    reads = [functools.partial(read, cluster, namespace) for read in _READS.values()]
    found = dict(zip(_READS, fanout.together(*reads), strict=True))
    names = sorted({n for c in found["claims"] if (n := c["spec"].get("volumeName"))})
    volumes = fanout.each(lambda name: cluster.get("PersistentVolume", name), names)
    found["volumes"] = [v for v in volumes if v is not None]
    return document(namespace, found)


def document(namespace: str, found: dict[str, Any]) -> StatusDoc:
    """The status document from what was read; absent objects are null."""
    classes, ns, statefulset = found["classes"], found["namespace"], found["statefulset"]
    doc: StatusDoc = {
        "schemaVersion": SCHEMA_VERSION,
        "namespace": {
            "name": namespace,
            "exists": ns is not None,
            "phase": (ns or {}).get("status", {}).get("phase"),
        },
        "defaultStorageClasses": storage.defaults(classes),
        "storageClasses": [_class(sc) for sc in sorted(classes, key=name_of)],
        "deployment": None,
        "statefulset": None,
        "services": [],
        "ingress": None,
        "claims": [],
        "restore": None,
        "move": None,
        "mongoLocked": None,
        "drift": [],
        "revision": None,
    }
    if ns is None:
        return doc
    volumes = {name_of(pv): pv for pv in found["volumes"]}
    doc |= {
        "drift": drifted(found),
        "revision": _revision(found.get("revisions") or []),
        "restore": _restore(statefulset, namespace),
        "move": _move(ns, namespace),
        "mongoLocked": _locked(statefulset, namespace),
        "deployment": _workload(found["deployment"], found["pods"]),
        "statefulset": _workload(statefulset, found["pods"]),
        "claims": [_claim(c, volumes) for c in sorted(found["claims"], key=name_of)],
        "services": [_service(s, namespace) for s in sorted(found["services"], key=name_of)],
        "ingress": _ingress(found["ingress"]),
    }
    return doc


def _class(storage_class: dict[str, Any]) -> StorageClassDoc:
    return {
        "name": name_of(storage_class),
        "provisioner": storage_class.get("provisioner"),
        "default": storage.is_default(storage_class),
    }


def _revision(found: list[revisions.Revision]) -> RevisionDoc | None:
    live = revisions.live(found)
    if live is None:
        return None
    return {"number": live.number, "stack": live.options.stack, "images": live.images}


def _restore(statefulset: dict[str, Any] | None, namespace: str) -> RestoreDoc | None:
    under_way = intent.intent_of(statefulset) if statefulset is not None else None
    if not under_way:
        return None
    return {
        "source": under_way.source,
        "finish": under_way.command(namespace),
        "undo": f"pacdeploy restore --undo --yes -n {namespace}",
    }


def _move(ns: dict[str, Any], namespace: str) -> MoveDoc | None:
    if (moving := moves.intent_of(ns)) is None:
        return None
    return {"source": moving.source, "target": moving.target, "finish": moving.command(namespace)}


def _locked(statefulset: dict[str, Any] | None, namespace: str) -> LockDoc | None:
    if not (stale := consistency.held_by(statefulset)):
        return None
    return {"pods": stale, "release": f"pacdeploy backup create NAME -n {namespace}"}


def _claim(claim: PersistentVolumeClaim, volumes: dict[str, PersistentVolume]) -> ClaimDoc:
    volume = volumes.get(claim["spec"].get("volumeName") or "")
    return {
        "name": name_of(claim),
        "phase": claim.get("status", {}).get("phase"),
        "storageClass": claim["spec"].get("storageClassName"),
        "capacity": claim.get("status", {}).get("capacity", {}).get("storage"),
        "volume": None
        if volume is None
        else {
            "name": name_of(volume),
            "phase": volume.get("status", {}).get("phase"),
            "reclaimPolicy": volume["spec"].get("persistentVolumeReclaimPolicy"),
        },
    }


def _service(svc: dict[str, Any], namespace: str) -> ServiceDoc:
    spec = svc["spec"]
    return {
        "name": name_of(svc),
        "type": spec.get("type"),
        "clusterIP": spec.get("clusterIP"),
        "ports": [
            {k: p.get(k) for k in ("port", "targetPort", "nodePort") if p.get(k) is not None}
            for p in spec.get("ports", [])
        ],
        "reach": _reach(svc, namespace) if name_of(svc) == SERVICE else None,
    }


def _ingress(ingress: dict[str, Any] | None) -> IngressDoc | None:
    if ingress is None:
        return None
    lb = ingress.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    return {
        "name": INGRESS,
        "class": ingress["spec"].get("ingressClassName"),
        "hosts": [r.get("host") for r in ingress["spec"].get("rules", [])],
        "addresses": [a.get("ip") or a.get("hostname") for a in lb],
    }


def drifted(found: dict[str, Any]) -> list[DriftDoc]:
    """Each field of the app's objects that no longer holds what the live revision applied
    (someone ran `kubectl set image` or `kubectl edit` behind pacdeploy's back)."""
    live_revision = revisions.live(found.get("revisions") or [])
    if live_revision is None:
        return []
    live = {
        ("Deployment", DEPLOYMENT): found["deployment"],
        ("StatefulSet", STATEFULSET): found["statefulset"],
        ("Ingress", INGRESS): found["ingress"],
        **{("Service", name_of(s)): s for s in found["services"]},
    }
    result: list[DriftDoc] = []
    for applied in live_revision.manifests:
        current = live.get((applied["kind"], name_of(applied)))
        if current is None:
            continue
        fields_set = {k: v for k, v in applied.items() if k not in ("apiVersion", "kind")}
        for change in drift(fields_set, current):  # list items carry no kind or apiVersion
            obj = f"{applied['kind'].lower()}/{applied['metadata']['name']}"
            result.append(
                {
                    "object": obj,
                    "field": change.path,
                    "applied": change.desired,
                    "live": change.live,
                }
            )
    return result
