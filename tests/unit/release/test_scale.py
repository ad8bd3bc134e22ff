"""What `scale` waits from."""

from pacdeploy.release import scale
from pacdeploy.wait import readiness


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
