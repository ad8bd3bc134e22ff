"""The `status` tree: workloads hold their pods, pods their claims, claims their volumes."""

from pacdeploy.status.outline import outline
from tests.support.status import doc, lines


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
