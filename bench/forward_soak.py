"""Issue 12's soak: 3,000 new connections through each forward, every body checked.

pacdeploy forward against `kubectl port-forward svc/pacman`, same sandbox path, three
ready pods, a 200 kB body per connection, at concurrency 10 and 50. Who goes first
alternates between the two concurrency levels. Counts each outcome (intact, refused, cut,
foreign: see tests/support/load.py) and the wall time.
"""

from __future__ import annotations

import argparse
import os
import uuid

from harness import kubectl, pacdeploy, sandbox, save, start_forward, table

from pacdeploy.sandbox import lifecycle, objects, paths
from tests.support import cli, load
from tests.support.standin import StandIn

BODY = os.urandom(200 * 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()
    cluster = sandbox()
    ns = f"bench-soak-{uuid.uuid4().hex[:6]}"
    results: dict[str, dict[str, dict[str, float]]] = {}
    with StandIn({"/": b"ok", "/soak": BODY}) as server:
        forward = objects.port_forward(f"pf-{ns}", [ns], 8080, target_port=server.port)
        cluster.create(forward)
        pacdeploy(
            "-n", ns, "up", "--keep-default-class", "--storage-class", "standard", "--replicas", "3"
        )
        context = ["--context", lifecycle.CONTEXT, "-n", ns]
        kubectl_bin = str(paths.bin_dir() / "kubectl")
        tools = {
            "pacdeploy": start_forward(
                cli.command(*context, "forward", "0"),
                r"http://127\.0\.0\.1:(\d+)",
            ),
            "kubectl": start_forward(
                [kubectl_bin, *context, "port-forward", "svc/pacman", ":80"],
                r"127\.0\.0\.1:(\d+)",
            ),
        }
        try:
            for round_, concurrency in enumerate(args.concurrency):
                order = list(tools) if round_ % 2 == 0 else list(reversed(tools))
                for name in order:
                    _, port = tools[name]
                    run = load.soak(port, "/soak", BODY, args.connections, concurrency)
                    print(f"{name} concurrency {concurrency}: {run.summary()}", flush=True)
                    results.setdefault(str(concurrency), {})[name] = {
                        **{o: run.outcomes[o] for o in load.OUTCOMES},
                        "seconds": run.seconds,
                    }
        finally:
            for proc, _ in tools.values():
                proc.terminate()
                proc.wait(timeout=10)
            cluster.delete("ClusterPortForward", forward["metadata"]["name"])
            cluster.delete("Namespace", ns)
            kubectl(
                "delete", "clusterrole,clusterrolebinding", f"pacman-node-reader-{ns}", check=False
            )
    rows = [("concurrency", "tool", "intact", "foreign", "seconds", "time vs kubectl")]
    for concurrency, by_tool in results.items():
        for name, r in by_tool.items():
            ratio = r["seconds"] / by_tool["kubectl"]["seconds"]
            rows.append(
                (
                    concurrency,
                    name,
                    f"{r['intact']}/{args.connections}",
                    str(r["foreign"]),
                    f"{r['seconds']:.1f}",
                    f"{ratio:.2f}",
                )
            )
    table(f"forward soak: {args.connections} connections x 200 kB, 3 pods", rows)
    save("forward_soak", results)


if __name__ == "__main__":
    main()
