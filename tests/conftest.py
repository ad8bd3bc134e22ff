"""Test harness: every integration test gets a real API server and a namespace of its own.

--cluster=sandbox   (default) the project's sandbox: real control plane + KWOK, built on first use
--cluster=kind      a kind cluster via pytest-kind-ng (hosts with Docker)
--cluster=existing  the current context of KUBECONFIG, as it is

Many tests at once. `make test` runs the suite in two phases: every test not marked
`exclusive` on pytest-xdist's workers (`-n 2`), then the exclusive ones one at a time.
However pytest is run, each integration test holds the cluster *shared* (file locks, so
xdist's workers and a second pytest run take turns alike) and an exclusive test holds it
*alone*: no other test runs while it does (tests/support/sharing.py).

How a new integration test is classified:
- By default it runs beside others. It must then touch only its own namespace (the
  `namespace` or `app_ns` fixture) and objects named after it, and read only those.
  `up` may run: for the whole suite the target's class is already the only default (the
  first process sets it, the last puts the cluster's own default back), so `up` changes
  no StorageClass. `down --purge` may run too: it gives back the class it found, and the
  record it keeps on that class while it runs (`storage.PURGING`, naming its namespace)
  is not counted against the tests beside it. The class also allows volume expansion
  for the whole suite.
- It is exclusive when it changes what every other test sees: the default StorageClass or
  any StorageClass's fields, the sandbox's processes (killed, restarted, SIGSTOPped),
  cluster-wide objects other tests read. Using one of EXCLUSIVE_FIXTURES (`another_default`,
  `not_expandable`, `paused_provisioner`, `api_server`) marks it so; otherwise mark it
  `@pytest.mark.exclusive` yourself. A shared test that changes a StorageClass fails in
  `app_ns`'s teardown, and `sandbox_pid` refuses a test that is not alone.
- Unit tests (tests/unit) need no cluster and run on the workers with the rest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pacdeploy.app import storage
from pacdeploy.errors import NotFound
from pacdeploy.kube.client import Cluster, connect
from tests.support import cli
from tests.support.classes import (
    class_annotations,
    classes_put_back,
    put_class_annotations_back,
    release_kept_volumes,
)
from tests.support.sharing import Record, Sharing


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--cluster",
        choices=("sandbox", "kind", "existing"),
        default=os.environ.get("PACDEPLOY_TEST_CLUSTER", "sandbox"),
        help="which real cluster the integration tests run against",
    )


# The suite runs many tests at once on two cores; the sandbox's snapshot controller then
# cuts a snapshot in tens of seconds, not the second or two of a quiet machine. A backup
# holds mongo's writes for at most PACDEPLOY_LOCK_SECONDS (30 by default) and fails past
# it, as it should on a real cluster; the tests of that failure set their own (2-3 s).
os.environ.setdefault("PACDEPLOY_LOCK_SECONDS", "120")

# Fixtures that change what every other test sees: a test using one runs alone.
EXCLUSIVE_FIXTURES = frozenset(
    {"another_default", "not_expandable", "paused_provisioner", "api_server"}
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "sandbox_only: needs the sandbox (KWOK forwards, restarts)")
    config.addinivalue_line(
        "markers", "exclusive: changes what every other test sees; runs alone (see conftest)"
    )
    config.addinivalue_line("markers", "long: runs for a minute or more; started first")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marks added here
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if EXCLUSIVE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.exclusive)
    # The longest first: xdist hands tests out in this order, and a long one started last
    # would run on alone after everything else (a stable sort: the same order on every
    # worker, as xdist requires).
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    if config.getoption("--cluster") == "sandbox":
        return
    skip = pytest.mark.skip(reason="needs the pacdeploy sandbox (KWOK port forwards or restarts)")
    for item in items:
        if "sandbox_only" in item.keywords:
            item.add_marker(skip)


@dataclass
class Target:
    """A real cluster the tests may use, and how to reach it from a shell."""

    kind: str
    kubeconfig: Path
    context: str
    kubectl: str
    # The class `up` makes default: the lesson's on the sandbox; kind's own `standard`;
    # on an existing cluster, PACDEPLOY_STORAGE_CLASS (as for the CLI itself).
    storage_class: str = "csi-hostpath-sc"
    sharing: Sharing = field(init=False)  # how this process shares the cluster

    def cluster(self) -> Cluster:
        return connect(str(self.kubeconfig), self.context)

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KUBECONFIG": str(self.kubeconfig),
            "PACDEPLOY_STORAGE_CLASS": self.storage_class,
        }

    def kubectl_run(
        self, *args: str, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.kubectl, "--context", self.context, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=check,
            timeout=timeout,
        )

    def pacdeploy(
        self, *args: str, timeout: float = 300, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the real CLI, as a user would, against this cluster."""
        return cli.run(
            "--context", self.context, *args, env=self.env(), timeout=timeout, input=input
        )

    def succeeds(self, *args: str, timeout: float = 300) -> str:
        """Run the real CLI and require exit 0 (failing with what it said); its stdout."""
        result = self.pacdeploy(*args, timeout=timeout)
        assert result.returncode == 0, (args, result.stderr + result.stdout)
        return result.stdout

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start the real CLI in the background against this cluster."""
        return cli.start("--context", self.context, *args, env=self.env())


def _sandbox(tmp: Path) -> Target:
    """The sandbox's Target; $KUBECONFIG (this process's own file) gets its context when
    the process arrives (in :func:`target`), bringing the sandbox up if it is not."""
    from pacdeploy.sandbox import lifecycle, paths

    os.environ["KUBECONFIG"] = str(tmp / "kubeconfig")
    return Target(
        "sandbox", tmp / "kubeconfig", lifecycle.CONTEXT, str(paths.bin_dir() / "kubectl")
    )


def _kind(request: pytest.FixtureRequest) -> Target:
    try:
        kind = request.getfixturevalue("kind_cluster")  # pytest-kind-ng
    except pytest.FixtureLookupError:
        pytest.fail("--cluster=kind needs pytest-kind-ng: pip install -e '.[kind]'")
    return Target(
        "kind",
        Path(kind.kubeconfig_path),
        f"kind-{kind.name}",
        str(kind.kubectl_path),
        storage_class="standard",
    )


def _existing() -> Target:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("--cluster=existing needs kubectl on PATH")
    from pacdeploy.kube import kubeconfig

    paths = [p for p in kubeconfig.paths(None) if p.is_file()]
    if not paths:
        pytest.fail("--cluster=existing but no kubeconfig found (KUBECONFIG or ~/.kube/config)")
    storage_class = os.environ.get("PACDEPLOY_STORAGE_CLASS")
    if not storage_class:
        pytest.fail("--cluster=existing needs PACDEPLOY_STORAGE_CLASS: the class `up` may use")
    return Target("existing", paths[0], connect(None, None).context, kubectl, storage_class)


def _arrive(target: Target, previous: Record | None, *, was_running: bool) -> Record:
    """The first process of the suite: the cluster as found recorded (or as the record of
    a run that died first says it was), the target's class made the only default."""
    record = dict(previous or {})
    record.setdefault("was_running", was_running)
    cluster = target.cluster()
    record.setdefault("classes", class_annotations(cluster))
    record.setdefault("before", _snapshot(cluster))
    storage.apply_patches(
        cluster, storage.make_only_default(cluster.list("StorageClass"), target.storage_class)
    )
    # Expandable too, so that `up --storage-size` tests need not change it while others run.
    expands = cluster.get("StorageClass", target.storage_class).get("allowVolumeExpansion")
    record.setdefault("expands", expands)
    _allow_expansion(cluster, target, True)
    record["during"] = _snapshot(cluster)
    return record


