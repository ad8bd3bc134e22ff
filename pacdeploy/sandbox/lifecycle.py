"""Bring the sandbox up, report on it, take it down: a real control plane run by kwokctl.

kwokctl starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the KWOK
controller as local processes (our own builds, bound to 127.0.0.1). pacdeploy adds what
minikube would have: KWOK's default stages, nodes, storage classes, an ingress class, a
volume provisioner (also the CSI driver's snapshot side), the VolumeSnapshot CRDs with the
real snapshot-controller, and a ``pacdeploy-sandbox`` kubeconfig context.
"""

from __future__ import annotations

import base64
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pacdeploy.errors import PacdeployError, SandboxError
from pacdeploy.kube import contexts, kubeconfig
from pacdeploy.kube.client import RETRY_SECONDS, Cluster, connect
from pacdeploy.kube.resources import name_of
from pacdeploy.sandbox import binaries, kwokctl, objects, paths, processes
from pacdeploy.wait.readiness import has_condition, has_ready_condition

CONTEXT = "pacdeploy-sandbox"
READY_TIMEOUT = 90.0
SEED_TIMEOUT = 30.0  # for CRDs to be served and KWOK to mark the nodes Ready
PROVISIONER = "pacdeploy.sandbox.provisioner"  # its module, also how its process is known
SNAPSHOT_CONTROLLER = "snapshot-controller"

Report = Callable[[str], None]


@dataclass
class SandboxStatus:
    exists: bool
    processes: dict[str, int | None] = field(default_factory=dict)  # name -> live pid or None
    server: str | None = None
    api_ready: bool = False

    @property
    def healthy(self) -> bool:
        return self.exists and self.api_ready and all(self.processes.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "exists": self.exists,
            "healthy": self.healthy,
            "server": self.server,
            "context": CONTEXT if self.exists else None,
            "processes": self.processes,
            "state": str(paths.state_root()),
        }


def _component_pid(component: str) -> int | None:
    return processes.running(
        paths.component_pidfile(component), str(paths.component_binary(component))
    )


def status(check_api: bool = True) -> SandboxStatus:
    if not paths.internal_kubeconfig().is_file():
        return SandboxStatus(exists=False)
    running = {name: _component_pid(name) for name in kwokctl.COMPONENTS}
    for name, (marker, _command) in _helpers().items():
        running[name] = processes.running(paths.helper_pidfile(name), marker)
    result = SandboxStatus(exists=True, processes=running)
    if check_api:
        try:
            cluster = _internal_cluster(retry_seconds=0)
            result.server = cluster.server
            result.api_ready = _readyz(cluster)
        except PacdeployError:
            result.api_ready = False
    return result


def _internal_cluster(retry_seconds: float) -> Cluster:
    return connect(str(paths.internal_kubeconfig()), retry_seconds=retry_seconds)


def _readyz(cluster: Cluster) -> bool:
    try:
        return cluster.send("GET", "/readyz", timeout=(2.0, 5.0)) == b"ok"
    except PacdeployError:
        return False


def _wait_api(deadline: float) -> Cluster:
    while True:
        try:
            cluster = _internal_cluster(retry_seconds=0)
            if _readyz(cluster):
                return cluster.with_retry_budget(RETRY_SECONDS)
        except PacdeployError:
            pass
        if time.monotonic() > deadline:
            raise SandboxError(
                f"kube-apiserver did not become ready in {READY_TIMEOUT:.0f}s",
                f"See {paths.cluster_dir() / 'logs' / 'kube-apiserver.log'}",
            )
        time.sleep(0.3)


