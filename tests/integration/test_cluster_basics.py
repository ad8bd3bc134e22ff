"""The cluster under test behaves like a real one: controllers, storage, scale, port-forward."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pacdeploy.app import storage
from pacdeploy.errors import Conflict
from pacdeploy.kube import watch
from pacdeploy.kube.resources import name_of
from pacdeploy.sandbox import objects
from tests.support import eventually, free_port
from tests.support.standin import StandIn

pytestmark = pytest.mark.integration


def container(port: int = 8080) -> dict[str, Any]:
    return {
        "name": "web",
        "image": "registry.k8s.io/pause:3.10",
        "ports": [{"name": "http", "containerPort": port}],
    }


def deployment(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [container()]}},
        },
    }


def test_sandbox_reports_pinned_version(target):
    if target.kind != "sandbox":
        pytest.skip("the pinned version is the sandbox's")
    from pacdeploy.sandbox.paths import KUBE_VERSION

    out = target.kubectl_run("get", "--raw", "/version").stdout
    assert f'"gitVersion": "{KUBE_VERSION}"' in out


def test_sandbox_looks_like_minikube(cluster, target):
    if target.kind != "sandbox":
        pytest.skip("sandbox topology")
    nodes = cluster.list("Node")
    assert {n["metadata"]["name"] for n in nodes} >= set(objects.NODE_NAMES)
    for node in nodes:
        addresses = {a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP"}
        assert addresses == {"127.0.0.1"}
    classes = {sc["metadata"]["name"]: sc for sc in cluster.list("StorageClass")}
    assert classes["csi-hostpath-sc"]["provisioner"] == "hostpath.csi.k8s.io"
    assert classes["csi-hostpath-sc"]["volumeBindingMode"] == "Immediate"
    assert cluster.get("IngressClass", "nginx") is not None


def test_deployment_of_three_becomes_ready(cluster, namespace):
    cluster.create(deployment("web", namespace, 3))

    def ready():
        """deployment web has 3 available replicas and 3 ready pods"""
        dep = cluster.get("Deployment", "web", namespace)
        pods = cluster.list("Pod", namespace, label_selector="app=web")
        ready_pods = [
            p
            for p in pods
            if any(
                c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", [])
            )
        ]
        return dep["status"].get("availableReplicas") == 3 and len(ready_pods) == 3

    eventually(ready)


def test_statefulset_claims_bind_to_volumes(cluster, namespace):
    labels = {"app": "db"}
    cluster.create(
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": namespace},
            "spec": {
                "replicas": 2,
                "serviceName": "db",
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {**container(), "volumeMounts": [{"name": "data", "mountPath": "/d"}]}
                        ]
                    },
                },
                "volumeClaimTemplates": [
                    {
                        "metadata": {"name": "data"},
                        "spec": {
                            "accessModes": ["ReadWriteOnce"],
                            "resources": {"requests": {"storage": "1Gi"}},
                        },
                    }
                ],
            },
        }
    )

    def ready():
        """statefulset db has 2 ready replicas"""
        return cluster.get("StatefulSet", "db", namespace)["status"].get("readyReplicas") == 2

    eventually(ready)
    claims = {c["metadata"]["name"]: c for c in cluster.list("PersistentVolumeClaim", namespace)}
    assert set(claims) == {"data-db-0", "data-db-1"}
    for claim in claims.values():
        assert claim["status"]["phase"] == "Bound"
        volume = cluster.get("PersistentVolume", claim["spec"]["volumeName"])
        assert volume["status"]["phase"] == "Bound"
        assert volume["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]


def test_scale_subresource_moves_pods(cluster, namespace):
    cluster.create(deployment("web", namespace, 1))
    path = f"/apis/apps/v1/namespaces/{namespace}/deployments/web/scale"
    cluster.request(
        "PATCH", path, body={"spec": {"replicas": 4}}, content_type="application/merge-patch+json"
    )
    assert cluster.request("GET", path)["spec"]["replicas"] == 4

    def four():
        """4 pods of web exist"""
        return len(cluster.list("Pod", namespace, label_selector="app=web")) == 4

    eventually(four)
    cluster.request(
        "PATCH", path, body={"spec": {"replicas": 0}}, content_type="application/merge-patch+json"
    )

    def none():
        """web's pods are gone"""
        return not cluster.list("Pod", namespace, label_selector="app=web")

    eventually(none)


def test_namespace_deletion_completes(cluster):
    name = f"pd-gone-{uuid.uuid4().hex[:6]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    cluster.create(deployment("web", name, 2))
    eventually(lambda: len(cluster.list("Pod", name)) == 2)
    cluster.delete("Namespace", name)

    def gone():
        """the namespace no longer exists"""
        return cluster.get("Namespace", name) is None

    eventually(gone, timeout=120)


