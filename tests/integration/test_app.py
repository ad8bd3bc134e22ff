"""`pacdeploy up / scale / status / down`, run as a user runs them, against a real cluster."""

from __future__ import annotations

import base64
import json
import re

import pytest

from pacdeploy.app import storage
from pacdeploy.app.manifests import SECRET
from tests.support import class_versions, eventually

pytestmark = pytest.mark.integration


def versions(cluster, namespace):
    """resourceVersion of every object the app and `up` touch."""
    result = {}
    for kind in (
        "Deployment",
        "StatefulSet",
        "Service",
        "Secret",
        "ServiceAccount",
        "PersistentVolumeClaim",
        "Ingress",
    ):
        for obj in cluster.list(kind, namespace):
            result[f"{kind}/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    for obj in cluster.list("StorageClass"):
        result[f"StorageClass/{obj['metadata']['name']}"] = obj["metadata"]["resourceVersion"]
    # The app's own cluster objects only: other tests' apps come and go meanwhile.
    for kind in ("ClusterRole", "ClusterRoleBinding"):
        obj = cluster.get(kind, f"pacman-node-reader-{namespace}")
        result[kind] = obj["metadata"]["resourceVersion"] if obj else None
    result["Namespace"] = cluster.get("Namespace", namespace)["metadata"]["resourceVersion"]
    return result


def up(target, ns, *extra):
    result = target.pacdeploy("-n", ns, "up", "--timeout", "3m", *extra)
    assert result.returncode == 0, result.stderr + result.stdout
    return result


URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")


def secret_b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def test_up_from_nothing_reaches_ready_with_one_default_class(
    target, cluster, app_ns, another_default
):
    result = up(target, app_ns, "-vv")  # every request it makes logged, too
    sts = cluster.get("StatefulSet", "mongo", app_ns)
    assert sts["status"]["readyReplicas"] == 1
    assert cluster.get("Deployment", "pacman", app_ns)["status"]["availableReplicas"] == 1
    claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", app_ns)
    assert claim["status"]["phase"] == "Bound"
    assert claim["spec"]["storageClassName"] == target.storage_class
    assert storage.defaults(cluster.list("StorageClass")) == [target.storage_class]
    # The generated credentials: the names the MongoDB image is given, and two passwords,
    # strong (24 random bytes, URL-safe for the app's connection URL) and never shown,
    # neither in what `up` printed nor in the revision it recorded.
    secret = cluster.get("Secret", SECRET, app_ns)["data"]
    values = {k: base64.b64decode(v).decode() for k, v in secret.items()}
    passwords = [values.pop("database-admin-password"), values.pop("database-password")]
    assert values == {
        "database-admin-name": "root",
        "database-name": "pacman",
        "database-user": "pacman",
    }
    assert len(set(passwords)) == 2
    maps = cluster.list("ConfigMap", app_ns)
    assert "pacdeploy.v1" in {cm["metadata"]["name"] for cm in maps}
    records = json.dumps([cm.get("data") for cm in maps])
    for password in passwords:
        assert len(password) == 32 and URL_SAFE.fullmatch(password), "not 24 random bytes"
        for shown in (result.stdout + result.stderr, records):
            assert password not in shown and secret_b64(password) not in shown


def test_second_up_changes_no_resource_version(target, cluster, app_ns):
    up(target, app_ns)
    before = versions(cluster, app_ns)
    again = up(target, app_ns)
    assert versions(cluster, app_ns) == before
    assert " created" not in again.stdout and " configured" not in again.stdout


def test_changed_option_updates_only_that_object(target, cluster, app_ns):
    up(target, app_ns)
    before = versions(cluster, app_ns)
    result = up(target, app_ns, "--service-type", "NodePort")
    after = versions(cluster, app_ns)
    changed = {k for k in after if after[k] != before.get(k)}
    assert changed == {"Service/pacman"}
    assert "service/pacman configured" in result.stdout
    assert cluster.get("Service", "pacman", app_ns)["spec"]["type"] == "NodePort"


def test_down_then_up_keeps_the_same_claim_and_secret(target, cluster, app_ns):
    up(target, app_ns)
    claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", app_ns)
    secret = cluster.get("Secret", SECRET, app_ns)
    down = target.pacdeploy("-n", app_ns, "down")
    assert down.returncode == 0, down.stderr
    assert cluster.get("StatefulSet", "mongo", app_ns) is None
    assert cluster.get("Deployment", "pacman", app_ns) is None
    assert not cluster.list("Pod", app_ns)
    up(target, app_ns)
    again = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", app_ns)
    assert again["metadata"]["uid"] == claim["metadata"]["uid"]
    assert again["spec"]["volumeName"] == claim["spec"]["volumeName"]
    kept = cluster.get("Secret", SECRET, app_ns)
    assert kept["metadata"]["uid"] == secret["metadata"]["uid"]
    assert kept["data"] == secret["data"]


def test_scale_to_ten_and_back_to_one(target, cluster, app_ns):
    up(target, app_ns)
    ten = target.pacdeploy("-n", app_ns, "scale", "--replicas", "10")
    assert ten.returncode == 0, ten.stderr
    dep = cluster.get("Deployment", "pacman", app_ns)
    assert dep["status"]["availableReplicas"] == 10
    ready = [
        p
        for p in cluster.list("Pod", app_ns, label_selector="name=pacman")
        if not p["metadata"].get("deletionTimestamp")
    ]
    assert len(ready) == 10
    # `up` without --replicas keeps the scaled count.
    up(target, app_ns)
    assert cluster.get("Deployment", "pacman", app_ns)["spec"]["replicas"] == 10
    one = target.pacdeploy("-n", app_ns, "scale", "--replicas", "1")
    assert one.returncode == 0, one.stderr
    # Done as kubectl rollout status is: the controller has taken the new count.
    shrunk = cluster.get("Deployment", "pacman", app_ns)
    assert shrunk["status"]["observedGeneration"] == shrunk["metadata"]["generation"]
    assert "deployment/pacman 1/1 available ready" in one.stdout + one.stderr

    def one_pod_left():
        """the nine extra pods went away"""
        return len(cluster.list("Pod", app_ns, label_selector="name=pacman")) == 1

    eventually(one_pod_left)


def test_status_json_matches_the_cluster(target, cluster, app_ns):
    up(target, app_ns, "--ingress")
    result = target.pacdeploy("-n", app_ns, "status", "-o", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    pods = {p["metadata"]["name"] for p in cluster.list("Pod", app_ns)}
    shown = {p["name"] for key in ("deployment", "statefulset") for p in doc[key]["pods"]}
    assert shown == pods
    claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", app_ns)
    assert doc["claims"] == [
        {
            "name": "mongo-db-mongo-0",
            "phase": "Bound",
            "storageClass": target.storage_class,
            "capacity": "1Gi",
            "volume": {
                "name": claim["spec"]["volumeName"],
                "phase": "Bound",
                "reclaimPolicy": "Delete",
            },
        }
    ]
    assert doc["defaultStorageClasses"] == [target.storage_class]
    assert {s["name"] for s in doc["services"]} == {"pacman", "mongo", "mongo-headless"}
    assert doc["ingress"]["hosts"] == ["pacman.com"]
    assert doc["deployment"]["ready"] and doc["statefulset"]["ready"]


@pytest.mark.exclusive  # makes another class the default
def test_down_purge_restores_default_class_and_removes_namespace(target, cluster, app_ns):
    # Another class is the default before `up` (a fresh minikube's `standard`), whatever an
    # earlier `make demo` left; app_ns puts the cluster's own defaults back afterwards.
    classes = cluster.list("StorageClass")
    others = [
        sc["metadata"]["name"] for sc in classes if sc["metadata"]["name"] != target.storage_class
    ]
    if others:
        storage.apply_patches(cluster, storage.make_only_default(classes, others[0]))
    before = storage.defaults(cluster.list("StorageClass"))
    up(target, app_ns)
    result = target.pacdeploy("-n", app_ns, "down", "--purge", "--yes")
    assert result.returncode == 0, result.stderr
    assert cluster.get("Namespace", app_ns) is None
    assert storage.defaults(cluster.list("StorageClass")) == before
    assert "namespace/" + app_ns + " deleted" in result.stdout
    nothing = target.pacdeploy("-n", app_ns, "down")
    assert nothing.returncode == 0
    assert "nothing to remove" in nothing.stdout


def test_unknown_storage_class_changes_nothing(target, cluster, app_ns):
    classes = class_versions(cluster)
    result = target.pacdeploy("-n", app_ns, "up", "--storage-class", "no-such-class")
    assert result.returncode == 7
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "no-such-class" in lines[0] and target.storage_class in lines[0]
    assert "Traceback" not in result.stderr
    assert cluster.get("Namespace", app_ns) is None
    assert class_versions(cluster) == classes


def test_dry_run_changes_nothing(target, cluster, app_ns):
    classes = class_versions(cluster)
    fresh = target.pacdeploy("-n", app_ns, "up", "--dry-run")
    assert fresh.returncode == 0, fresh.stderr
    assert "deployment/pacman created (server dry run)" in fresh.stdout
    assert cluster.get("Namespace", app_ns) is None
    assert class_versions(cluster) == classes

    up(target, app_ns)
    before = versions(cluster, app_ns)
    change = target.pacdeploy("-n", app_ns, "up", "--replicas", "3", "--dry-run")
    assert change.returncode == 0, change.stderr
    assert "deployment/pacman configured (server dry run)" in change.stdout
    assert "statefulset/mongo unchanged (server dry run)" in change.stdout
    assert versions(cluster, app_ns) == before


def test_foreign_object_is_reported_not_overwritten(target, cluster, app_ns):
    up(target, app_ns)
    cluster.delete("Service", "pacman", app_ns)
    foreign = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "pacman", "namespace": app_ns, "labels": {"owner": "someone"}},
        "spec": {
            "type": "ClusterIP",
            "ports": [{"name": "web", "port": 1234}],
            "selector": {"x": "y"},
        },
    }
    cluster.create(foreign)
    before = cluster.get("Service", "pacman", app_ns)["metadata"]["resourceVersion"]
    result = target.pacdeploy("-n", app_ns, "up")
    assert result.returncode == 5
    assert "service/pacman" in result.stderr and "--force" in result.stderr
    assert cluster.get("Service", "pacman", app_ns)["metadata"]["resourceVersion"] == before
    forced = up(target, app_ns, "--force")
    assert "service/pacman configured" in forced.stdout
    svc = cluster.get("Service", "pacman", app_ns)
    assert [p["port"] for p in svc["spec"]["ports"]] == [80]
    assert svc["spec"]["selector"] == {"name": "pacman"}
    assert svc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pacdeploy"
    assert "owner" not in svc["metadata"]["labels"]
    assert " configured" not in up(target, app_ns).stdout  # ours now: plain `up` is a no-op