def _seed(cluster: Cluster) -> None:
    """Create stages, CRDs, nodes, classes and the rest; an existing object is left as is.

    Stages first: without them KWOK would leave the new nodes NotReady. The snapshot CRDs
    must be served before the snapshot class (a custom resource) can be created.
    """
    stages = objects.default_stages(binaries.module_source("sigs.k8s.io/kwok", "kwok"))
    crds = objects.snapshot_crds(
        binaries.module_source(binaries.SNAPSHOT_CLIENT_MODULE, "snapshotter")
    )
    _create_missing(cluster, [*stages, *crds])
    _wait_for(
        lambda: all(has_condition(cluster.get(c["kind"], name_of(c)), "Established") for c in crds),
        "the VolumeSnapshot CRDs were not established",
    )
    _create_missing(cluster, objects.seed_objects())
    _stand_ins(cluster)
    # Node status is owned by KWOK once it adopts the node; wait for that.
    _wait_for(
        lambda: (
            len([n for n in cluster.list("Node") if has_ready_condition(n)])
            >= len(objects.NODE_NAMES)
        ),
        "KWOK did not mark the sandbox nodes Ready",
    )
    _node_resources(cluster)


def _node_resources(cluster: Cluster) -> None:
    """Nodes seeded by an older pacdeploy get what a node offers today (ephemeral-storage).

    KWOK keeps a node's allocatable once it is set, so the patch stays.
    """
    for name in objects.NODE_NAMES:
        status = (cluster.get("Node", name) or {}).get("status") or {}
        if not objects.NODE_RESOURCES.keys() <= (status.get("allocatable") or {}).keys():
            wanted = dict(objects.NODE_RESOURCES)
            patch = {"status": {"allocatable": wanted, "capacity": wanted}}
            cluster.merge_patch("Node", name, patch, subresource="status")


def _stand_ins(cluster: Cluster) -> None:
    """What an exec into a simulated pod finds: the sandbox's mongo shell and tools."""
    for name, source in objects.STAND_INS.items():
        stand_in = paths.exec_bin() / name
        stand_in.parent.mkdir(parents=True, exist_ok=True)
        stand_in.write_bytes((Path(objects.__file__).parent / source).read_bytes())
        stand_in.chmod(0o755)
    _create_missing(cluster, [objects.cluster_exec(paths.exec_log())])


def _create_missing(cluster: Cluster, wanted: list[dict[str, Any]]) -> None:
    for obj in wanted:
        if cluster.get(obj["kind"], name_of(obj)) is None:
            cluster.create(obj)


def _wait_for(condition: Callable[[], bool], failure: str) -> None:
    deadline = time.monotonic() + SEED_TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            raise SandboxError(f"{failure} within {SEED_TIMEOUT:.0f}s")
        time.sleep(0.3)


def _helpers() -> dict[str, tuple[str, list[str]]]:
    """The processes pacdeploy runs beside kwokctl's: name -> (marker, command).

    The marker is what their /proc cmdline must contain to be ours.
    """
    kubeconfig_path = str(paths.internal_kubeconfig())
    controller = str(paths.bin_dir() / SNAPSHOT_CONTROLLER)
    return {
        "provisioner": (
            PROVISIONER,
            [
                sys.executable,
                "-m",
                PROVISIONER,
                "--kubeconfig",
                kubeconfig_path,
                "--volumes",
                str(paths.state_root() / "volumes"),
                "--snapshots",
                str(paths.state_root() / "snapshots"),
            ],
        ),
        SNAPSHOT_CONTROLLER: (
            controller,
            [
                controller,
                "--kubeconfig",
                kubeconfig_path,
                "--leader-election=false",
                # No group-snapshot CRDs here: without this it looks for them for 30 s.
                "--feature-gates=CSIVolumeGroupSnapshot=false",
                # Its default backs off up to 5 minutes after a failure: too long for a demo.
                "--retry-interval-max=10s",
                # Its client's default (5 QPS, burst 10) is sized for one cluster's worth of
                # snapshots; tests cutting many at once queued for seconds behind it.
                "--kube-api-qps=100",
                "--kube-api-burst=200",
            ],
        ),
    }


def _start_helpers() -> None:
    for name, (marker, command) in _helpers().items():
        pidfile = paths.helper_pidfile(name)
        if processes.running(pidfile, marker) is None:
            processes.start_detached(command, paths.state_root() / f"{name}.log", pidfile)


