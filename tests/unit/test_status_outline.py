"""The `status` tree: workloads hold their pods, pods their claims, claims their volumes."""

from pacdeploy.status.outline import outline
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


def test_the_tree_nests_pod_claim_and_volume_and_keeps_orphan_claims():
    assert list(lines(outline(doc()))) == [
        "namespace/pacman Active",
        "  default storageclass: csi-hostpath-sc",
        "  deployment: not deployed",
        "  statefulset/mongo 1/1 ready, ready",
        "    pod/mongo-0 Running ready node=n1",
        "      pvc/mongo-db-mongo-0 Bound 1Gi class=csi-hostpath-sc",
        "        pv/pvc-1 Bound reclaim=Delete",
        "  pvc/mongo-db-mongo-1 Pending 1Gi class=csi-hostpath-sc",
        "  service/pacman ClusterIP 10.0.0.1 80->http-server",
        "    reach: pacdeploy forward 9090 -n pacman, then http://127.0.0.1:9090",
    ]


def test_a_lock_an_interrupted_backup_left_comes_first_with_how_to_release_it():
    held = {"pods": ["mongo-0"], "release": "pacdeploy backup create NAME -n pacman"}
    shown = list(lines(outline({**doc(), "mongoLocked": held})))
    assert shown[1].startswith("  mongo's writes held (db.fsyncLock in mongo-0)")
    assert "`pacdeploy backup create NAME -n pacman`" in shown[1]


def test_document_joins_claims_to_volumes_and_pods_to_workloads():
    from pacdeploy.status.collect import document

    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "mongo", "generation": 1},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"name": "mongo"}},
            "template": {"spec": {"containers": [{"image": "mongo:4.4"}]}},
        },
        "status": {"observedGeneration": 1, "readyReplicas": 1, "updatedReplicas": 1},
    }
    pod = {
        "metadata": {"name": "mongo-0", "labels": {"name": "mongo"}},
        "spec": {"nodeName": "n1", "volumes": [{"persistentVolumeClaim": {"claimName": "c"}}]},
        "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]},
    }
    claim = {"metadata": {"name": "c"}, "spec": {"volumeName": "pv1"}, "status": {"phase": "Bound"}}
    pv = {"metadata": {"name": "pv1"}, "spec": {"persistentVolumeReclaimPolicy": "Retain"}}
    doc = document(
        "pacman",
        {
            "classes": [],
            "namespace": {"metadata": {"name": "pacman"}, "status": {"phase": "Active"}},
            "pods": [pod],
            "deployment": None,
            "statefulset": sts,
            "volumes": [pv],
            "claims": [claim],
            "services": [],
            "ingress": None,
        },
    )
    assert doc["statefulset"]["ready"] and doc["statefulset"]["pods"][0]["claims"] == ["c"]
    assert doc["claims"][0]["volume"] == {"name": "pv1", "phase": None, "reclaimPolicy": "Retain"}
    assert doc["deployment"] is None and doc["namespace"]["phase"] == "Active"
