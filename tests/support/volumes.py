"""mongo-0's volume on the sandbox, a real directory: its claim, its PV's name, the directory
behind it (found from the PV, as a minikube user would) and the marker file a test writes
there to follow the bytes."""

from __future__ import annotations

from pathlib import Path

CLAIM = "mongo-db-mongo-0"


def volume_dir(cluster, namespace: str) -> Path:
    """The directory behind mongo-0's volume now (another one once its claim is replaced),
    from its PV."""
    from pacdeploy.sandbox.provisioner import volume_path

    claim = cluster.get("PersistentVolumeClaim", CLAIM, namespace)
    found = volume_path(cluster.get("PersistentVolume", claim["spec"]["volumeName"]))
    assert found is not None, f"mongo-0's volume in {namespace} has no directory"
    return found


def volume_of(cluster, namespace: str) -> str:
    return cluster.get("PersistentVolumeClaim", CLAIM, namespace)["spec"]["volumeName"]


def marker(cluster, namespace: str) -> str:
    return (volume_dir(cluster, namespace) / "marker").read_text()


def write_marker(cluster, ns: str, text: str) -> None:
    (volume_dir(cluster, ns) / "marker").write_text(text)
