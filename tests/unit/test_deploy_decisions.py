"""What `up` and `down` decide from what they read: apply order, ownership, what goes."""

from pacdeploy.app.manifests import MANAGED_BY, Options, render
from pacdeploy.kube.resources import ref_of
from pacdeploy.release import apply, down, fields, plan, scale
from pacdeploy.wait import readiness

OBJECTS = render(Options(namespace="games", ingress=True))


def live(objs, managed=True):
    labels = MANAGED_BY if managed else {}
    return {ref_of(o): {**o, "metadata": {**o["metadata"], "labels": labels}} for o in objs}


def test_waves_put_roles_accounts_and_policies_before_bindings_and_workloads():
    waves = [[o["kind"] for o in wave] for wave in apply.waves(OBJECTS)]
    assert waves[0] == ["Namespace"]
    # The NetworkPolicies guard the pods from their first moment.
    assert set(waves[1]) == {"ServiceAccount", "ClusterRole", "NetworkPolicy", "ConfigMap"}
    # the rollout starts after as few writes as it must: Services go beside the workloads
    assert set(waves[2]) == {
        "ClusterRoleBinding",
        "StatefulSet",
        "Deployment",
        "Service",
        "Ingress",
    }


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


def test_foreign_objects_are_named_including_the_secret():
    found = {**live(OBJECTS[:2]), **live(OBJECTS[2:3], managed=False)}
    secret = {"metadata": {"name": "mongodb-users-secret", "labels": {}}}
    assert plan.foreign_objects(found, secret) == [
        ref_of(OBJECTS[2]),
        "secret/mongodb-users-secret",
    ]


def test_dry_run_comparison_ignores_server_set_fields():
    before = {
        "kind": "Service",
        "metadata": {"name": "pacman", "resourceVersion": "1", "uid": "a", "labels": {"x": "1"}},
        "spec": {"type": "LoadBalancer"},
        "status": {"loadBalancer": {}},
    }
    after = {**before, "metadata": {**before["metadata"], "resourceVersion": "2"}, "status": {}}
    assert fields.unchanged_by_dry_run(before, after)
    changed = {**after, "spec": {"type": "NodePort"}}
    assert not fields.unchanged_by_dry_run(before, changed)


def test_an_object_the_server_only_filled_in_is_up_to_date():
    service = next(o for o in OBJECTS if ref_of(o) == "service/pacman")
    desired = fields.with_digest(service)
    live = {
        **desired,
        "metadata": {**desired["metadata"], "resourceVersion": "7", "uid": "u"},
        "spec": {
            **desired["spec"],
            "clusterIP": "10.0.0.9",
            "ports": [{**p, "protocol": "TCP"} for p in desired["spec"]["ports"]],
        },
        "status": {},
    }
    assert fields.up_to_date(desired, live)


def test_drift_a_missing_object_or_another_manifest_version_is_not_up_to_date():
    desired = fields.with_digest(next(o for o in OBJECTS if o["kind"] == "Deployment"))
    assert not fields.up_to_date(desired, None)
    drifted = {**desired, "spec": {**desired["spec"], "replicas": 5}}
    assert not fields.up_to_date(desired, drifted)
    # Same fields, but applied from other manifests: the digest differs, so apply again.
    older = fields.with_digest({**desired, "metadata": {**desired["metadata"], "x": 1}})
    assert not fields.up_to_date(desired, {**desired, "metadata": older["metadata"]})
    foreign = {**desired, "metadata": {**desired["metadata"], "labels": {}}}
    assert not fields.up_to_date(desired, foreign)


def _ready_deployment(replicas: int) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "pacman", "generation": 4, "resourceVersion": "100"},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": 4,
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": replicas,
        },
    }


def test_scale_waits_from_the_deployment_its_write_left_not_the_one_before_it():
    written_scale = {"metadata": {"resourceVersion": "117"}, "spec": {"replicas": 10}}
    written = scale.as_scaled(_ready_deployment(1), written_scale)
    assert written["metadata"]["resourceVersion"] == "117"  # the watch starts after the write
    assert written["metadata"]["generation"] == 5
    # the old Deployment was ready; as written it waits for the controller
    assert not readiness.of(written).ready


def test_scale_to_the_same_count_is_ready_at_once():
    written_scale = {"metadata": {"resourceVersion": "100"}, "spec": {"replicas": 3}}
    written = scale.as_scaled(_ready_deployment(3), written_scale)
    assert written["metadata"]["generation"] == 4
    assert readiness.of(written).ready


def test_up_opens_as_many_connections_ahead_as_its_widest_round_makes_requests() -> None:
    """plan_up's second round: a LIST per kind (the Namespace aside, read in the first),
    the Secret, mongo's claims and the CSI driver. A kind added to the manifests widens it."""
    kinds = {o["kind"] for o in render(Options())[1:]}
    assert len(kinds) + 3 == plan.CONNECTIONS_AHEAD
