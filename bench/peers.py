"""pacdeploy against the peers a user would pick, on a local and on a "remote" cluster.

Peers, each used well: kubectl (`apply --server-side` of the same rendered manifests, then
`rollout status` of both workloads) and Helm 4 (`upgrade --install --wait`, the watcher
strategy and server-side apply, built from the Go module proxy at a pinned version, the
chart generated from manifests/). The API server is the sandbox's, reached through
bench/latency_proxy.py at round trips of 0, 20 and 100 ms, the same proxy for every tool.

Cases: nothing -> Ready, no-op re-run, scale 1 -> 10 -> 1 (pacdeploy and kubectl both done
by `rollout status`'s rule), status (vs the kubectl gets it replaces), down --purge. Each
round starts from a namespace that does not exist yet; who goes first rotates. Whole
processes are timed. Medians, with min and max.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

import yaml
from harness import RESULTS, save, table
from latency_proxy import LatencyProxy

from pacdeploy.app import credentials, storage
from pacdeploy.app.manifests import Options, render
from pacdeploy.kube import contexts, kubeconfig
from pacdeploy.sandbox import lifecycle, paths
from tests.support import cli

HELM_VERSION = "v4.3.1"
HELM_MODULE = "helm.sh/helm/v4/cmd/helm"
RTTS_MS = (0, 20, 100)
CLASS = "standard"  # every tool deploys onto the sandbox's existing default class
REPLICAS_SENTINEL = 424242  # replaced by the chart's value in the generated template
Step = Callable[[str], None]


# -- the peers -----------------------------------------------------------------------------
def helm_binary() -> Path:
    """Helm 4, built once from the Go module proxy into pacdeploy's cache."""
    binary = paths.cache_root() / "bench" / f"helm-{HELM_VERSION}" / "helm"
    if not binary.exists():
        print(f"building helm {HELM_VERSION} from the Go module proxy (a few minutes, once)")
        binary.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "CGO_ENABLED": "0", "GOBIN": str(binary.parent)}
        subprocess.run(
            ["go", "install", "-trimpath", f"{HELM_MODULE}@{HELM_VERSION}"], env=env, check=True
        )
    return binary


def write_chart(directory: Path, ns: str) -> Path:
    """The app as a chart: the same rendered objects, the namespace left to Helm."""
    objects = render(Options(namespace=ns, replicas=REPLICAS_SENTINEL))
    objects = [credentials.new_secret(ns), *objects[1:]]
    chart = directory / "chart"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: pacman\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text("replicas: 1\n")
    text = yaml.safe_dump_all(objects).replace(str(REPLICAS_SENTINEL), "{{ .Values.replicas }}")
    (chart / "templates" / "app.yaml").write_text(text)
    return chart


def write_manifest(directory: Path, ns: str) -> Path:
    objects = render(Options(namespace=ns))
    objects.insert(1, credentials.new_secret(ns))
    path = directory / "app.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    return path


