"""Cost that grows with the app, not with the cluster: pacdeploy's commands on a quiet
sandbox and on one crowded with other teams' objects, kubectl beside.

Sizes: +0, +5,000 and +15,000 foreign PersistentVolumes (cluster-scoped, as on a shared
cluster), the last also with +10,000 Events in the app's namespace (a busy app's history).
At each size, rotated rounds of: `status`, `status -o json`, a no-op `up`, `up` from
nothing, a backup and restore, and `down --purge`; and kubectl's `get pv` (the lesson's
command) beside. Medians; growth = median at a size / median on the quiet cluster.
Everything foreign is labelled and removed again, in one request per kind. Before any
timing, every foreign volume is Available, as a shared cluster's old volumes are.
"""

from __future__ import annotations

import argparse
import contextlib
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from harness import kubectl as kubectl_run
from harness import median, pacdeploy, sandbox, save, table, timed

from pacdeploy.errors import NotFound
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import name_of

FOREIGN = "bench.pacdeploy.io/foreign"
SIZES = ((0, 0), (5000, 0), (15000, 10000))  # (PersistentVolumes, Events)
WRITERS = 16


def foreign_volume(n: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"foreign-{n:05d}", "labels": {FOREIGN: "true"}},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": "other-team",
            "hostPath": {"path": f"/nonexistent/foreign-{n}"},
        },
    }


def foreign_event(namespace: str, n: int) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"history.{n:05d}", "namespace": namespace, "labels": {FOREIGN: "1"}},
        "involvedObject": {"kind": "Pod", "name": f"old-pod-{n % 50}", "namespace": namespace},
        "reason": "Pulled",
        "message": "an old pod's history",
        "type": "Normal",
    }


def grow(cluster: Cluster, objects: list[dict]) -> None:
    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(make, [(cluster, o) for o in objects]))


def make(job: tuple[Cluster, dict]) -> None:
    """Create one foreign object; a volume is then marked Available, as an old one is.

    A shared cluster's volumes are old, not a burst. A new volume is marked Available by
    the PV controller, one status write each, and kube-controller-manager's client is
    limited to 20 requests a second by default: 15,000 new volumes would take it some 12
    minutes, and a new claim would wait behind them all (seen: `up` timed out at 300 s).
    Written here first, the controller finds nothing left to do when it gets to them
    (``updateVolumePhase`` returns early when the phase is already set: kubernetes v1.36.3,
    pkg/controller/volume/persistentvolume/pv_controller.go)."""
    cluster, obj = job
    cluster.create(obj)
    if obj["kind"] == "PersistentVolume":
        available = {"status": {"phase": "Available"}}
        cluster.merge_patch(
            "PersistentVolume",
            obj["metadata"]["name"],
            available,
            namespace=None,
            subresource="status",
        )


def settle(cluster: Cluster, volumes: int) -> None:
    """Until every foreign volume is Available (the PV controller may still be behind)."""
    while True:
        found = cluster.list("PersistentVolume", label_selector=FOREIGN)
        pending = [v for v in found if v.get("status", {}).get("phase") != "Available"]
        print(f"  {len(found) - len(pending)}/{volumes} foreign volumes settled", flush=True)
        if len(found) >= volumes and not pending:
            return
        time.sleep(10)


def shrink(cluster: Cluster, namespace: str) -> None:
    """Remove what grow() made, and wait until it is gone.

    Each deleted volume keeps its `kubernetes.io/pv-protection` finalizer until the
    controller removes it, one write each at kube-controller-manager's 20 a second: some
    12 minutes for 15,000, during which that controller is behind for everyone. The bench
    removes the finalizers of its own deleted volumes itself (the controller adds them
    back only to volumes not being deleted), and the next benchmark finds a quiet cluster."""
    selector = {"labelSelector": f"{FOREIGN}"}
    cluster.send("DELETE", "/api/v1/persistentvolumes", query=selector)
    cluster.send("DELETE", f"/api/v1/namespaces/{namespace}/events", query=selector)
    while left := cluster.list("PersistentVolume", label_selector=FOREIGN):
        print(f"  {len(left)} foreign volumes still being deleted", flush=True)
        with ThreadPoolExecutor(WRITERS) as pool:
            list(pool.map(release, [(cluster, name_of(v)) for v in left]))
        time.sleep(1)