def _allow_expansion(cluster: Cluster, target: Target, value: bool | None) -> None:
    cluster.merge_patch("StorageClass", target.storage_class, {"allowVolumeExpansion": value})


def _sandbox_up(config: pytest.Config) -> None:
    from pacdeploy.sandbox import lifecycle

    # Shown live: on a fresh machine this builds Kubernetes, which takes minutes.
    with config.pluginmanager.getplugin("capturemanager").global_and_fixture_disabled():
        lifecycle.up(lambda message: print(f"\n[sandbox] {message}", flush=True))


def _leave(target: Target) -> None:
    """Every process, leaving: the cluster as the suite keeps it; the last puts back the
    default class and checks the cluster is as the suite found it."""
    last, record = target.sharing.leave()
    cluster = target.cluster()
    if last:
        put_class_annotations_back(cluster, record["classes"])
        _allow_expansion(cluster, target, record["expands"])
    changes = _changes(record["before" if last else "during"], _snapshot(cluster))
    if last and target.kind == "sandbox" and not record["was_running"]:
        from pacdeploy.sandbox import lifecycle

        lifecycle.down()
    assert not changes, "the suite changed the cluster: " + "; ".join(changes)


@pytest.fixture(scope="session")
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    mode = request.config.getoption("--cluster")
    previous = os.environ.get("KUBECONFIG")
    if mode == "sandbox":
        found = _sandbox(tmp_path_factory.mktemp("sandbox"))
    else:
        found = _kind(request) if mode == "kind" else _existing()
    found.sharing = Sharing(f"{found.kind}-{found.context}")
    try:
        with found.sharing.alone():
            was_running = True
            if mode == "sandbox":
                from pacdeploy.sandbox import lifecycle

                was_running = lifecycle.status().healthy
                _sandbox_up(request.config)  # also writes the context into $KUBECONFIG
            found.sharing.arrive(lambda record: _arrive(found, record, was_running=was_running))
        yield found
        with found.sharing.alone():
            _leave(found)
    finally:
        if previous is None:
            os.environ.pop("KUBECONFIG", None)
        else:
            os.environ["KUBECONFIG"] = previous


