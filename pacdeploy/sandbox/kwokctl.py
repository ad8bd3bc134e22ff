"""Running kwokctl: create, start and delete the control plane as local processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml

from pacdeploy.errors import SandboxError
from pacdeploy.sandbox import paths

# Port forwards for `forward`; Stage and (Cluster)Logs so tests can put pods into real
# failure states (crash loops, pull errors) and serve their logs through the API server;
# (Cluster)Exec so an exec into a pod (a backup's db.fsyncLock) runs a local stand-in.
CRDS = ("PortForward", "ClusterPortForward", "Stage", "Logs", "ClusterLogs", "Exec", "ClusterExec")
# kwokctl's component -> the binary we build for it.
COMPONENTS = {
    "etcd": "etcd",
    "kube-apiserver": "kube-apiserver",
    "kube-controller-manager": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler",
    "kwok-controller": "kwok",
}
TIMEOUT = 300.0

# Every component listens on loopback only.
CONFIG = """\
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokctlConfiguration
options:
  bindAddress: 127.0.0.1
"""


def run(bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # kwokctl downloads kubectl unless it finds one on PATH: give it ours. First the
        # stand-ins an exec into a simulated pod runs: KWOK's controller, which inherits
        # this PATH, looks the command up in its own (Go's exec.LookPath).
        "PATH": os.pathsep.join([str(paths.exec_bin()), str(bin_dir), os.environ.get("PATH", "")]),
        "KWOK_WORKDIR": str(paths.state_root()),
    }
    return subprocess.run(
        [str(bin_dir / "kwokctl"), "--name", paths.NAME, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def check(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines() or ["(no output)"]
        raise SandboxError(
            f"{what} failed: {lines[-1]}", f"See the logs under {paths.cluster_dir() / 'logs'}"
        )


def create(bin_dir: Path) -> None:
    config = paths.state_root() / "kwok.yaml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(CONFIG)
    binaries = [
        arg
        for component, binary in COMPONENTS.items()
        for arg in (f"--{component}-binary", str(bin_dir / binary))
    ]
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
        str(paths.state_root() / "kwokctl-kubeconfig.yaml"),
        *binaries,
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
    check(run(bin_dir, *args), "kwokctl create cluster")


def start(bin_dir: Path) -> bool:
    return run(bin_dir, "start", "cluster").returncode == 0


def delete(bin_dir: Path) -> None:
    check(run(bin_dir, "delete", "cluster"), "kwokctl delete cluster")


def has_current_crds() -> bool:
    """The sandbox's kwokctl configuration enables every CRD this version needs."""
    try:
        documents = list(yaml.safe_load_all((paths.cluster_dir() / "kwok.yaml").read_text()))
    except (OSError, yaml.YAMLError):
        return False
    for doc in documents:
        if (doc or {}).get("kind") == "KwokctlConfiguration":
            return set(CRDS) <= set(doc.get("options", {}).get("enableCRDs") or [])
    return False