def release(job: tuple[Cluster, str]) -> None:
    cluster, name = job
    with contextlib.suppress(NotFound):
        cluster.merge_patch("PersistentVolume", name, {"metadata": {"finalizers": None}})


def cases(namespace: str) -> dict[str, Callable[[], None]]:
    fresh = {"ns": ""}

    def up_from_nothing() -> None:
        fresh["ns"] = f"bench-g-{uuid.uuid4().hex[:6]}"
        pacdeploy("-n", fresh["ns"], "up")

    def purge() -> None:
        pacdeploy("-n", fresh["ns"], "down", "--purge", "--yes")

    def backup_restore() -> None:
        name = f"g-{uuid.uuid4().hex[:6]}"
        pacdeploy("-n", namespace, "backup", "create", name)
        pacdeploy("-n", namespace, "restore", name, "--yes")

    return {
        "status": lambda: pacdeploy("-n", namespace, "status"),
        "status -o json": lambda: pacdeploy("-n", namespace, "status", "-o", "json"),
        "up (no-op)": lambda: pacdeploy("-n", namespace, "up"),
        "up from nothing": up_from_nothing,
        "down --purge": purge,  # of what "up from nothing" made, right after it
        "backup + restore": backup_restore,
        "kubectl get pv": lambda: kubectl_run("get", "pv"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--sizes",
        default=",".join(f"{pvs}:{events}" for pvs, events in SIZES),
        help="PVS:EVENTS,... (cumulative; default %(default)s)",
    )
    args = parser.parse_args()
    sizes = [tuple(int(n) for n in size.split(":")) for size in args.sizes.split(",")]
    cluster = sandbox()
    namespace = f"bench-growth-{uuid.uuid4().hex[:6]}"
    pacdeploy("-n", namespace, "up")
    results: dict[str, dict[str, float]] = {}
    made_pvs = made_events = 0
    try:
        for pvs, events in sizes:
            grow(cluster, [foreign_volume(n) for n in range(made_pvs, pvs)])
            grow(cluster, [foreign_event(namespace, n) for n in range(made_events, events)])
            made_pvs, made_events = pvs, events
            settle(cluster, pvs)
            label = f"+{pvs} PVs, +{events} Events"
            runs = cases(namespace)
            times: dict[str, list[float]] = {name: [] for name in runs}
            for round_ in range(args.rounds):
                order = list(runs)
                order = order[round_ % len(order) :] + order[: round_ % len(order)]
                # "down --purge" removes what "up from nothing" made: keep them in that order
                order.remove("down --purge")
                order.insert(order.index("up from nothing") + 1, "down --purge")
                for name in order:
                    times[name].append(timed(runs[name]))
                    if name == "backup + restore":
                        # Off the clock: every round starts with the same backups. Past five
                        # automatic ones, each restore would also prune the oldest and wait
                        # until it is gone: the bench's own history, not the cluster's size.
                        pacdeploy("-n", namespace, "backup", "prune", "--keep", "0", "--yes")
            results[label] = {name: median(values) for name, values in times.items()}
            print(f"{label}: " + ", ".join(f"{k} {v:.3f}s" for k, v in results[label].items()))
    finally:
        shrink(cluster, namespace)
        pacdeploy("-n", namespace, "down", "--purge", "--yes")
    quiet = results[next(iter(results))]
    rows = [("command", *results, "growth at the largest")]
    for name in quiet:
        cells = [f"{results[label][name]:.3f} s" for label in results]
        largest = results[list(results)[-1]][name] / quiet[name]
        rows.append((name, *cells, f"{largest:.2f}x"))
    table("time against cluster size (medians)", rows)
    save("growth", {"rounds": args.rounds, "medians": results})
    chart(results)


def chart(results: dict[str, dict[str, float]]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from harness import ROOT

    labels = list(results)
    figure, axes = plt.subplots(figsize=(8, 4.5))
    for name in results[labels[0]]:
        axes.plot(labels, [results[label][name] for label in labels], marker="o", label=name)
    axes.set_ylabel("seconds (median)")
    axes.set_title("pacdeploy on a crowded cluster (sandbox)")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(ROOT / "bench" / "growth.png", dpi=110)


if __name__ == "__main__":
    main()
