"""What `down` decides from what it reads: the order it deletes in, and what goes."""

from pacdeploy.kube.resources import ref_of
from pacdeploy.release import down
from tests.support.rendered import OBJECTS, live


def test_deletion_runs_the_apply_order_backwards():
    kinds = [o["kind"] for o in down.deletion_order(OBJECTS)]
    assert kinds[-1] == "Namespace"
    assert kinds.index("ClusterRoleBinding") < kinds.index("ClusterRole")
    assert kinds.index("Deployment") < kinds.index("ServiceAccount")


def test_down_keeps_the_namespace_and_deletes_only_what_pacdeploy_made():
    found = live(OBJECTS)
    found[ref_of(OBJECTS[0])] = OBJECTS[0]
    found["service/pacman"]["metadata"]["labels"] = {}  # someone else's Service
    found.pop("ingress/pacman-ingress")  # never created
    targets = [ref_of(o) for o in down.down_targets(OBJECTS, found, purge=False)]
    assert "namespace/games" not in targets
    assert "service/pacman" not in targets and "ingress/pacman-ingress" not in targets
    assert "statefulset/mongo" in targets and "clusterrole/pacman-node-reader-games" in targets


def test_purge_deletes_what_pacdeploy_made_then_the_namespace():
    # the workloads go first, so no pod is left for the namespace controller to wait on
    targets = [ref_of(o) for o in down.down_targets(OBJECTS, live(OBJECTS), purge=True)]
    assert targets[-1] == "namespace/games"
    assert set(targets[:-1]) == {ref_of(o) for o in OBJECTS[1:]}
    assert targets.index("statefulset/mongo") < targets.index("serviceaccount/mongo")


def test_nothing_there_means_nothing_to_do():
    assert down.down_targets(OBJECTS, {}, purge=True) == []
