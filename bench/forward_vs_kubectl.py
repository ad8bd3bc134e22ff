"""`pacdeploy forward` against the real `kubectl port-forward`, same sandbox path, one run.

Path for both: client -> local port -> kube-apiserver -> KWOK kubelet endpoint -> a local
HTTP server that KWOK's ClusterPortForward sends the pods' 8080 to. The same server reached
directly is the physical limit of this machine.
"""

from __future__ import annotations

import argparse
import http.client
import socket
import time
import uuid

from harness import (
    kubectl,
    median,
    pacdeploy,
    percentile,
    sandbox,
    save,
    start_forward,
    table,
)

from pacdeploy.sandbox import lifecycle, objects, paths
from tests.support import cli
from tests.support.standin import StandIn

BIG = 100 * 1024 * 1024
PAYLOAD = bytes(range(256)) * (BIG // 256)


def throughput(port: int) -> float:
    """MB/s of one 100 MB GET."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    conn.request("GET", "/big")
    response = conn.getresponse()
    got = 0
    while chunk := response.read(1 << 20):
        got += len(chunk)
    elapsed = time.perf_counter() - started
    conn.close()
    assert got == BIG, got
    return BIG / elapsed / 1e6


def latencies(port: int, count: int) -> list[float]:
    """Seconds per small request on one kept-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/")
    conn.getresponse().read()  # warm up the stream
    result = []
    for _ in range(count):
        started = time.perf_counter()
        conn.request("GET", "/")
        assert conn.getresponse().read() == b"ok"
        result.append(time.perf_counter() - started)
    conn.close()
    return result


def first_byte(port: int, count: int, pause: float) -> list[float]:
    """Seconds from connect() to the first response byte, each on a new connection.

    ``pause`` (not timed) separates connections: 0 is a back-to-back stress, 0.1 s is
    closer to a browser opening a few connections per page.
    """
    result = []
    for _ in range(count):
        time.sleep(pause)
        started = time.perf_counter()
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert sock.recv(1)
            result.append(time.perf_counter() - started)
    return result


def measure(port: int, args: argparse.Namespace) -> dict[str, float]:
    lat = latencies(port, args.requests)
    ttfb = first_byte(port, args.connections, 0.1)
    burst = first_byte(port, args.connections, 0)
    return {
        "throughput_MBps": median([throughput(port) for _ in range(args.transfers)]),
        "latency_p50_ms": percentile(lat, 50) * 1e3,
        "latency_p99_ms": percentile(lat, 99) * 1e3,
        "first_byte_p50_ms": percentile(ttfb, 50) * 1e3,
        "first_byte_p99_ms": percentile(ttfb, 99) * 1e3,
        "first_byte_back_to_back_p50_ms": percentile(burst, 50) * 1e3,
        "first_byte_back_to_back_p99_ms": percentile(burst, 99) * 1e3,
    }


def compare(cluster, server: StandIn, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    ns = f"bench-fwd-{uuid.uuid4().hex[:6]}"
    forward = objects.port_forward(f"pf-{ns}", [ns], 8080, target_port=server.port)
    cluster.create(forward)
    pacdeploy("-n", ns, "up", "--keep-default-class", "--storage-class", "standard")
    context = ["--context", lifecycle.CONTEXT, "-n", ns]
    ours, ours_port = start_forward(
        cli.command(*context, "forward", "0"),
        r"http://127\.0\.0\.1:(\d+)",
    )
    theirs, theirs_port = start_forward(
        [str(paths.bin_dir() / "kubectl"), *context, "port-forward", "svc/pacman", ":80"],
        r"127\.0\.0\.1:(\d+)",
    )
    ports = {"direct": server.port, "pacdeploy": ours_port, "kubectl": theirs_port}
    try:
        for port in ports.values():
            latencies(port, 10)  # warm every path once before measuring any
        return {name: measure(port, args) for name, port in ports.items()}
    finally:
        for proc in (ours, theirs):
            proc.terminate()
            proc.wait(timeout=10)
        cluster.delete("ClusterPortForward", forward["metadata"]["name"])
        cluster.delete("Namespace", ns)
        kubectl("delete", "clusterrole,clusterrolebinding", f"pacman-node-reader-{ns}", check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--transfers", type=int, default=3)
    args = parser.parse_args()
    cluster = sandbox()
    with StandIn({"/": b"ok", "/big": PAYLOAD}) as server:
        results = compare(cluster, server, args)
    rows = [("metric", "direct", "pacdeploy", "kubectl", "pacdeploy/kubectl")]
    for metric in results["direct"]:
        d, p, k = (results[n][metric] for n in ("direct", "pacdeploy", "kubectl"))
        rows.append((metric, f"{d:.2f}", f"{p:.2f}", f"{k:.2f}", f"{p / k:.2f}"))
    table(
        f"forward vs kubectl port-forward, sandbox ({args.requests} requests, "
        f"{args.connections} new connections, {args.transfers}x100 MB)",
        rows,
    )
    save("forward_vs_kubectl", results)


if __name__ == "__main__":
    main()
