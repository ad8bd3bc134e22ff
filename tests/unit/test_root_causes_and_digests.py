"""The new root causes a wait names, and the digests a revision records and a rollback runs."""

from __future__ import annotations

from pacdeploy.app.manifests import Options, render
from pacdeploy.data import revisions
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


DIGEST = "sha256:" + "c" * 64


def test_a_revision_records_the_digest_each_ready_container_ran():
    ready = {
        "spec": {"containers": [{"name": "mongo", "image": "docker.io/library/mongo:8.0.26"}]},
        "status": {
            "containerStatuses": [
                {"name": "mongo", "ready": True, "imageID": f"docker.io/library/mongo@{DIGEST}"}
            ]
        },
    }
    assert revisions.ran([ready]) == {"mongo": f"docker.io/library/mongo:8.0.26@{DIGEST}"}
    ready["status"]["containerStatuses"][0]["imageID"] = ""  # no digest reported
    assert revisions.ran([ready]) == {}


def test_a_rollback_applies_the_recorded_digests_to_containers_and_their_init_twins():
    manifests = render(Options(stack="lesson", volume_permissions=True))
    images = {"mongo": f"docker.io/bitnamilegacy/mongodb:4.4.8@{DIGEST}"}
    pinned = revisions.pinned(manifests, images)
    (sts,) = [o for o in pinned if o["kind"] == "StatefulSet"]
    pod = sts["spec"]["template"]["spec"]
    assert {c["image"] for c in [*pod["initContainers"], *pod["containers"]]} == {images["mongo"]}
    (dep,) = [o for o in pinned if o["kind"] == "Deployment"]
    assert dep == next(o for o in manifests if o["kind"] == "Deployment")  # none recorded
    assert manifests != pinned  # the recorded manifests are not changed


def test_revisions_keep_their_images_and_old_records_read_as_the_lesson_stack():
    revision = revisions.Revision(1, Options(), "standard", [], "install", images={"mongo": "m@x"})
    cm = revisions.to_configmap(revision, "ns")
    assert revisions.from_configmap(cm).images == {"mongo": "m@x"}
    assert revisions.from_configmap(cm).options.stack == "modern"
    cm["data"]["options"] = '{"namespace": "ns"}'  # recorded before stacks existed
    del cm["data"]["images"]
    old = revisions.from_configmap(cm)
    assert old.options.stack == "lesson" and old.images == {}