# Cluster-scoped kinds the suite creates and must delete again.
LEFT_BEHIND = (
    "StorageClass",
    "CSIDriver",
    "ClusterRole",
    "ClusterRoleBinding",
    "Stage",
    "VolumeSnapshotClass",
)


def _snapshot(cluster: Cluster) -> dict[str, object]:
    """What a user of the cluster would notice: default classes, namespaces, cluster objects."""
    state: dict[str, object] = {
        "storage class annotations": class_annotations(cluster),
        "namespaces": {
            ns["metadata"]["name"]: bool(ns["metadata"].get("deletionTimestamp"))
            for ns in cluster.list("Namespace")
        },
    }
    for kind in LEFT_BEHIND:
        try:
            state[kind] = sorted(o["metadata"]["name"] for o in cluster.list(kind))
        except NotFound:  # a kind this cluster does not serve (KWOK's, the snapshot API)
            state[kind] = "not served"
    return state


def _changes(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """How ``after`` differs from ``before``; namespaces on their way out do not count."""
    found = []
    old, new = before["namespaces"], after["namespaces"]
    gone = sorted(n for n, terminating in old.items() if n not in new and not terminating)
    added = sorted(n for n, terminating in new.items() if n not in old and not terminating)
    if gone or added:
        found.append(f"namespaces deleted {gone}, left behind {added}")
    for key in before.keys() - {"namespaces"}:
        if before[key] != after[key]:
            found.append(f"{key}: {before[key]} before the suite, {after[key]} after")
    return found


@pytest.fixture(scope="session")
def cluster(target: Target) -> Cluster:
    """The target's cluster (checked, when the suite leaves it, to be as it was found)."""
    return target.cluster()


@pytest.fixture
def namespace(cluster: Cluster) -> Iterator[str]:
    """A fresh namespace per test, deleted afterwards (without waiting)."""
    name = f"pd-{uuid.uuid4().hex[:8]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    cluster.delete("Namespace", name)


@pytest.fixture
def app_ns(cluster, target, request):
    """A namespace name for pacdeploy to create; everything is cleaned up afterwards."""
    classes_before = class_annotations(cluster)
    name = f"pd-app-{uuid.uuid4().hex[:6]}"
    yield name
    cluster.delete("Namespace", name)
    release_kept_volumes(cluster, name)
    for kind in ("ClusterRoleBinding", "ClusterRole"):
        cluster.delete(kind, f"pacman-node-reader-{name}")
    classes_put_back(request, cluster, classes_before, [name])
