"""The cluster-scoped objects that make the sandbox look like the lesson's minikube."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from pacdeploy.app.storage import GA

# KWOK's controller adopts nodes carrying this annotation and keeps them Ready.
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
NODE_NAMES = ("pacdeploy-sandbox", "pacdeploy-sandbox-m02", "pacdeploy-sandbox-m03")
ZONES = ("sandbox-a", "sandbox-b", "sandbox-c")

# minikube's classes: `standard` (its hostpath provisioner, default) and the csi-hostpath addon.
STORAGE_CLASSES = {
    "standard": "k8s.io/minikube-hostpath",
    "csi-hostpath-sc": "hostpath.csi.k8s.io",
}
INITIAL_DEFAULT_CLASS = "standard"
INGRESS_CLASS = "nginx"
# The csi-hostpath addon's driver serves CSI volumes, which the snapshot controller can
# snapshot; minikube's volumesnapshots addon names its class for it like this.
CSI_DRIVER = STORAGE_CLASSES["csi-hostpath-sc"]
SNAPSHOT_CLASS = "csi-hostpath-snapclass"
DEFAULT_SNAPSHOT_CLASS = "snapshot.storage.kubernetes.io/is-default-class"
# external-snapshotter's CRDs, in its client module (config/crd/kustomization.yaml).
SNAPSHOT_CRDS = "config/crd"


# What each node offers the scheduler. A kubelet reports its disk as ephemeral-storage; without
# it the scheduler finds "Insufficient ephemeral-storage" for any pod that requests some.
NODE_RESOURCES = {"cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "100Gi"}


def node(name: str, zone: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                "topology.kubernetes.io/region": "sandbox",
                "topology.kubernetes.io/zone": zone,
            },
        },
        "status": {
            "allocatable": dict(NODE_RESOURCES),
            "capacity": dict(NODE_RESOURCES),
            "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux"},
            # KWOK serves the kubelet API (logs, port-forward) on 127.0.0.1 for every node.
            "addresses": [
                {"type": "InternalIP", "address": "127.0.0.1"},
                {"type": "Hostname", "address": name},
            ],
        },
    }


def storage_class(name: str, provisioner: str, default: bool) -> dict[str, Any]:
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {
            "name": name,
            "annotations": {GA: "true" if default else "false"},
        },
        "provisioner": provisioner,
        "reclaimPolicy": "Delete",
        "volumeBindingMode": "Immediate",
    }


def ingress_class() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": {"name": INGRESS_CLASS},
        "spec": {"controller": "k8s.io/ingress-nginx"},
    }


def csi_driver() -> dict[str, Any]:
    """The driver's registration, with the csi-driver-host-path deployment's policies.

    attachRequired is false here: KWOK runs no attacher, and nothing would ever attach.
    """
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "CSIDriver",
        "metadata": {"name": CSI_DRIVER},
        "spec": {
            "attachRequired": False,
            "podInfoOnMount": True,
            "fsGroupPolicy": "File",
            "volumeLifecycleModes": ["Persistent"],
        },
    }


def snapshot_class() -> dict[str, Any]:
    return {
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshotClass",
        "metadata": {"name": SNAPSHOT_CLASS, "annotations": {DEFAULT_SNAPSHOT_CLASS: "true"}},
        "driver": CSI_DRIVER,
        "deletionPolicy": "Delete",
    }


def snapshot_crds(client_source: Path) -> list[dict[str, Any]]:
    """VolumeSnapshot, VolumeSnapshotContent and VolumeSnapshotClass (not the group kinds)."""
    return [
        crd
        for crd in kustomize_resources(client_source / SNAPSHOT_CRDS)
        if crd["spec"]["group"] == "snapshot.storage.k8s.io"
    ]


def port_forward(
    name: str, namespaces: list[str], port: int, *, target_port: int
) -> dict[str, Any]:
    """A KWOK ClusterPortForward: traffic to ``port`` of matching pods goes to 127.0.0.1."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterPortForward",
        "metadata": {"name": name},
        "spec": {
            "selector": {"matchNamespaces": namespaces},
            "forwards": [
                {"ports": [port], "target": {"address": "127.0.0.1", "port": target_port}}
            ],
        },
    }


# What an exec into a simulated pod finds on its PATH (name -> the file beside this module):
# the sandbox's mongo shell, under the name of each stack's shell (`mongo` for the lesson's
# 4.4, `mongosh` for 8.0: pacdeploy sends both the same script, as `<shell> --quiet --eval
# SCRIPT`), and the database tools both images ship, which move documents between volumes.
EXEC_LOG_ENV = "PACDEPLOY_EXEC_LOG"
MONGO_SHELL = "mongo_shell.sh"
MONGO_TOOLS = "mongo_tools.py"
STAND_INS = {
    "mongo": MONGO_SHELL,
    "mongosh": MONGO_SHELL,
    "mongodump": MONGO_TOOLS,
    "mongorestore": MONGO_TOOLS,
}


def cluster_exec(log: Path) -> dict[str, Any]:
    """A KWOK ClusterExec: an exec into any pod runs the command locally (from exec_bin)."""
    return {
        "apiVersion": "kwok.x-k8s.io/v1alpha1",
        "kind": "ClusterExec",
        "metadata": {"name": "pacdeploy-stand-ins"},
        "spec": {"execs": [{"local": {"envs": [{"name": EXEC_LOG_ENV, "value": str(log)}]}}]},
    }


def seed_objects() -> list[dict[str, Any]]:
    """Everything `sandbox up` creates once the control plane answers."""
    nodes = [node(n, z) for n, z in zip(NODE_NAMES, ZONES, strict=True)]
    classes = [
        storage_class(name, prov, default=name == INITIAL_DEFAULT_CLASS)
        for name, prov in STORAGE_CLASSES.items()
    ]
    return [*nodes, *classes, csi_driver(), snapshot_class(), ingress_class()]


# kwokctl's own defaults for the binary runtime (pkg/kwokctl/runtime/cluster.go): nodes become
# Ready and keep a lease, pods become Ready, complete and are deleted. With the Stage CRD
# enabled kwokctl loads none of them, so `sandbox up` creates them from KWOK's source.
DEFAULT_STAGES = "kustomize/stage/fast"


def kustomize_resources(directory: Path) -> list[dict[str, Any]]:
    """The objects of a plain kustomization (resources only), following nested directories."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    objects: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        if path.is_dir():
            objects += kustomize_resources(path)
        else:
            objects += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return objects


def default_stages(kwok_source: Path) -> list[dict[str, Any]]:
    return kustomize_resources(kwok_source / DEFAULT_STAGES)
