"""Rules of the real API server that pacdeploy's writes rely on, checked on it: what a
server-side apply conflict says and who it names, and how the PV controller binds a volume
whose claimRef names a claim (a pure function's output proves neither)."""

from __future__ import annotations

import uuid

import pytest

from pacdeploy.app.manifests import DEPLOYMENT, Options, render
from pacdeploy.errors import Conflict
from pacdeploy.kube.client import Cluster
from pacdeploy.restore import rules
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def patches(monkeypatch):
    """The value of `force` on each PATCH the test's clients send, in order."""
    sent: list[str | None] = []
    request = Cluster.request

    def counting(self, method, path, **options):
        if method == "PATCH":
            sent.append((options.get("query") or {}).get("force"))
        return request(self, method, path, **options)

    monkeypatch.setattr(Cluster, "request", counting)
    return sent


def test_a_conflict_with_our_own_scale_is_forced_any_other_is_not(
    target, cluster, namespace, patches
):
    web = next(o for o in render(Options(namespace=namespace)) if o["kind"] == "Deployment")
    cluster.apply(web)
    # `scale` writes replicas through the Scale subresource: the server counts that as
    # another manager's field (pacdeploy's, with subresource "scale").
    cluster.merge_patch(
        "Deployment",
        DEPLOYMENT,
        {"spec": {"replicas": 3}},
        namespace=namespace,
        subresource="scale",
    )
    patches.clear()
    assert cluster.apply(web)["spec"]["replicas"] == web["spec"]["replicas"]
    assert patches == [None, "true"]  # refused first, then applied again forced

    # Another client's write of the same field is a conflict that stands.
    target.kubectl_run("-n", namespace, "scale", f"deployment/{DEPLOYMENT}", "--replicas=4")
    patches.clear()
    with pytest.raises(Conflict, match="kubectl"):
        cluster.apply(web)
    assert patches == [None]
    assert cluster.get("Deployment", DEPLOYMENT, namespace)["spec"]["replicas"] == 4


def volume(name: str, storage_class: str, claim_ref: dict) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class,
            "hostPath": {"path": f"/tmp/{name}"},  # never mounted: no kubelet here
            "claimRef": claim_ref,
        },
    }


def claim(name: str, namespace: str, storage_class: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "storageClassName": storage_class,
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
        },
    }


def phase(cluster, volume_name: str) -> str | None:
    return cluster.get("PersistentVolume", volume_name).get("status", {}).get("phase")


@pytest.fixture
def other_namespace(cluster):
    name = f"pd-{uuid.uuid4().hex[:8]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    cluster.delete("Namespace", name)


def test_a_kept_volume_given_back_is_reserved_for_its_claim_never_freed(
    cluster, namespace, other_namespace
):
    """The kept volume, Released (its old claim gone), patched as undo patches it: a claim
    of the same name, class and size in another namespace, which the PV controller has
    looked at since, stays Pending; the named claim in its namespace binds it."""
    name = f"pd-kept-{uuid.uuid4().hex[:6]}"
    klass = f"pd-none-{uuid.uuid4().hex[:6]}"  # no such class: nothing provisions for it
    old = {"kind": "PersistentVolumeClaim", "namespace": namespace, "name": "mongo-db-mongo-0"}
    cluster.create(volume(name, klass, {**old, "uid": str(uuid.uuid4())}))
    try:
        eventually(lambda: phase(cluster, name) == "Released")
        cluster.merge_patch("PersistentVolume", name, rules.prebind_patch(old["name"], namespace))
        assert cluster.get("PersistentVolume", name)["spec"]["claimRef"].get("uid") is None
        # Available, as a freed volume would be: what keeps it is the name in its claimRef.
        eventually(lambda: phase(cluster, name) == "Available")

        cluster.create(claim(old["name"], other_namespace, klass))

        def looked_at() -> bool:
            """the PV controller found no volume for the other claim (and tried the class)"""
            events = cluster.list(
                "Event", other_namespace, field_selector=f"involvedObject.name={old['name']}"
            )
            return any(e["reason"] == "ProvisioningFailed" for e in events)

        eventually(looked_at)
        other = cluster.get("PersistentVolumeClaim", old["name"], other_namespace)
        assert other["status"]["phase"] == "Pending" and not other["spec"].get("volumeName")

        cluster.create(claim(old["name"], namespace, klass))

        def bound() -> bool:
            """the named claim is Bound to the kept volume"""
            mine = cluster.get("PersistentVolumeClaim", old["name"], namespace)
            return mine["status"].get("phase") == "Bound" and mine["spec"]["volumeName"] == name

        eventually(bound)
        ref = cluster.get("PersistentVolume", name)["spec"]["claimRef"]
        assert (ref["namespace"], ref["name"]) == (namespace, old["name"])
    finally:
        cluster.delete("PersistentVolume", name)
