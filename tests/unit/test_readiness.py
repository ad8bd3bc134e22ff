"""Rollout rules (kubectl rollout status / Helm) and the reasons shown while waiting."""

from pacdeploy import readiness


def sts(replicas=1, ready=1, updated=1, generation=1, observed=1, current="r1", update="r1"):
    return {
        "metadata": {"name": "mongo", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "readyReplicas": ready,
            "updatedReplicas": updated,
            "currentRevision": current,
            "updateRevision": update,
        },
    }


def dep(replicas=1, updated=1, available=1, total=1, generation=1, observed=1, conditions=()):
    return {
        "metadata": {"name": "pacman", "generation": generation},
        "spec": {"replicas": replicas},
        "status": {
            "observedGeneration": observed,
            "updatedReplicas": updated,
            "availableReplicas": available,
            "replicas": total,
            "conditions": list(conditions),
        },
    }


def test_statefulset_ready_only_when_every_rule_holds():
    assert readiness.statefulset(sts()).ready
    assert not readiness.statefulset(sts(generation=2)).ready
    assert "1 more pod" in readiness.statefulset(sts(ready=0)).waiting_for
    assert not readiness.statefulset(sts(replicas=3, ready=3, updated=2)).ready
    rolling = readiness.statefulset(sts(current="r1", update="r2"))
    assert not rolling.ready and "rolling update" in rolling.waiting_for


def test_statefulset_partition_counts_only_pods_above_it():
    obj = sts(replicas=3, ready=3, updated=1, current="r1", update="r2")
    obj["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    assert readiness.statefulset(obj).ready


def test_deployment_rules():
    assert readiness.deployment(dep()).ready
    assert not readiness.deployment(dep(generation=3, observed=2)).ready
    assert "to be updated" in readiness.deployment(dep(replicas=3, updated=1)).waiting_for
    old = readiness.deployment(dep(replicas=2, updated=2, available=2, total=3))
    assert "old pod" in old.waiting_for
    assert (
        "available"
        in readiness.deployment(dep(replicas=2, updated=2, available=1, total=2)).waiting_for
    )
    assert readiness.deployment(dep(replicas=0, updated=0, available=0, total=0)).ready


def test_deployment_past_its_deadline_fails_instead_of_waiting():
    verdict = readiness.deployment(
        dep(
            available=0,
            conditions=[
                {
                    "type": "Progressing",
                    "reason": "ProgressDeadlineExceeded",
                    "message": 'ReplicaSet "pacman-1" has timed out progressing.',
                }
            ],
        )
    )
    assert verdict.failed and "timed out" in verdict.waiting_for


def pod(name="mongo-0", phase="Pending", conditions=(), containers=(), claims=()):
    return {
        "metadata": {"name": name},
        "spec": {
            "volumes": [{"name": c, "persistentVolumeClaim": {"claimName": c}} for c in claims]
        },
        "status": {
            "phase": phase,
            "conditions": list(conditions),
            "containerStatuses": list(containers),
        },
    }


def test_pending_claim_is_named_with_its_event():
    events = [
        {
            "involvedObject": {"kind": "PersistentVolumeClaim", "name": "data-mongo-0"},
            "reason": "ExternalProvisioning",
            "message": "waiting for provisioner",
            "lastTimestamp": "2026-01-01T00:00:00Z",
        }
    ]
    claims = {"data-mongo-0": {"status": {"phase": "Pending"}}}
    reason = readiness.pod_blocker(pod(claims=["data-mongo-0"]), claims, events)
    assert reason == "mongo-0: PVC data-mongo-0 is Pending: waiting for provisioner"


def test_unschedulable_image_pull_and_probe_reasons():
    unschedulable = pod(
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "message": "0/3 nodes are available: insufficient cpu",
            }
        ]
    )
    assert "insufficient cpu" in readiness.pod_blocker(unschedulable, {}, [])
    pulling = pod(
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "True"}],
        containers=[
            {"state": {"waiting": {"reason": "ImagePullBackOff", "message": "manifest unknown"}}}
        ],
    )
    assert readiness.pod_blocker(pulling, {}, []) == "mongo-0: ImagePullBackOff: manifest unknown"
    running = pod(
        phase="Running",
        conditions=[
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "False"},
        ],
    )
    events = [
        {
            "involvedObject": {"kind": "Pod", "name": "mongo-0"},
            "reason": "Unhealthy",
            "message": "Readiness probe failed: connection refused",
        }
    ]
    assert "Readiness probe failed" in readiness.pod_blocker(running, {}, events)


def test_ready_pods_have_no_blocker():
    ready = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert readiness.blockers([ready], [], []) == []
