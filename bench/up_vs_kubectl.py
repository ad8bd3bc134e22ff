"""`pacdeploy up` against the lesson's kubectl sequence, on the sandbox, in one run.

The kubectl side does what the lesson does, with the same rendered manifests:
two `kubectl patch storageclass`, `kubectl apply -f` of every object (Secret included),
then `kubectl rollout status` for the StatefulSet and the Deployment. Each tool deploys
into a fresh namespace from nothing to Ready, then re-runs the same thing (a no-op).
Both are measured as whole processes, Python and Go start-up included.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from harness import kubectl, median, pacdeploy, sandbox, save, table, timed

from pacdeploy import credentials, storage
from pacdeploy.manifests import Options, render

TARGET, OTHER = "csi-hostpath-sc", "standard"


def reset_default(cluster) -> None:
    """Back to the sandbox's initial state: `standard` is the default."""
    for name, value in ((OTHER, "true"), (TARGET, "false")):
        cluster.merge_patch(
            "StorageClass", name, {"metadata": {"annotations": {storage.GA: value}}}
        )


def kubectl_sequence(manifest: Path, namespace: str) -> None:
    kubectl(
        "patch",
        "storageclass",
        OTHER,
        "-p",
        '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"false"}}}',
    )
    kubectl(
        "patch",
        "storageclass",
        TARGET,
        "-p",
        '{"metadata":{"annotations":{"storageclass.kubernetes.io/is-default-class":"true"}}}',
    )
    kubectl("apply", "-f", str(manifest))
    kubectl("-n", namespace, "rollout", "status", "statefulset/mongo", "--timeout=5m")
    kubectl("-n", namespace, "rollout", "status", "deployment/pacman", "--timeout=5m")


def run_pacdeploy(cluster, ns: str, _tmp: Path) -> tuple[float, float]:
    return timed(pacdeploy, "-n", ns, "up"), timed(pacdeploy, "-n", ns, "up")


def run_kubectl(cluster, ns: str, tmp: Path) -> tuple[float, float]:
    manifest = tmp / f"{ns}.yaml"
    objects = render(Options(namespace=ns))
    objects.insert(1, credentials.new_secret(ns))
    manifest.write_text(yaml.safe_dump_all(objects))
    return timed(kubectl_sequence, manifest, ns), timed(kubectl_sequence, manifest, ns)


def clean(cluster, ns: str) -> None:
    """Remove a round's objects and wait until they are gone, so no round pays for another."""
    cluster.delete("Namespace", ns)
    for kind in ("ClusterRoleBinding", "ClusterRole"):
        cluster.delete(kind, f"pacman-node-reader-{ns}")
    deadline = time.monotonic() + 120
    while cluster.get("Namespace", ns) is not None and time.monotonic() < deadline:
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    cluster = sandbox()
    times: dict[str, list[float]] = {k: [] for k in ("pd_up", "pd_noop", "k_up", "k_noop")}
    tools = [("pd", run_pacdeploy), ("k", run_kubectl)]
    with tempfile.TemporaryDirectory() as tmp:
        for round_number in range(args.rounds):
            # Alternate who goes first, so neither always meets a warmer or busier cluster.
            for key, run in tools[:: 1 if round_number % 2 == 0 else -1]:
                ns = f"bench-{key}-{uuid.uuid4().hex[:6]}"
                reset_default(cluster)
                up, noop = run(cluster, ns, Path(tmp))
                times[f"{key}_up"].append(up)
                times[f"{key}_noop"].append(noop)
                clean(cluster, ns)
    reset_default(cluster)
    m = {k: median(v) for k, v in times.items()}
    table(
        f"up vs the lesson's kubectl sequence, sandbox, median of {args.rounds} rounds",
        [
            ("case", "pacdeploy", "kubectl", "pacdeploy/kubectl"),
            (
                "nothing -> Ready",
                f"{m['pd_up']:.2f}s",
                f"{m['k_up']:.2f}s",
                f"{m['pd_up'] / m['k_up']:.2f}",
            ),
            (
                "re-run (no-op)",
                f"{m['pd_noop']:.2f}s",
                f"{m['k_noop']:.2f}s",
                f"{m['pd_noop'] / m['k_noop']:.2f}",
            ),
        ],
    )
    save("up_vs_kubectl", {"seconds": times, "median": m})


if __name__ == "__main__":
    main()
