"""`up --storage-size`: mongo's volumes grow in place (their bytes kept, the pod kept), the
StatefulSet's immutable claim template is replaced, and what cannot be done is refused
before anything changes.

On the sandbox: its provisioner plays the CSI external-resizer for classes that allow
expansion; `csi-hostpath-sc` does not by default (as on minikube), so the suite allows it
the way a cluster admin would (tests/conftest.py), and puts it back.
"""

from __future__ import annotations

import json

import pytest

from pacdeploy.app.manifests import claim_size
from tests.support import class_versions, one_line
from tests.support.volumes import CLAIM, marker, volume_dir, volume_of

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]


def test_up_storage_size_grows_the_volume_keeping_its_bytes_its_pod_and_mongo_ready(
    target, cluster, app_ns, expandable
):
    target.succeeds("-n", app_ns, "up")
    (volume_dir(cluster, app_ns) / "marker").write_text("high scores")
    volume, pod = volume_of(cluster, app_ns), cluster.get("Pod", "mongo-0", app_ns)

    preview = target.pacdeploy("-n", app_ns, "diff", "--storage-size", "2Gi", "-o", "json")
    assert preview.returncode == 1, preview.stderr
    actions = {d["object"]: d["action"] for d in json.loads(preview.stdout)}
    assert actions["persistentvolumeclaim/mongo-db-mongo-0"] == "resized"
    assert actions["statefulset/mongo"] == "replaced (pods kept)"

    out = target.succeeds("-n", app_ns, "up", "--storage-size", "2Gi")
    assert "persistentvolumeclaim/mongo-db-mongo-0 resized" in out
    claim = cluster.get("PersistentVolumeClaim", CLAIM, app_ns)
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert claim["status"]["capacity"]["storage"] == "2Gi"
    assert cluster.get("PersistentVolume", volume)["spec"]["capacity"]["storage"] == "2Gi"
    mongo = cluster.get("StatefulSet", "mongo", app_ns)
    assert claim_size(mongo) == "2Gi"  # later pods' claims get the new size
    assert mongo["status"].get("readyReplicas") == 1
    # The same volume, the same bytes, the same pod (orphaned, then adopted).
    assert volume_of(cluster, app_ns) == volume
    assert marker(cluster, app_ns) == "high scores"
    assert cluster.get("Pod", "mongo-0", app_ns)["metadata"]["uid"] == pod["metadata"]["uid"]

    again = target.succeeds("-n", app_ns, "up")  # without the option: the size is kept
    assert "statefulset/mongo unchanged" in again
    shrink = target.pacdeploy("-n", app_ns, "up", "--storage-size", "1Gi")
    assert shrink.returncode == 2
    assert "smaller than mongo's volumes (2Gi)" in one_line(shrink.stderr)


def test_up_storage_size_on_a_class_that_cannot_expand_changes_nothing(
    target, cluster, app_ns, not_expandable
):
    target.succeeds("-n", app_ns, "up")
    before = {
        kind: cluster.get(kind, name, app_ns)["metadata"]["resourceVersion"]
        for kind, name in (("PersistentVolumeClaim", CLAIM), ("StatefulSet", "mongo"))
    }
    classes = class_versions(cluster)
    refused = target.pacdeploy("-n", app_ns, "up", "--storage-size", "2Gi")
    assert refused.returncode == 7
    assert "does not allow volume expansion" in one_line(refused.stderr)
    after = {
        kind: cluster.get(kind, name, app_ns)["metadata"]["resourceVersion"]
        for kind, name in (("PersistentVolumeClaim", CLAIM), ("StatefulSet", "mongo"))
    }
    assert after == before and class_versions(cluster) == classes
    assert target.succeeds("-n", app_ns, "backup", "list", "-o", "json").strip() == "[]"
