"""The resource registry matches the manifests, and builds every path the API expects."""

import itertools

import pytest
import yaml

from pacdeploy.app.manifests import Options, manifests_dir, render
from pacdeploy.kube.resources import REGISTRY, holds, resource


def every_rendering():
    for ingress, vp in itertools.product((False, True), repeat=2):
        yield from render(Options(ingress=ingress, volume_permissions=vp))


def test_every_manifest_kind_is_registered_with_its_api_version_and_scope():
    for obj in every_rendering():
        registered = resource(obj["kind"])
        assert registered.api_version == obj["apiVersion"], obj["kind"]
        assert registered.namespaced == ("namespace" in obj["metadata"]), obj["kind"]


def test_rbac_role_names_only_registered_resources():
    role = yaml.safe_load((manifests_dir().parent / "rbac" / "pacdeploy-operator.yaml").read_text())
    plurals = {(r.group, r.plural) for r in REGISTRY.values()}
    for rule in role["rules"]:
        for group, name in itertools.product(rule["apiGroups"], rule["resources"]):
            assert (group, name.split("/")[0]) in plurals, (group, name)


def test_paths_for_core_grouped_namespaced_and_subresources():
    assert resource("Pod").path(namespace="ns") == "/api/v1/namespaces/ns/pods"
    assert resource("Namespace").path("ns") == "/api/v1/namespaces/ns"
    assert (
        resource("Deployment").path("pacman", "ns", "scale")
        == "/apis/apps/v1/namespaces/ns/deployments/pacman/scale"
    )
    assert (
        resource("StorageClass").path("x", "ignored") == "/apis/storage.k8s.io/v1/storageclasses/x"
    )
    assert resource("ClusterRole").group == "rbac.authorization.k8s.io"


def test_an_unknown_kind_is_a_bug_not_bad_input():
    """Not InvalidInput (exit 2, "fix your input"): no input of a user's can name a kind."""
    with pytest.raises(LookupError, match="kind Widget is not in pacdeploy's resource registry"):
        resource("Widget")


REVISION = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "pacdeploy.v1", "namespace": "pacman", "labels": {"a": "1"}},
    "data": {"status": "pending", "options": "{}"},
}


def as_stored(sent, **changes):
    """What the API server returns for ``sent``: its own metadata added."""
    meta = {**sent["metadata"], "uid": "u", "resourceVersion": "7", "managedFields": []}
    return {**sent, "metadata": meta, **changes}


def test_a_stored_object_holds_what_was_sent_despite_the_servers_additions():
    assert holds(as_stored(REVISION), REVISION)


def test_different_data_under_the_same_name_is_not_what_was_sent():
    other = as_stored(REVISION, data={"status": "deployed", "options": "{}"})
    assert not holds(other, REVISION)


def test_a_missing_label_or_list_item_is_not_what_was_sent():
    unlabelled = as_stored(REVISION)
    unlabelled["metadata"] = {**unlabelled["metadata"], "labels": {}}
    assert not holds(unlabelled, REVISION)
    claim = {"kind": "PersistentVolumeClaim", "metadata": {}, "spec": {"accessModes": ["A", "B"]}}
    assert not holds({**claim, "spec": {"accessModes": ["A"]}}, claim)