def _inline(entry: dict[str, Any], file_key: str, data_key: str) -> None:
    """Replace a certificate file reference by the file's content, as kind writes it."""
    if file_key in entry:
        path = Path(entry.pop(file_key))
        if not path.is_absolute():
            path = paths.internal_kubeconfig().parent / path
        entry[data_key] = base64.b64encode(path.read_bytes()).decode()


def _merge_context() -> None:
    """Add `pacdeploy-sandbox` to the user's kubeconfig with credentials inlined."""
    internal = yaml.safe_load(paths.internal_kubeconfig().read_text())
    cluster = internal["clusters"][0]["cluster"]
    user = internal["users"][0]["user"]
    _inline(cluster, "certificate-authority", "certificate-authority-data")
    _inline(user, "client-certificate", "client-certificate-data")
    _inline(user, "client-key", "client-key-data")
    path = kubeconfig.user_file()
    contexts.write(path, contexts.with_context(contexts.read(path), CONTEXT, cluster, user=user))


def up(report: Report = lambda _msg: None) -> Cluster:
    """Bring the sandbox up, or repair it; running it twice is harmless."""
    started = time.monotonic()
    built: list[float] = []

    def on_built(binary: binaries.GoBinary, seconds: float) -> None:
        built.append(seconds)
        report(f"built {binary.name} in {seconds:.0f}s")

    bin_dir = binaries.ensure_binaries(
        on_build=lambda b, i, n: report(
            f"building {b.name} ({i}/{n}) from the Go module proxy; a cold build takes minutes"
        ),
        on_built=on_built,
    )
    if built:
        report(f"built {len(built)} binaries in {sum(built):.0f}s into {bin_dir}")
    current = status()
    if current.exists and not kwokctl.has_current_crds():
        report("sandbox was created by an older pacdeploy (not every KWOK CRD): recreating it")
        down()
        current = status()
    if current.healthy:
        report("sandbox already running")
    elif current.exists:
        dead = [name for name, pid in current.processes.items() if pid is None]
        report(f"sandbox found degraded ({', '.join(dead)} not running): restarting them")
        # kwokctl skips a component whose pid answers kill(0), which a zombie or a reused
        # pid does: only pids that are ours may stay.
        for name in dead:
            paths.component_pidfile(name).unlink(missing_ok=True)
        if not kwokctl.start(bin_dir):
            report("restart failed: recreating the sandbox")
            kwokctl.delete(bin_dir)
            kwokctl.create(bin_dir)
    else:
        report("starting etcd, kube-apiserver, controller-manager, scheduler and KWOK")
        kwokctl.create(bin_dir)
    cluster = _wait_api(time.monotonic() + READY_TIMEOUT)
    report("adding KWOK stages, nodes, storage and snapshot classes, the nginx ingress class")
    _seed(cluster)
    _start_helpers()
    _merge_context()
    report(f"sandbox ready in {time.monotonic() - started:.1f}s: context {CONTEXT}")
    return cluster


def down(report: Report = lambda _msg: None) -> bool:
    """Stop every sandbox process and remove the context; False if nothing was there."""
    for name, (marker, _command) in _helpers().items():
        processes.stop(paths.helper_pidfile(name), marker)
    path = kubeconfig.user_file()
    config = contexts.read(path)
    if config and any(c.get("name") == CONTEXT for c in config.get("contexts") or []):
        contexts.write(path, contexts.without_context(config, CONTEXT))
    if not paths.cluster_dir().exists():
        return False
    bin_dir = paths.bin_dir()
    if (bin_dir / "kwokctl").exists():
        report("stopping the control plane")
        kwokctl.run(bin_dir, "delete", "cluster")
    # Whatever kwokctl could not stop (or if it is gone), stop by pid: only if it is ours.
    for component in kwokctl.COMPONENTS:
        processes.stop(
            paths.component_pidfile(component), str(paths.component_binary(component)), grace=0
        )
    shutil.rmtree(paths.cluster_dir(), ignore_errors=True)
    return True
