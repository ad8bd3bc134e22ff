"""The status document: claims joined to volumes, pods to workloads."""


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
