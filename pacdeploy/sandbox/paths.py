"""Where the sandbox keeps things: XDG state (the running cluster) and cache (its binaries)."""

from __future__ import annotations

import os
from pathlib import Path

NAME = "pacdeploy"  # kwokctl's cluster name
KUBE_VERSION = "v1.36.3"


def _xdg_home(kind: str, default: str) -> Path:
    return Path(os.environ.get(f"XDG_{kind}_HOME") or Path.home() / default)


def state_root() -> Path:
    """The running sandbox: kwokctl's workdir, the provisioner's pid, volumes, logs."""
    if env := os.environ.get("PACDEPLOY_STATE_DIR"):
        return Path(env)
    return _xdg_home("STATE", ".local/state") / "pacdeploy" / "sandbox"


def cache_root() -> Path:
    """Built binaries: outside the repository, shared by every checkout."""
    if env := os.environ.get("PACDEPLOY_CACHE_DIR"):
        return Path(env)
    return _xdg_home("CACHE", ".cache") / "pacdeploy"


def bin_dir() -> Path:
    return cache_root() / "sandbox" / KUBE_VERSION / "bin"


def cluster_dir() -> Path:
    return state_root() / "clusters" / NAME


def internal_kubeconfig() -> Path:
    """kwokctl's own kubeconfig for the cluster (certificate files in its workdir)."""
    return cluster_dir() / "kubeconfig.yaml"


def component_pidfile(component: str) -> Path:
    return cluster_dir() / "pids" / f"{component}.pid"


def component_binary(component: str) -> Path:
    """What kwokctl runs for a component: a link in its workdir to our build."""
    return cluster_dir() / "bin" / component


def helper_pidfile(name: str) -> Path:
    """The pid of a process pacdeploy runs beside kwokctl's (provisioner, snapshot-controller)."""
    return state_root() / f"{name}.pid"


def exec_bin() -> Path:
    """The commands an exec into a simulated pod runs (KWOK runs them as local processes)."""
    return state_root() / "exec-bin"


def exec_log() -> Path:
    """What those stand-ins were asked to do, a line per call (tests read it)."""
    return state_root() / "exec.log"
