"""Rollout rules (kubectl rollout status / Helm) and the reasons shown while waiting."""

from pacdeploy.wait import readiness


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
    assert "1 more pod" in readiness.statefulset(sts(ready=0)).message
    assert not readiness.statefulset(sts(replicas=3, ready=3, updated=2)).ready
    rolling = readiness.statefulset(sts(current="r1", update="r2"))
    assert not rolling.ready and "rolling update" in rolling.message


def test_statefulset_partition_counts_only_pods_above_it():
    obj = sts(replicas=3, ready=3, updated=1, current="r1", update="r2")
    obj["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    assert readiness.statefulset(obj).ready


def test_deployment_rules():
    assert readiness.deployment(dep()).ready
    assert not readiness.deployment(dep(generation=3, observed=2)).ready
    assert "to be updated" in readiness.deployment(dep(replicas=3, updated=1)).message
    old = readiness.deployment(dep(replicas=2, updated=2, available=2, total=3))
    assert "old pod" in old.message
    assert (
        "available"
        in readiness.deployment(dep(replicas=2, updated=2, available=1, total=2)).message
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
    assert verdict.failed and "timed out" in verdict.message


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


def running(name="mongo-0", containers=(), ready=False, **kw):
    return pod(
        name=name,
        phase="Running",
        conditions=[
            {"type": "PodScheduled", "status": "True"},
            {"type": "Ready", "status": "True" if ready else "False"},
        ],
        containers=containers,
        **kw,
    )


def crashed(restarts, exit_code=1, reason="Error", waiting="CrashLoopBackOff"):
    return {
        "name": "mongo",
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": waiting, "message": "back-off 5m0s restarting"}},
        "lastState": {"terminated": {"exitCode": exit_code, "reason": reason}},
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
    problem = readiness.diagnose_pod(pod(claims=["data-mongo-0"]), claims, events)
    assert problem.line() == (
        "mongo-0: VolumePending: PVC data-mongo-0 is Pending: waiting for provisioner"
    )
    assert problem.fatal_after is None


def test_unschedulable_pod_names_the_schedulers_message():
    unschedulable = pod(
        conditions=[
            {
                "type": "PodScheduled",
                "status": "False",
                "message": "0/3 nodes are available: insufficient cpu",
            }
        ]
    )
    problem = readiness.diagnose_pod(unschedulable, {}, [])
    assert problem.reason == "Unschedulable" and "insufficient cpu" in problem.line()


def test_image_pull_names_the_image_and_fails_when_the_registry_refuses():
    pulling = pod(
        conditions=[{"type": "PodScheduled", "status": "True"}],
        containers=[
            {
                "name": "pacman",
                "image": "quay.io/x/nope:1",
                "state": {"waiting": {"reason": "ImagePullBackOff", "message": "manifest unknown"}},
            }
        ],
    )
    problem = readiness.diagnose_pod(pulling, {}, [])
    assert problem.line() == "mongo-0: ImagePullBackOff: image quay.io/x/nope:1: manifest unknown"
    assert problem.fatal_after == 0  # the registry said no: retrying cannot help
    waiting = pulling["status"]["containerStatuses"][0]["state"]["waiting"]
    waiting["message"] = "dial tcp: i/o timeout"
    assert readiness.diagnose_pod(pulling, {}, []).fatal_after == readiness.IMAGE_PULL_GRACE


def test_missing_secret_key_is_a_config_error():
    config = running(
        containers=[
            {
                "name": "mongo",
                "state": {
                    "waiting": {
                        "reason": "CreateContainerConfigError",
                        "message": "couldn't find key database-password in Secret ns/s",
                    }
                },
            }
        ]
    )
    problem = readiness.diagnose_pod(config, {}, [])
    assert "couldn't find key database-password" in problem.line()
    assert problem.fatal_after == readiness.CONFIG_ERROR_GRACE


def test_crash_loop_reports_exit_code_and_restarts_and_is_fatal_from_three():
    early = readiness.diagnose_pod(running(containers=[crashed(1)]), {}, [])
    assert early.reason == "CrashLoopBackOff" and early.fatal_after is None
    assert early.wants_log and early.container == "mongo"
    late = readiness.diagnose_pod(running(containers=[crashed(5)]), {}, [])
    assert late.fatal_after == 0
    assert late.line("boom") == (
        "mongo-0: CrashLoopBackOff (container mongo, exit code 1, 5 restarts); last log line: boom"
    )


def test_oom_killed_names_the_memory_limit():
    oom = running(containers=[crashed(4, exit_code=137, reason="OOMKilled")])
    oom["spec"]["containers"] = [{"name": "mongo", "resources": {"limits": {"memory": "512Mi"}}}]
    problem = readiness.diagnose_pod(oom, {}, [])
    assert problem.reason == "OOMKilled"
    assert "exit code 137" in problem.detail and "memory limit 512Mi" in problem.detail


def test_a_container_running_again_after_crashes_is_not_fatal():
    recovering = crashed(5)
    recovering["state"] = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    problem = readiness.diagnose_pod(running(containers=[recovering]), {}, [])
    assert problem.fatal_after is None


def test_failing_probe_is_named_from_its_event():
    events = [
        {
            "involvedObject": {"kind": "Pod", "name": "mongo-0"},
            "reason": "Unhealthy",
            "message": "Readiness probe failed: connection refused",
        }
    ]
    problem = readiness.diagnose_pod(running(), {}, events)
    assert problem.reason == "ProbeFailing" and "Readiness probe failed" in problem.line()


def test_ready_pods_have_no_problem():
    ready = pod(phase="Running", conditions=[{"type": "Ready", "status": "True"}])
    assert readiness.diagnose([ready], [], []) == []


def test_statefulset_still_scaling_down_is_not_ready():
    obj = sts(replicas=1, ready=1)
    obj["status"]["replicas"] = 3
    verdict = readiness.statefulset(obj)
    assert verdict.status is readiness.Status.IN_PROGRESS
    assert "2 pod(s) to be removed" in verdict.message


def test_paused_deployment_fails_with_the_way_out():
    paused = dep(replicas=2, updated=1, available=1, total=1)
    paused["spec"]["paused"] = True
    verdict = readiness.deployment(paused)
    assert verdict.status is readiness.Status.FAILED
    assert "kubectl rollout resume deployment/pacman" in verdict.message


def test_deployment_scale_down_is_done_once_the_controller_has_taken_it_as_kubectl_says():
    not_seen = readiness.deployment(
        dep(replicas=1, updated=10, available=10, total=10, generation=2)
    )
    assert not not_seen.ready and "controller to see the new spec" in not_seen.message
    taken = readiness.deployment(dep(replicas=1, updated=10, available=10, total=10))
    assert taken.ready and taken.progress == "1/1 available"
