"""The stacks on the sandbox: pods pinned to the architectures their images have, by the real
scheduler on nodes of two architectures; the stack an app keeps. (The new root causes are in
test_failures.py, with the other failure modes.)

The arm64 nodes are added for a test and removed after it, so those tests run alone
(`exclusive`): another test's pod placed on one would be deleted with it. "Every schedulable
node is arm64" is staged by cordoning the sandbox's own amd64 nodes, alone too; which nodes
the preflight counts is a pure function, tested in tests/unit/release/test_preflight.py.
"""

from __future__ import annotations

import time
import uuid

import pytest

from pacdeploy.kube.resources import name_of
from pacdeploy.sandbox import objects
from tests.support import one_line

pytestmark = pytest.mark.integration


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


@pytest.mark.exclusive  # adds nodes other tests' pods could land on, then removes them
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


@pytest.mark.exclusive  # cordons the sandbox's amd64 nodes: nothing else may schedule meanwhile
@pytest.mark.sandbox_only
def test_on_arm64_nodes_only_the_default_stack_runs_and_the_lesson_is_refused_before_any_write(
    target, cluster, app_ns, arm64_nodes
):
    amd64 = [
        name_of(n)
        for n in cluster.list("Node")
        if n["status"]["nodeInfo"]["architecture"] == "amd64"
    ]
    for node in amd64:
        cluster.merge_patch("Node", node, {"spec": {"unschedulable": True}})
    try:
        refused = target.pacdeploy("-n", app_ns, "up", "--stack", "lesson")
        assert refused.returncode == 7, refused.stderr
        assert "--stack modern" in one_line(refused.stderr)
        assert cluster.get("Namespace", app_ns) is None  # nothing was written
        target.succeeds("-n", app_ns, "up", "--replicas", "2")
        pods = cluster.list("Pod", app_ns)
        assert len(pods) == 3 and {p["spec"]["nodeName"] for p in pods} <= set(arm64_nodes)
    finally:
        for node in amd64:
            cluster.merge_patch("Node", node, {"spec": {"unschedulable": None}})


@pytest.mark.sandbox_only
def test_a_plain_up_keeps_the_stack_and_another_stack_asks_before_any_write(
    target, cluster, app_ns
):
    target.succeeds("-n", app_ns, "up", "--stack", "lesson")
    before = cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"]
    again = target.pacdeploy("-n", app_ns, "up")
    assert again.returncode == 0, again.stderr
    image = cluster.get("StatefulSet", "mongo", app_ns)["spec"]["template"]["spec"]
    assert image["containers"][0]["image"] == "docker.io/bitnamilegacy/mongodb:4.4.8"
    # Moving the scores asks first: without a terminal, only --yes goes on.
    moved = target.pacdeploy("-n", app_ns, "up", "--stack", "modern")
    assert moved.returncode == 2, moved.stderr
    assert "moves the scores to another MongoDB and needs confirmation" in one_line(moved.stderr)
    # A dry run cannot show a move: refused, naming the command that makes it.
    dry = target.pacdeploy("-n", app_ns, "up", "--stack", "modern", "--dry-run")
    assert dry.returncode == 5 and "lesson stack's MongoDB data" in one_line(dry.stderr)
    after = cluster.get("StatefulSet", "mongo", app_ns)["metadata"]["resourceVersion"]
    assert after == before
