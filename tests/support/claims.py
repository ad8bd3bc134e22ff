"""Claims and StorageClasses as the server returns them, for the pure tests of resizing."""

from __future__ import annotations


def claim(name: str, size: str, cls: str = "csi-hostpath-sc", have: str | None = None) -> dict:
    return {
        "metadata": {"name": name, "uid": f"uid-{name}"},
        "spec": {
            "storageClassName": cls,
            "volumeName": f"pv-{name}",
            "resources": {"requests": {"storage": size}},
        },
        "status": {"phase": "Bound", "capacity": {"storage": have or size}},
    }


def storage_class(name: str, expandable: bool) -> dict:
    sc: dict = {"metadata": {"name": name}, "provisioner": "hostpath.csi.k8s.io"}
    if expandable:
        sc["allowVolumeExpansion"] = True
    return sc
