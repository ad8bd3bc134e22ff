"""Fixtures the integration modules share."""

from __future__ import annotations

import contextlib
import os
import signal
import uuid

import pytest

from pacdeploy.sandbox import objects
from tests.support.standin import StandIn

BODIES: dict[str, bytes] = {"/": b"pacman\n"}
_alone: list[bool] = [False]  # whether the running test holds the cluster alone


@pytest.fixture(autouse=True)
def _turn(request, target):
    """Each test holds the cluster shared, an exclusive one alone (tests/conftest.py)."""
    exclusive = request.node.get_closest_marker("exclusive") is not None
    with target.sharing.alone() if exclusive else target.sharing.shared():
        _alone[0] = exclusive
        try:
            yield
        finally:
            _alone[0] = False


@pytest.fixture
def another_default(cluster, target):
    """A class of the test's own (provisioning nothing) is the cluster's only default, as a
    fresh cluster's own is before `up`; deleted afterwards, the suite's default put back."""
    from pacdeploy.app import storage
    from pacdeploy.sandbox.objects import storage_class

    name = f"pd-sc-{uuid.uuid4().hex[:6]}"
    cluster.create(storage_class(name, "example.com/none", default=False))
    storage.apply_patches(cluster, storage.make_only_default(cluster.list("StorageClass"), name))
    yield name
    cluster.delete("StorageClass", name)
    classes = cluster.list("StorageClass")
    storage.apply_patches(cluster, storage.make_only_default(classes, target.storage_class))


@pytest.fixture
def app(target, cluster, app_ns, request):
    """Pacman deployed by pacdeploy (2 web pods), their 8080 forwarded by KWOK to a local
    server answering the paths of the module's BODIES (default: / only)."""
    bodies = getattr(request.module, "BODIES", BODIES)
    with StandIn(bodies) as server:
        forward = objects.port_forward(f"pf-{app_ns}", [app_ns], 8080, target_port=server.port)
        cluster.create(forward)
        result = target.pacdeploy("-n", app_ns, "up", "--replicas", "2")
        assert result.returncode == 0, result.stderr
        yield app_ns
        cluster.delete("ClusterPortForward", forward["metadata"]["name"])


@pytest.fixture
def stages(cluster):
    """Create Stages for a test; delete them afterwards (they are cluster-scoped)."""
    created = []

    def add(stage):
        cluster.create(stage)
        created.append(stage["metadata"]["name"])

    yield add
    for name in created:
        cluster.delete("Stage", name)


@pytest.fixture
def expandable(cluster, target):
    """The target's class allows volume expansion: the suite makes it so (tests/conftest.py)."""
    assert cluster.get("StorageClass", target.storage_class).get("allowVolumeExpansion")
    return target.storage_class


@pytest.fixture
def not_expandable(cluster, target):
    """The target's class does not allow volume expansion, as on minikube (the test runs
    alone: the suite's class allows it for every other test), and does again after."""
    cluster.merge_patch("StorageClass", target.storage_class, {"allowVolumeExpansion": None})
    yield target.storage_class
    cluster.merge_patch("StorageClass", target.storage_class, {"allowVolumeExpansion": True})


def sandbox_pid(name: str) -> int:
    """The pid of one of the sandbox's processes (kube-apiserver, provisioner, ...)."""
    from pacdeploy.sandbox import lifecycle

    assert _alone[0], "a test that stops the sandbox's processes must be @pytest.mark.exclusive"
    pid = lifecycle.status(check_api=False).processes[name]
    assert pid, f"{name} is not running"
    return pid


@contextlib.contextmanager
def snapshotter_stopped():
    """The sandbox's provisioner, which also cuts its snapshots, stopped for the block (its
    pid yielded); it runs again after, whatever happened."""
    pid = sandbox_pid("provisioner")
    os.kill(pid, signal.SIGSTOP)
    try:
        yield pid
    finally:
        os.kill(pid, signal.SIGCONT)


@pytest.fixture
def paused_provisioner():
    """Claims stay Pending (so `up` waits) until the test calls the returned resume()."""
    pid = sandbox_pid("provisioner")
    os.kill(pid, signal.SIGSTOP)
    resumed = []

    def resume():
        if not resumed:
            os.kill(pid, signal.SIGCONT)
            resumed.append(True)

    yield resume
    resume()