class Tools:
    """The commands of each tool for each case, against one kubeconfig."""

    def __init__(
        self, config: Path, context: str, helm: Path, *, work: Path, proxy: LatencyProxy
    ) -> None:
        self.proxy = proxy
        self.env = {**os.environ, "KUBECONFIG": str(config)}
        self.context = context
        self.helm = helm
        self.work = work
        self.kubectl_bin = str(paths.bin_dir() / "kubectl")

    def run(self, *command: str) -> None:
        subprocess.run(command, env=self.env, check=True, capture_output=True, text=True)

    def pacdeploy(self, *args: str) -> None:
        # As a user runs it, like kubectl's binary: the console script, not python -m.
        result = cli.run("--context", self.context, *args, env=self.env, installed=True)
        if result.returncode != 0:
            raise RuntimeError(f"pacdeploy {' '.join(args)}: {result.stderr.strip()}")

    def kubectl(self, *args: str) -> None:
        self.run(self.kubectl_bin, "--context", self.context, *args)

    def helm_cmd(self, *args: str) -> None:
        self.run(str(self.helm), "--kube-context", self.context, *args)

    # pacdeploy
    def pd_up(self, ns: str) -> None:
        self.pacdeploy("-n", ns, "up", "--keep-default-class", "--storage-class", CLASS)

    def pd_scale(self, ns: str, replicas: int) -> None:
        self.pacdeploy("-n", ns, "scale", "--replicas", str(replicas))

    def pd_status(self, ns: str) -> None:
        self.pacdeploy("-n", ns, "status", "-o", "json")

    def pd_down(self, ns: str) -> None:
        self.pacdeploy("-n", ns, "down", "--purge", "--yes")

    # kubectl
    def prepare(self, key: str, ns: str) -> None:
        """Render what kubectl and Helm are given (pacdeploy renders its own, on the clock)."""
        directory = self.work / ns
        directory.mkdir(parents=True, exist_ok=True)
        if key == "k":
            write_manifest(directory, ns)
        elif key == "h":
            write_chart(directory, ns)

    def k_up(self, ns: str) -> None:
        manifest = self.work / ns / "app.yaml"
        self.kubectl("apply", "--server-side", "--field-manager=bench", "-f", str(manifest))
        self.kubectl("-n", ns, "rollout", "status", "statefulset/mongo", "--timeout=5m")
        self.kubectl("-n", ns, "rollout", "status", "deployment/pacman", "--timeout=5m")

    def k_scale(self, ns: str, replicas: int) -> None:
        self.kubectl("-n", ns, "scale", "deployment/pacman", f"--replicas={replicas}")
        self.kubectl("-n", ns, "rollout", "status", "deployment/pacman", "--timeout=5m")

    def k_status(self, ns: str) -> None:
        self.kubectl("-n", ns, "get", "all,pvc,ingress", "-o", "json")
        self.kubectl("get", "pv,storageclass", "-o", "json")

    def k_down(self, ns: str) -> None:
        self.kubectl("delete", "namespace", ns, "--wait")
        name = f"pacman-node-reader-{ns}"
        self.kubectl("delete", "clusterrole,clusterrolebinding", name, "--ignore-not-found")

    # helm
    def h_up(self, ns: str) -> None:
        chart = self.work / ns / "chart"
        self.helm_cmd(
            "upgrade", "--install", "pacman", str(chart), "-n", ns, "--create-namespace",
            "--wait", "--timeout", "5m",
        )  # fmt: skip

    def h_scale(self, ns: str, replicas: int) -> None:
        chart = self.work / ns / "chart"
        self.helm_cmd(
            "upgrade", "pacman", str(chart), "-n", ns, "--reuse-values",
            "--set", f"replicas={replicas}", "--wait", "--timeout", "5m",
        )  # fmt: skip

    def h_down(self, ns: str) -> None:
        self.helm_cmd("uninstall", "pacman", "-n", ns, "--wait")
        self.kubectl("delete", "namespace", ns, "--wait")


CASES = ("nothing -> Ready", "no-op re-run", "scale 1 -> 10 -> 1", "status", "down --purge")
# Not a case: from the start of `up` from nothing to its first connection reaching the proxy.
FIRST_CONNECTION = "start -> first connection"


def round_of(tools: Tools, key: str, ns: str) -> dict[str, float]:
    """One tool through every case, in a namespace of its own; seconds per case."""
    up = getattr(tools, f"{key}_up")
    scale = getattr(tools, f"{key}_scale")
    status = getattr(tools, f"{key}_status", None)
    down = getattr(tools, f"{key}_down")

    def timed(step: Callable[[], None]) -> float:
        started = time.perf_counter()
        step()
        return time.perf_counter() - started

    tools.prepare(key, ns)
    tools.proxy.reset()
    started = time.perf_counter()
    seconds = {
        "nothing -> Ready": timed(lambda: up(ns)),
        FIRST_CONNECTION: (tools.proxy.first_connection or math.nan) - started,
        "no-op re-run": timed(lambda: up(ns)),
    }
    # On the app as up left it, before the scale: right after a scale-down the cluster is
    # still removing pods, and a tool whose scale returned sooner reads in the middle of it
    # (after pacdeploy's scale, kubectl's two gets took 240 ms, 173 ms after kubectl's).
    if status is not None:
        seconds["status"] = timed(lambda: status(ns))
    seconds["scale 1 -> 10 -> 1"] = timed(lambda: (scale(ns, 10), scale(ns, 1)))
    seconds["down --purge"] = timed(lambda: down(ns))
    return seconds


# -- setup ----------------------------------------------------------------------------------
def proxied_kubeconfig(directory: Path, port: int) -> tuple[Path, str]:
    """A kubeconfig whose server is the proxy (the certificate names 127.0.0.1 either way)."""
    config = contexts.read(kubeconfig.user_file())
    cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == lifecycle.CONTEXT)
    user = next(u["user"] for u in config["users"] if u["name"] == lifecycle.CONTEXT)
    server = urlparse(cluster["server"])
    proxied = {**cluster, "server": f"{server.scheme}://127.0.0.1:{port}"}
    path = directory / f"kubeconfig-{port}"
    contexts.write(path, contexts.with_context(None, "bench", proxied, user=user))
    return path, "bench"


