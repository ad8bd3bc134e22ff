"""The stacks on the sandbox: pods pinned to the architectures their images have, by the real
scheduler on nodes of two architectures; the new root causes named at once (KWOK Stages and
Logs); the digests each revision's pods ran.

The arm64 nodes are added for one test and removed after it: the app pods of other tests
running meanwhile may land on them (the modern stack runs there; KWOK runs any image), which
changes nothing for them. "Every schedulable node is arm64" is not staged here, since
cordoning the sandbox's own nodes would stall every other test: the node set the preflight
reads is a pure function, tested in tests/unit/test_preflight.py.
"""

from __future__ import annotations

import time
import uuid

import pytest

from pacdeploy.sandbox import objects
from tests.support import one_line
from tests.support.kwok import CRASH_LOOP, IMAGE_PULL, failing_stage, pod_logs

pytestmark = pytest.mark.integration
ROOT_CAUSE_WITHIN = 10.0  # seconds after the pod shows it (plus the CLI's start)


def arm64_node(name: str) -> dict:
    node = objects.node(name, objects.ZONES[0])
    node["metadata"]["labels"].update(
        {"kubernetes.io/arch": "arm64", "beta.kubernetes.io/arch": "arm64"}
    )
    node["status"]["nodeInfo"]["architecture"] = "arm64"
    return node


@pytest.fixture
def arm64_nodes(cluster):
    """Two arm64 nodes beside the sandbox's amd64 ones, Ready under KWOK; removed after."""
    names = [f"pd-arm64-{uuid.uuid4().hex[:5]}-{i}" for i in range(2)]
    for name in names:
        cluster.create(arm64_node(name))
    deadline = time.monotonic() + 30
    while not all(_ready(cluster.get("Node", n)) for n in names):
        assert time.monotonic() < deadline, "KWOK did not make the arm64 nodes Ready"
        time.sleep(0.3)
    yield names
    for name in names:
        cluster.delete("Node", name)


def _ready(node) -> bool:
    conditions = (node or {}).get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


@pytest.fixture
def stages(cluster):
    created = []

    def add(stage):
        cluster.create(stage)
        created.append(stage["metadata"]["name"])

    yield add
    for name in created:
        cluster.delete("Stage", name)


@pytest.mark.sandbox_only
def test_with_amd64_and_arm64_nodes_every_pod_lands_where_its_image_has_a_build(
    target, cluster, app_ns, arm64_nodes
):
    result = target.pacdeploy("-n", app_ns, "up", "--stack", "lesson", "--replicas", "6")
    assert result.returncode == 0, result.stderr
    pods = cluster.list("Pod", app_ns)
    assert len(pods) == 7
    # The lesson's images are amd64 only: the scheduler keeps every pod off the arm64 nodes.
    assert not {p["spec"]["nodeName"] for p in pods} & set(arm64_nodes)
    history = target.succeeds("-n", app_ns, "history", "-o", "json")
    assert '"stack": "lesson"' in history


@pytest.mark.sandbox_only
def test_a_plain_up_keeps_the_stack_and_another_stack_is_refused_before_any_write(
    target, cluster, app_ns
):
    target.succeeds("-n", app_ns, "up", "--stack", "lesson")
    before = cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"]
    again = target.pacdeploy("-n", app_ns, "up")
    assert again.returncode == 0, again.stderr
    image = cluster.get("StatefulSet", "mongo", app_ns)["spec"]["template"]["spec"]
    assert image["containers"][0]["image"] == "docker.io/bitnamilegacy/mongodb:4.4.8"
    moved = target.pacdeploy("-n", app_ns, "up", "--stack", "modern")
    assert moved.returncode == 5, moved.stderr
    assert "lesson stack's MongoDB data" in one_line(moved.stderr)
    after = cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"]
    assert after == before


def _timed_up(target, namespace, *args):
    started = time.monotonic()
    result = target.pacdeploy("-n", namespace, "up", "--timeout", "5m", *args)
    return result, time.monotonic() - started


@pytest.mark.sandbox_only
def test_exec_format_error_in_the_log_is_named_at_once(target, app_ns, cluster, stages, tmp_path):
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=255, reason="Error")))
    line = "exec /usr/local/bin/docker-entrypoint.sh: exec format error"
    cluster.create(pod_logs(tmp_path, app_ns, "mongo-0", "mongo", [line]))
    result, elapsed = _timed_up(target, app_ns)
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    said = one_line(result.stderr)
    assert "ExecFormatError" in said and "has no build for node" in said


@pytest.mark.sandbox_only
def test_sigill_names_the_missing_avx_and_the_lesson_stack(target, app_ns, stages):
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=132, reason="Error")))
    result, elapsed = _timed_up(target, app_ns)
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    said = one_line(result.stderr)
    assert "IllegalInstruction" in said and "AVX" in said and "--stack lesson" in said


@pytest.mark.sandbox_only
def test_a_manifest_unknown_is_fatal_at_once(target, app_ns, stages):
    refused = IMAGE_PULL.replace("not found", "manifest unknown")
    stages(failing_stage(app_ns, "pacman", refused, phase="Pending"))
    result, elapsed = _timed_up(target, app_ns, "--pacman-image", "example.org/gone:1")
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    assert "manifest unknown" in one_line(result.stderr)
