"""`pacdeploy forward` through the API server to pods, on the sandbox.

KWOK forwards the pods' port 8080 to an HTTP server this test runs on 127.0.0.1, so every
byte really travels client -> pacdeploy -> kube-apiserver -> KWOK kubelet -> server.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support import eventually, free_port, load
from tests.support.forwarding import Forward

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]

BODY = os.urandom(4 * 1024 * 1024)
DIGEST = hashlib.sha256(BODY).hexdigest()
SOAK_BODY = os.urandom(200 * 1024)
BODIES = {"/": b"pacman\n", "/big": BODY, "/soak": SOAK_BODY}  # served by the app fixture
SOAK_CONNECTIONS = 3000
# Resident memory may grow this much from the first 300 connections to the last.
SOAK_RSS_GROWTH_KIB = 32 * 1024


@pytest.fixture
def forward(target, app):
    fwd = Forward(target.start("-n", app, "forward", "0"))
    yield fwd
    if fwd.proc.poll() is None:
        fwd.proc.kill()


def test_request_reaches_the_pod_port_through_named_target_port(forward, cluster, app):
    svc = cluster.get("Service", "pacman", app)
    assert svc["spec"]["ports"][0]["targetPort"] == "http-server"
    assert forward.get("/") == (200, b"pacman\n")
    code, out, err = forward.stop()
    assert code == 0
    assert "Traceback" not in err
    assert "connections served" in out


def portforward_upgrades(cluster) -> int:
    """Port-forward upgrades the API server has finished serving, by its own metric."""
    total = 0
    for line in cluster.send("GET", "/metrics").decode().splitlines():
        if line.startswith("apiserver_request_total{") and 'subresource="portforward"' in line:
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def test_new_connections_ride_the_pods_tunnel_not_an_upgrade_each(forward, cluster):
    """Like kubectl's: a connection is two SPDY streams on the pod's one websocket, so the
    API server serves no upgrade (TLS handshake, proxying to the kubelet) per connection."""
    assert forward.get("/") == (200, b"pacman\n")
    before = portforward_upgrades(cluster)
    answers = [forward.get("/") for _ in range(30)]
    assert answers == [(200, b"pacman\n")] * 30
    assert portforward_upgrades(cluster) == before


def test_twenty_concurrent_clients_get_intact_bodies(forward):
    def fetch(_):
        status, body = forward.get("/big", timeout=60)
        return status, hashlib.sha256(body).hexdigest()

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(fetch, range(20)))
    assert results == [(200, DIGEST)] * 20


def test_deleting_the_serving_pods_does_not_stop_the_forward(forward, cluster, app):
    assert forward.get("/")[0] == 200
    before = eventually(forward.serving)
    for pod in before:
        cluster.delete("Pod", pod, app)

    def replaced():
        """the forward serves only from new pods"""
        now = forward.serving()
        return now and not set(now) & set(before)

    eventually(replaced)
    assert forward.get("/") == (200, b"pacman\n")
    assert forward.proc.poll() is None


def test_scaled_to_zero_the_forward_waits_then_recovers(target, forward, app):
    assert target.pacdeploy("-n", app, "scale", "--replicas", "0").returncode == 0
    eventually(lambda: any("waiting for a ready pacman pod" in line for line in forward.lines))
    results = []
    waiter = threading.Thread(target=lambda: results.append(forward.get("/", timeout=120)))
    waiter.start()
    time.sleep(1.0)
    assert not results, "a request was answered with no pod to serve it"
    assert target.pacdeploy("-n", app, "scale", "--replicas", "1").returncode == 0
    waiter.join(timeout=60)
    assert results == [(200, b"pacman\n")]
    assert forward.proc.poll() is None


def test_forward_errors_are_one_line(target, app, forward):
    busy = target.pacdeploy("-n", app, "forward", str(forward.port), timeout=30)
    assert busy.returncode == 2 and "already in use" in busy.stderr
    missing = target.pacdeploy("-n", app, "forward", "0", "--service", "nope", timeout=30)
    assert missing.returncode == 7 and "service/nope not found" in missing.stderr
    wrong = target.pacdeploy("-n", app, "forward", "0", "--port", "81", timeout=30)
    assert wrong.returncode == 2 and "has no port 81 (it has 80 (http))" in wrong.stderr
    for result in (busy, missing, wrong):
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_pod_refusing_the_port_is_one_line_and_the_forward_keeps_serving(
    target, cluster, app, forward
):
    """The pods' 8080 leads nowhere: the kubelet's error is shown, and the forward lives on."""
    name = f"pf-{app}"
    cluster.merge_patch(
        "ClusterPortForward",
        name,
        {
            "spec": {
                "forwards": [
                    {"ports": [8080], "target": {"address": "127.0.0.1", "port": free_port()}}
                ]
            }
        },
    )

    def refused():
        """a request through the forward is refused by the pod's port"""
        try:
            status, _ = forward.get("/", timeout=10)
        except (OSError, http.client.HTTPException):
            return True
        return status != 200

    eventually(refused, timeout=30)
    assert forward.proc.poll() is None
    code, _, err = forward.stop()
    assert code == 0
    lines = [line for line in err.splitlines() if line.startswith("warning: error forwarding")]
    assert lines, err
    assert re.fullmatch(r"warning: error forwarding to pod pacman-\S+ port 8080: .+", lines[0]), err
    assert "Traceback" not in err


@pytest.mark.parametrize("concurrency", [10, 50])
def test_soak_every_connection_intact_while_pods_come_and_go(
    target, cluster, app, forward, concurrency
):
    """Issue 12: never another connection's bytes, and memory that does not grow."""
    assert target.pacdeploy("-n", app, "scale", "--replicas", "3").returncode == 0
    warm = load.soak(forward.port, "/soak", SOAK_BODY, 300, concurrency)
    assert warm.outcomes["intact"] == 300, warm.summary()
    rss_after_warm_up = load.rss_kib(forward.proc.pid)

    run = load.Soak()
    finished = threading.Event()

    def disrupt():
        """Delete a serving pod, scale up, scale back, while the clients run."""
        for at, action in (
            (0.2, lambda: cluster.delete("Pod", forward.serving()[0], app)),
            (
                0.4,
                lambda: target.kubectl_run("-n", app, "scale", "deployment/pacman", "--replicas=5"),
            ),
            (
                0.7,
                lambda: target.kubectl_run("-n", app, "scale", "deployment/pacman", "--replicas=2"),
            ),
        ):
            while run.total < at * SOAK_CONNECTIONS and not finished.is_set():
                time.sleep(0.05)
            action()

    disruptor = threading.Thread(target=disrupt, daemon=True)
    disruptor.start()
    load.soak(forward.port, "/soak", SOAK_BODY, SOAK_CONNECTIONS, concurrency, into=run)
    finished.set()
    disruptor.join(timeout=30)
    print(f"\nconcurrency {concurrency}: {run.summary()}")
    assert run.outcomes["foreign"] == 0, run.foreign_samples
    assert run.outcomes["intact"] == SOAK_CONNECTIONS, run.summary()
    assert load.rss_kib(forward.proc.pid) - rss_after_warm_up < SOAK_RSS_GROWTH_KIB
    assert forward.proc.poll() is None