def count_requests(tools: Tools) -> dict[str, dict[str, int]]:
    """Requests each tool sends for up from nothing and for a no-op, from its own verbose log."""
    # kubectl -v=6: `"Response" verb="GET" url=...`; pacdeploy -vv (urllib3): `"GET /api/...`
    pattern = re.compile(r'verb="(?:GET|POST|PUT|PATCH|DELETE)"|"(?:GET|POST|PUT|PATCH|DELETE) /')
    counts: dict[str, dict[str, int]] = {}
    for key in ("pd", "k"):
        ns = f"bench-count-{key}-{uuid.uuid4().hex[:4]}"
        runs = []
        tools.prepare(key, ns)
        for _ in range(2):
            if key == "pd":
                args = ["-vv", "--context", tools.context, "-n", ns, "up", "--keep-default-class"]
                result = cli.run(*args, "--storage-class", CLASS, env=tools.env)
                log = result.stderr
            else:
                manifest = tools.work / ns / "app.yaml"
                log = ""
                for args in (
                    ["apply", "--server-side", "--field-manager=bench", "-f", str(manifest)],
                    ["-n", ns, "rollout", "status", "statefulset/mongo"],
                    ["-n", ns, "rollout", "status", "deployment/pacman"],
                ):
                    log += subprocess.run(
                        [tools.kubectl_bin, "--context", tools.context, "-v=6", *args],
                        env=tools.env, capture_output=True, text=True, check=True,
                    ).stderr  # fmt: skip
            runs.append(len(pattern.findall(log)))
        counts["pacdeploy" if key == "pd" else "kubectl"] = {"up": runs[0], "no-op": runs[1]}
        getattr(tools, f"{key}_down")(ns)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rtt", type=int, nargs="+", default=list(RTTS_MS))
    args = parser.parse_args()
    cluster = lifecycle.up()
    helm = helm_binary()
    defaults_before = storage.defaults(cluster.list("StorageClass"))
    storage.apply_patches(cluster, storage.make_only_default(cluster.list("StorageClass"), CLASS))
    target = urlparse(cluster.server)
    results: dict[str, dict[str, dict[str, list[float]]]] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            for rtt in args.rtt:
                with LatencyProxy(target.hostname or "127.0.0.1", target.port or 443, rtt) as px:
                    config, context = proxied_kubeconfig(work, px.port)
                    tools = Tools(config, context, helm, work=work, proxy=px)
                    if rtt == 0:
                        results["requests"] = count_requests(tools)  # type: ignore[assignment]
                    per_tool: dict[str, dict[str, list[float]]] = {}
                    order = ["pd", "k", "h"]
                    for number in range(args.rounds):
                        shift = number % len(order)
                        for key in order[shift:] + order[:shift]:
                            ns = f"bench-{key}-{uuid.uuid4().hex[:6]}"
                            for case, secs in round_of(tools, key, ns).items():
                                per_tool.setdefault(key, {}).setdefault(case, []).append(secs)
                        print(f"rtt {rtt} ms: round {number + 1}/{args.rounds} done", flush=True)
                    results[str(rtt)] = per_tool
    finally:
        restore = storage.restore(cluster.list("StorageClass"), defaults_before, CLASS)
        storage.apply_patches(cluster, restore)
    report(results, args.rounds)
    save("peers", results)


NAMES = {"pd": "pacdeploy", "k": "kubectl", "h": "helm"}


def report(results: dict, rounds: int) -> None:
    for rtt, per_tool in results.items():
        if rtt == "requests":
            continue
        rows = [("case", *(NAMES[k] for k in per_tool), "pd/kubectl", "pd/helm")]
        for case in (*CASES, FIRST_CONNECTION):
            cells, medians = [], {}
            for key in per_tool:
                values = per_tool[key].get(case)
                if not values:
                    cells.append("-")
                    continue
                medians[key] = statistics.median(values)
                cells.append(f"{medians[key]:.3f} ({min(values):.2f}-{max(values):.2f})")
            ratios = [
                f"{medians['pd'] / medians[peer]:.2f}" if {"pd", peer} <= medians.keys() else "-"
                for peer in ("k", "h")
            ]
            rows.append((case, *cells, *ratios))
        table(f"round trip {rtt} ms, median (min-max) seconds of {rounds} rounds", rows)
    if "requests" in results:
        print(f"\nclient requests (up from nothing / no-op): {results['requests']}")
    chart(results)


def chart(results: dict) -> None:
    """bench/results/peers.png: nothing -> Ready and no-op, each tool, each round trip."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (pip install -e '.[bench]')")
        return
    rtts = [r for r in results if r != "requests"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=False)
    for axis, case in zip(axes, ("nothing -> Ready", "no-op re-run"), strict=True):
        width = 0.25
        for offset, key in enumerate(("pd", "k", "h")):
            heights = [statistics.median(results[r][key][case]) for r in rtts]
            xs = [i + (offset - 1) * width for i in range(len(rtts))]
            axis.bar(xs, heights, width, label=NAMES[key])
        axis.set_xticks(range(len(rtts)), [f"{r} ms" for r in rtts])
        axis.set_title(case)
        axis.set_xlabel("round trip to the API server")
        axis.set_ylabel("seconds (median)")
    axes[0].legend()
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / "peers.png", dpi=100)
    shutil.copy(RESULTS / "peers.png", Path(__file__).with_name("peers.png"))


if __name__ == "__main__":
    main()
