"""Start, inspect and stop the sandbox: a real control plane run by kwokctl's binary runtime.

kwokctl starts etcd, kube-apiserver, kube-controller-manager, kube-scheduler and the KWOK
controller as local processes (our own builds, bound to 127.0.0.1) and records their pids
under its workdir. pacdeploy adds what minikube would have: nodes, storage classes, an
ingress class, a volume provisioner, and a ``pacdeploy-sandbox`` kubeconfig context.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pacdeploy import kubeconfig
from pacdeploy.cluster import RETRY_SECONDS, Cluster, connect, kubeconfig_paths
from pacdeploy.errors import PacdeployError, SandboxError
from pacdeploy.readiness import has_ready_condition
from pacdeploy.sandbox import binaries, objects

NAME = "pacdeploy"
CONTEXT = "pacdeploy-sandbox"
# Port forwards for `forward`; Stage and (Cluster)Logs so tests can put pods into real
# failure states (crash loops, pull errors) and serve their logs through the API server.
CRDS = ("PortForward", "ClusterPortForward", "Stage", "Logs", "ClusterLogs")
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok-controller",
)
READY_TIMEOUT = 90.0

Report = Callable[[str], None]


def state_root() -> Path:
    if env := os.environ.get("PACDEPLOY_STATE_DIR"):
        return Path(env)
    xdg = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(xdg) / "pacdeploy" / "sandbox"


def cluster_dir() -> Path:
    return state_root() / "clusters" / NAME


def internal_kubeconfig() -> Path:
    """kwokctl's own kubeconfig for the cluster (certificate files in its workdir)."""
    return cluster_dir() / "kubeconfig.yaml"


def provisioner_pidfile() -> Path:
    return state_root() / "provisioner.pid"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is not running.
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def _read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


@dataclass
class SandboxStatus:
    exists: bool
    processes: dict[str, int | None] = field(default_factory=dict)  # name -> live pid or None
    server: str | None = None
    api_ready: bool = False

    @property
    def healthy(self) -> bool:
        return self.exists and self.api_ready and all(self.processes.values())


def status(check_api: bool = True) -> SandboxStatus:
    if not internal_kubeconfig().is_file():
        return SandboxStatus(exists=False)
    processes: dict[str, int | None] = {}
    for name in (*COMPONENTS, "provisioner"):
        path = (
            provisioner_pidfile()
            if name == "provisioner"
            else cluster_dir() / "pids" / f"{name}.pid"
        )
        pid = _read_pid(path)
        processes[name] = pid if pid is not None and _pid_alive(pid) else None
    result = SandboxStatus(exists=True, processes=processes)
    if check_api:
        try:
            cluster = _internal_cluster(retry_seconds=0)
            result.server = cluster.server
            result.api_ready = _readyz(cluster)
        except PacdeployError:
            result.api_ready = False
    return result


def _internal_cluster(retry_seconds: float) -> Cluster:
    cluster = connect(str(internal_kubeconfig()))
    cluster.retry_seconds = retry_seconds
    return cluster


def _readyz(cluster: Cluster) -> bool:
    try:
        return cluster.send("GET", "/readyz", timeout=(2.0, 5.0)) == b"ok"
    except PacdeployError:
        return False


