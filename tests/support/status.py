"""A `status -o json` document as the pure tests build it, and an outline as indented lines."""

from pacdeploy.status.schema import SCHEMA_VERSION


def doc():
    claim = {
        "name": "mongo-db-mongo-0",
        "phase": "Bound",
        "storageClass": "csi-hostpath-sc",
        "capacity": "1Gi",
        "volume": {"name": "pvc-1", "phase": "Bound", "reclaimPolicy": "Delete"},
    }
    orphan = {**claim, "name": "mongo-db-mongo-1", "volume": None, "phase": "Pending"}
    pod = {"name": "mongo-0", "phase": "Running", "ready": True, "node": "n1", "restarts": 0}
    return {
        "schemaVersion": SCHEMA_VERSION,
        "namespace": {"name": "pacman", "exists": True, "phase": "Active"},
        "defaultStorageClasses": ["csi-hostpath-sc"],
        "storageClasses": [],
        "deployment": None,
        "statefulset": {
            "name": "mongo",
            "replicas": 1,
            "readyReplicas": 1,
            "ready": True,
            "waitingFor": None,
            "pods": [{**pod, "claims": ["mongo-db-mongo-0"]}],
        },
        "services": [
            {
                "name": "pacman",
                "type": "ClusterIP",
                "clusterIP": "10.0.0.1",
                "ports": [{"port": 80, "targetPort": "http-server"}],
                "reach": "pacdeploy forward 9090 -n pacman, then http://127.0.0.1:9090",
            }
        ],
        "ingress": None,
        "claims": [claim, orphan],
        "restore": None,
        "move": None,
        "mongoLocked": None,
        "drift": [],
        "revision": None,
    }


def lines(node, depth=0):
    yield "  " * depth + node.text
    for child in node.children:
        yield from lines(child, depth + 1)