def test_a_retried_create_meeting_its_own_object_succeeds_and_a_stranger_conflicts(
    cluster, namespace
):
    """What a POST retried after a lost answer meets: the object its first attempt made."""
    sent = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "pacdeploy.v1", "namespace": namespace, "labels": {"a": "1"}},
        "data": {"status": "pending"},
    }
    first = cluster.create(sent)
    again = cluster.create(sent)
    assert again["metadata"]["uid"] == first["metadata"]["uid"]
    with pytest.raises(Conflict):
        cluster.create({**sent, "data": {"status": "deployed"}})
    assert cluster.get("ConfigMap", "pacdeploy.v1", namespace)["data"] == {"status": "pending"}


@pytest.mark.exclusive  # makes a class of its own the default
def test_default_class_patched_by_up_is_what_kubectl_sees(target, cluster, app_ns):
    """`up` makes its class the only default: a second client (kubectl) sees it so."""
    name = f"pd-sc-{uuid.uuid4().hex[:6]}"
    cluster.create(objects.storage_class(name, "example.com/none", default=True))
    try:
        target.succeeds("-n", app_ns, "up")
        listed = json.loads(target.kubectl_run("get", "storageclass", "-o", "json").stdout)
        defaults = [
            sc["metadata"]["name"]
            for sc in listed["items"]
            if (sc["metadata"].get("annotations") or {}).get(storage.GA) == "true"
        ]
        assert defaults == [target.storage_class]
    finally:
        cluster.delete("StorageClass", name)


@pytest.fixture
def local_http_server() -> Iterator[int]:
    with StandIn({"/": b"hello through the sandbox\n"}) as server:
        yield server.port


@pytest.mark.sandbox_only
def test_kubectl_port_forward_reaches_local_server(target, cluster, namespace, local_http_server):
    forward = objects.port_forward(
        f"pf-{namespace}", [namespace], 8080, target_port=local_http_server
    )
    cluster.create(forward)
    try:
        cluster.create(deployment("web", namespace, 1))
        eventually(
            lambda: (
                cluster.get("Deployment", "web", namespace)["status"].get("availableReplicas") == 1
            )
        )
        port = free_port()
        proc = subprocess.Popen(
            [
                target.kubectl,
                "--context",
                target.context,
                "-n",
                namespace,
                "port-forward",
                "deploy/web",
                f"{port}:8080",
            ],
            env=target.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert "Forwarding from 127.0.0.1" in proc.stdout.readline()

            def fetch():
                """a GET through kubectl port-forward returns the local server's body"""
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    sock.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
                    data = b""
                    while b"hello through the sandbox" not in data and (chunk := sock.recv(4096)):
                        data += chunk
                return b"hello through the sandbox" in data

            eventually(fetch, timeout=20)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    finally:
        cluster.delete("ClusterPortForward", forward["metadata"]["name"])


def test_kubectl_runs_pacdeploy_as_its_plugin(target):
    """kubectl finds `kubectl-pacdeploy` on PATH: `kubectl pacdeploy ...` is pacdeploy."""
    from importlib.metadata import version

    bin_dir = Path(sys.executable).parent  # where the package's scripts were installed
    assert (bin_dir / "kubectl-pacdeploy").is_file()
    env = {**target.env(), "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [target.kubectl, "pacdeploy", "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert version("pacdeploy") in done.stdout and "kubectl pacdeploy" in done.stdout


def test_a_followed_selection_sees_each_change_and_ends_when_cancelled(cluster, namespace):
    def config_map(name: str, selected: bool) -> dict[str, Any]:
        labels = {"followed": "yes"} if selected else {}
        meta = {"name": name, "namespace": namespace, "labels": labels}
        return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}

    cluster.create(config_map("one", True))
    cluster.create(config_map("other", False))
    seen: queue.SimpleQueue[list[str]] = queue.SimpleQueue()
    cancel = watch.Cancel()

    def follow() -> None:
        followed = watch.Selection("ConfigMap", namespace, label_selector="followed=yes")
        for found in watch.follow_selection(cluster, followed, seconds=120, cancel=cancel):
            seen.put(sorted(name_of(o) for o in found))

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    assert seen.get(timeout=10) == ["one"]
    cluster.create(config_map("two", True))
    assert seen.get(timeout=10) == ["one", "two"]
    cluster.delete("ConfigMap", "one", namespace)
    assert seen.get(timeout=10) == ["two"]
    cancel()
    follower.join(timeout=10)  # the server would hold the watch for 120 s
    assert not follower.is_alive()
