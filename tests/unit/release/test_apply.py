"""The order `up` applies in."""

from pacdeploy.release import apply
from tests.support.rendered import OBJECTS


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