def _kwokctl(bin_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # kwokctl downloads kubectl unless it finds one on PATH: give it ours.
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "KWOK_WORKDIR": str(state_root()),
    }
    return subprocess.run(
        [str(bin_dir / "kwokctl"), "--name", NAME, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
        raise SandboxError(
            f"{what} failed: {lines[-1]}", f"See the logs under {cluster_dir() / 'logs'}"
        )


# Every component listens on loopback only.
KWOK_CONFIG = """\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
"""


def _create(bin_dir: Path) -> None:
    config = state_root() / "kwok.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(KWOK_CONFIG)
    args = [
        "--config",
        str(config),
        "create",
        "cluster",
        "--runtime",
        "binary",
        "--kube-authorization=true",
        "--kube-admission=true",
        "--enable-crds",
        ",".join(CRDS),
        "--kubeconfig",
        str(state_root() / "kwokctl-kubeconfig.yaml"),
        "--etcd-binary",
        str(bin_dir / "etcd"),
        "--kube-apiserver-binary",
        str(bin_dir / "kube-apiserver"),
        "--kube-controller-manager-binary",
        str(bin_dir / "kube-controller-manager"),
        "--kube-scheduler-binary",
        str(bin_dir / "kube-scheduler"),
        "--kwok-controller-binary",
        str(bin_dir / "kwok"),
        # Reach KWOK's kubelet endpoint by the nodes' 127.0.0.1, never by DNS name.
        "--extra-args",
        "kube-apiserver=kubelet-preferred-address-types=InternalIP",
        # One instance of each: a restarted controller must not wait out a dead one's lease.
        "--extra-args",
        "kube-controller-manager=leader-elect=false",
        "--extra-args",
        "kube-scheduler=leader-elect=false",
        "--quiet-pull",
        "--wait",
        "60s",
    ]
    _check(_kwokctl(bin_dir, *args), "kwokctl create cluster")


def _has_current_crds() -> bool:
    """The sandbox's kwokctl configuration enables every CRD this version needs."""
    try:
        documents = list(yaml.safe_load_all((cluster_dir() / "kwok.yaml").read_text()))
    except (OSError, yaml.YAMLError):
        return False
    for doc in documents:
        if (doc or {}).get("kind") == "KwokctlConfiguration":
            return set(CRDS) <= set(doc.get("options", {}).get("enableCRDs") or [])
    return False


def _wait_api(deadline: float) -> Cluster:
    while True:
        try:
            cluster = _internal_cluster(retry_seconds=0)
            if _readyz(cluster):
                cluster.retry_seconds = RETRY_SECONDS
                return cluster
        except PacdeployError:
            pass
        if time.monotonic() > deadline:
            raise SandboxError(
                f"kube-apiserver did not become ready in {READY_TIMEOUT:.0f}s",
                f"See {cluster_dir() / 'logs' / 'kube-apiserver.log'}",
            )
        time.sleep(0.3)


def _seed(cluster: Cluster) -> None:
    """Create stages, nodes, classes and the ingress class; an existing object is left as is.

    Stages first: without them KWOK would leave the new nodes NotReady.
    """
    stages = objects.default_stages(binaries.module_source("sigs.k8s.io/kwok", "kwok"))
    for obj in [*stages, *objects.seed_objects()]:
        existing = cluster.get(obj["kind"], obj["metadata"]["name"])
        if existing is None:
            cluster.create(obj)
    # Node status is owned by KWOK once it adopts the node; wait for that.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready = [n for n in cluster.list("Node") if has_ready_condition(n)]
        if len(ready) >= len(objects.NODE_NAMES):
            return
        time.sleep(0.3)
    raise SandboxError("KWOK did not mark the sandbox nodes Ready within 30s")


def _start_provisioner() -> None:
    pid = _read_pid(provisioner_pidfile())
    if pid is not None and _pid_alive(pid):
        return
    log = (state_root() / "provisioner.log").open("ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pacdeploy.sandbox.provisioner",
            "--kubeconfig",
            str(internal_kubeconfig()),
            "--volumes",
            str(state_root() / "volumes"),
        ],
        stdout=log,
        stderr=log,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # outlives `sandbox up`, like kwokctl's own processes
    )
    provisioner_pidfile().write_text(str(process.pid))


def _stop_provisioner() -> None:
    pidfile = provisioner_pidfile()
    pid = _read_pid(pidfile)
    if pid is not None and _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while _pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    pidfile.unlink(missing_ok=True)


def _user_kubeconfig() -> Path:
    return kubeconfig_paths(None)[0]


def _merge_context() -> None:
    """Add `pacdeploy-sandbox` to the user's kubeconfig with credentials inlined."""
    internal = yaml.safe_load(internal_kubeconfig().read_text())
    cluster = internal["clusters"][0]["cluster"]
    user = internal["users"][0]["user"]

    def inline(entry: dict, file_key: str, data_key: str) -> None:
        if file_key in entry:
            path = Path(entry.pop(file_key))
            if not path.is_absolute():
                path = internal_kubeconfig().parent / path
            entry[data_key] = base64.b64encode(path.read_bytes()).decode()

    inline(cluster, "certificate-authority", "certificate-authority-data")
    inline(user, "client-certificate", "client-certificate-data")
    inline(user, "client-key", "client-key-data")
    path = _user_kubeconfig()
    kubeconfig.write(path, kubeconfig.with_context(kubeconfig.read(path), CONTEXT, cluster, user))


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
    if current.exists and not _has_current_crds():
        report("sandbox was created by an older pacdeploy (no Stage/Logs CRDs): recreating it")
        down()
        current = status()
    if current.healthy:
        report("sandbox already running")
    elif current.exists:
        dead = [name for name, pid in current.processes.items() if pid is None]
        report(f"sandbox found degraded ({', '.join(dead)} not running): restarting them")
        # kwokctl skips a component whose pid answers kill(0), which a zombie does.
        for name in dead:
            (cluster_dir() / "pids" / f"{name}.pid").unlink(missing_ok=True)
        result = _kwokctl(bin_dir, "start", "cluster")
        if result.returncode != 0:
            report("restart failed: recreating the sandbox")
            _check(_kwokctl(bin_dir, "delete", "cluster"), "kwokctl delete cluster")
            _create(bin_dir)
    else:
        report("starting etcd, kube-apiserver, controller-manager, scheduler and KWOK")
        _create(bin_dir)
    cluster = _wait_api(time.monotonic() + READY_TIMEOUT)
    report("adding nodes, storage classes and the nginx ingress class")
    _seed(cluster)
    _start_provisioner()
    _merge_context()
    report(f"sandbox ready in {time.monotonic() - started:.1f}s: context {CONTEXT}")
    return cluster


def down(report: Report = lambda _msg: None) -> bool:
    """Stop every sandbox process and remove the context; False if nothing was there."""
    _stop_provisioner()
    path = _user_kubeconfig()
    config = kubeconfig.read(path)
    if config and any(c.get("name") == CONTEXT for c in config.get("contexts") or []):
        kubeconfig.write(path, kubeconfig.without_context(config, CONTEXT))
    if not cluster_dir().exists():
        return False
    bin_dir = binaries.bin_dir()
    if (bin_dir / "kwokctl").exists():
        report("stopping the control plane")
        _kwokctl(bin_dir, "delete", "cluster")
    # Whatever kwokctl could not stop (or if it is gone), stop by pid ourselves.
    for pidfile in (cluster_dir() / "pids").glob("*.pid"):
        pid = _read_pid(pidfile)
        if pid is not None and _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    shutil.rmtree(cluster_dir(), ignore_errors=True)
    return True
