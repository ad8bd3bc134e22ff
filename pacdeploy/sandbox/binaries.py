"""Build the sandbox's control-plane binaries from the Go module proxy, once per version.

Each binary comes from a small wrapper module in ``gomod/`` whose go.mod pins the upstream
module (and, for k8s.io/kubernetes, replaces its ``./staging`` modules with published ones),
so the build is reproducible from go.sum alone: nothing is downloaded at run time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pacdeploy.errors import SandboxError
from pacdeploy.sandbox.paths import KUBE_VERSION, bin_dir

ETCD_VERSION = "v3.6.16"
KWOK_VERSION = "v0.8.0"
SNAPSHOTTER_VERSION = "v8.7.0"  # as gomod/snapshotter pins it

GOMOD_DIR = Path(__file__).with_name("gomod")


def _kube_version_ldflags() -> tuple[str, ...]:
    # kube-apiserver panics on an unparsable version, and kwokctl reads it to pick flags.
    major, minor = KUBE_VERSION.lstrip("v").split(".")[:2]
    flags: list[str] = []
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={KUBE_VERSION}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
        ]
    return tuple(flags)


@dataclass(frozen=True)
class GoBinary:
    name: str
    module: str  # wrapper module directory under gomod/
    package: str
    ldflags: tuple[str, ...] = ()


_KUBE = _kube_version_ldflags()
_KWOK = (f"-X sigs.k8s.io/kwok/pkg/consts.KubeVersion={KUBE_VERSION}",)

BINARIES: tuple[GoBinary, ...] = (
    GoBinary("etcd", "etcd", "go.etcd.io/etcd/server/v3"),
    GoBinary("kube-apiserver", "kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver", _KUBE),
    GoBinary(
        "kube-controller-manager",
        "kubernetes",
        "k8s.io/kubernetes/cmd/kube-controller-manager",
        _KUBE,
    ),
    GoBinary("kube-scheduler", "kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler", _KUBE),
    GoBinary("kubectl", "kubernetes", "k8s.io/kubernetes/cmd/kubectl", _KUBE),
    GoBinary("kwok", "kwok", "sigs.k8s.io/kwok/cmd/kwok", _KWOK),
    GoBinary("kwokctl", "kwok", "sigs.k8s.io/kwok/cmd/kwokctl", _KWOK),
    # The real VolumeSnapshot controller, as minikube's volumesnapshots addon runs it.
    GoBinary(
        "snapshot-controller",
        "snapshotter",
        "github.com/kubernetes-csi/external-snapshotter/v8/cmd/snapshot-controller",
        (f"-X main.version={SNAPSHOTTER_VERSION}",),
    ),
)
SNAPSHOT_CLIENT_MODULE = "github.com/kubernetes-csi/external-snapshotter/client/v8"


def missing_binaries(directory: Path | None = None) -> list[GoBinary]:
    directory = directory or bin_dir()
    return [b for b in BINARIES if not os.access(directory / b.name, os.X_OK)]


def build_binary(binary: GoBinary, directory: Path) -> float:
    """Build one binary into ``directory``; returns seconds taken."""
    go = _go()
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f".{binary.name}.partial"
    env = {**os.environ, "CGO_ENABLED": "0", "GOFLAGS": "-mod=readonly -buildvcs=false"}
    cmd = [
        go,
        "build",
        "-trimpath",
        "-ldflags",
        " ".join(("-s", "-w", *binary.ldflags)),
        "-o",
        str(partial),
        binary.package,
    ]
    started = time.monotonic()
    result = subprocess.run(
        cmd, cwd=GOMOD_DIR / binary.module, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SandboxError(f"go build of {binary.name} failed: {last}")
    # Rename last so an interrupted build never leaves a binary that looks complete.
    partial.replace(directory / binary.name)
    return time.monotonic() - started


def module_source(module: str, wrapper: str) -> Path:
    """Where the Go module cache holds ``module`` at the version ``gomod/<wrapper>`` pins."""
    result = subprocess.run(
        [_go(), "mod", "download", "-json", module],
        cwd=GOMOD_DIR / wrapper,
        env={**os.environ, "GOFLAGS": "-mod=readonly"},
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        return Path(json.loads(result.stdout)["Dir"])
    except (ValueError, KeyError):
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise SandboxError(f"go mod download {module} failed: {last}") from None


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise SandboxError(
            "the Go toolchain is not on PATH; the sandbox builds Kubernetes from source",
            "Install Go 1.26 or newer (https://go.dev/doc/install) and retry",
        )
    return go


def ensure_binaries(
    on_build: Callable[[GoBinary, int, int], None] | None = None,
    on_built: Callable[[GoBinary, float], None] | None = None,
) -> Path:
    """Build whatever is missing from the cache; returns the bin directory."""
    directory = bin_dir()
    todo = missing_binaries(directory)
    for index, binary in enumerate(todo, start=1):
        if on_build:
            on_build(binary, index, len(todo))
        seconds = build_binary(binary, directory)
        if on_built:
            on_built(binary, seconds)
    return directory
