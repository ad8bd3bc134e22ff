"""The root causes a wait names: the wrong architecture, a missing instruction, a vanished
image."""

from __future__ import annotations

from pacdeploy.wait import causes, readiness
from pacdeploy.wait.causes import Hints

ARM = Hints(node_arch={"n1": "arm64"}, last_good={"mongo": "docker.io/library/mongo@sha256:ab"})


def pod(container_status, node="n1"):
    return {
        "metadata": {"name": "mongo-0"},
        "spec": {"nodeName": node, "containers": [{"name": "mongo"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "PodScheduled", "status": "True"}],
            "containerStatuses": [{"name": "mongo", "image": "mongo:8", **container_status}],
        },
    }


def crash(**terminated):
    return {
        "restartCount": 1,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": terminated},
    }


def test_exec_format_error_names_the_nodes_architecture_and_the_stack_that_runs_there():
    message = 'exec: "docker-entrypoint.sh": exec format error'
    (problem,) = readiness.diagnose([pod(crash(exitCode=128, message=message))], [], [], hints=ARM)
    assert problem.reason == causes.WRONG_ARCH and problem.fatal_after == 0.0
    assert "node n1 (arm64)" in problem.detail and "`--stack modern`" in problem.detail


def test_exec_format_error_in_the_log_alone_is_named_too():
    (problem,) = readiness.diagnose([pod(crash(exitCode=255))], [], [], hints=ARM)
    assert problem.reason == "CrashLoopBackOff" and problem.fatal_after is None  # 1 restart
    found = readiness.from_log(problem, "exec /usr/bin/node: exec format error", pod({}), hints=ARM)
    assert found.reason == causes.WRONG_ARCH and found.fatal_after == 0.0
    assert readiness.from_log(problem, "some other crash", pod({}), hints=ARM) == problem


def test_sigill_names_avx_and_the_lesson_stack_at_once():
    (problem,) = readiness.diagnose([pod(crash(exitCode=132))], [], [], hints=ARM)
    assert problem.reason == causes.NO_INSTRUCTION and problem.fatal_after == 0.0
    assert "AVX" in problem.detail and "`--stack lesson`" in problem.detail


def test_a_vanished_image_names_the_digest_the_last_good_revision_ran():
    waiting = {"state": {"waiting": {"reason": "ErrImagePull", "message": "manifest unknown"}}}
    (problem,) = readiness.diagnose([pod(waiting)], [], [], hints=ARM)
    assert problem.fatal_after == 0.0
    assert "the last good revision ran docker.io/library/mongo@sha256:ab" in problem.detail
    (plain,) = readiness.diagnose([pod(waiting)], [], [])
    assert "last good" not in plain.detail
