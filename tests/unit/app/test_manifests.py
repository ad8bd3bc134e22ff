"""Rendering of manifests/ and the security baseline every rendered object must meet."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pacdeploy.app import manifests
from pacdeploy.app.manifests import Options, claim_size, render, validate_storage_size
from pacdeploy.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[3]


def by_kind(objs, kind):
    return [o for o in objs if o["kind"] == kind]


def named(objs, kind, name):
    return next(o for o in by_kind(objs, kind) if o["metadata"]["name"] == name)


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((ROOT / "manifests/kustomization.yaml").read_text())["resources"]
    on_disk = {p.name for p in (ROOT / "manifests").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk


def test_render_places_everything_in_the_namespace():
    objs = render(Options(namespace="games", ingress=True))
    assert objs[0]["kind"] == "Namespace" and objs[0]["metadata"]["name"] == "games"
    for obj in objs[1:]:
        if obj["kind"] in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["name"] == "pacman-node-reader-games"
        else:
            assert obj["metadata"]["namespace"] == "games"
        assert obj["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "pacdeploy"
    binding = by_kind(objs, "ClusterRoleBinding")[0]
    assert binding["roleRef"]["name"] == "pacman-node-reader-games"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "pacman", "namespace": "games"}
    ]


def test_options_reach_the_objects():
    objs = render(
        Options(
            replicas=4,
            service_type="NodePort",
            ingress=True,
            ingress_host="play.example.com",
            ingress_class="traefik",
            pacman_image="quay.io/ifont/pacman-nodejs-app@sha256:abc",
        )
    )
    deployment = by_kind(objs, "Deployment")[0]
    assert deployment["spec"]["replicas"] == 4
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@sha256:abc")
    service = named(objs, "Service", "pacman")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"][0] == {
        "name": "http",
        "port": 80,
        "targetPort": "http-server",
        "protocol": "TCP",
    }
    ingress = by_kind(objs, "Ingress")[0]
    assert ingress["spec"]["ingressClassName"] == "traefik"
    assert ingress["spec"]["rules"][0]["host"] == "play.example.com"
    assert not by_kind(render(Options(ingress=False)), "Ingress")


def test_render_does_not_mutate_the_loaded_manifests():
    render(Options(namespace="one", replicas=7))
    deployment = by_kind(render(Options()), "Deployment")[0]
    assert deployment["metadata"]["namespace"] == "pacman"
    assert deployment["spec"]["replicas"] == 1


def test_statefulset_owns_a_claim_per_pod_and_keeps_it():
    sts = by_kind(render(Options()), "StatefulSet")[0]
    template = sts["spec"]["volumeClaimTemplates"][0]
    assert template["spec"]["resources"]["requests"]["storage"] == "1Gi"
    assert template["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    headless = named(render(Options()), "Service", sts["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"


@pytest.mark.parametrize(
    "obj",
    [o for o in render(Options()) if o["kind"] in ("Deployment", "StatefulSet")],
    ids=lambda o: o["kind"],
)
def test_workloads_meet_the_security_baseline(obj):
    pod = obj["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "hostNetwork" not in pod and "hostPID" not in pod and "hostIPC" not in pod
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert not [v for v in pod.get("volumes", []) if "hostPath" in v]
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert not context.get("privileged")
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert context["readOnlyRootFilesystem"] is True
    # Only the web app talks to the API (it reads its Node), so only it gets a token.
    assert pod["automountServiceAccountToken"] is (obj["kind"] == "Deployment")


def test_namespace_enforces_pod_security_restricted_unless_a_root_init_is_asked_for():
    labels = render(Options())[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    labels = render(Options(volume_permissions=True))[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"


def test_the_ingress_class_is_checked_as_an_ingress_class():
    with pytest.raises(InvalidInput, match="invalid ingress class 'Bad_Class'"):
        manifests.validate(Options(ingress=True, ingress_class="Bad_Class"))


def test_mongo_admits_only_the_web_pods_on_its_port():
    policies = {
        o["metadata"]["name"]: o["spec"] for o in by_kind(render(Options()), "NetworkPolicy")
    }
    mongo = policies["mongo"]
    assert mongo["podSelector"] == {"matchLabels": {"name": "mongo"}}
    assert mongo["policyTypes"] == ["Ingress"]
    (rule,) = mongo["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {"name": "pacman"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 27017}]
    (web,) = policies["pacman"]["ingress"]
    assert "from" not in web and web["ports"] == [{"protocol": "TCP", "port": 8080}]


def test_app_role_may_only_get_nodes():
    role = by_kind(render(Options()), "ClusterRole")[0]
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]


@pytest.mark.parametrize("bad", ["Pacman", "-x", "a_b", "x" * 64, ""])
def test_invalid_namespaces_are_refused(bad):
    with pytest.raises(InvalidInput, match="DNS-1123"):
        manifests.validate_namespace(bad)


@pytest.mark.parametrize("bad", [-1, 101, 10**9])
def test_replicas_out_of_range_are_refused(bad):
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        manifests.validate_replicas(bad)


@pytest.mark.parametrize("host", ["pacman.com", "*.example.com", "a-b.c"])
def test_valid_ingress_hosts(host):
    manifests.validate_ingress_host(host)


@pytest.mark.parametrize("host", ["Pacman.com", "http://x", "a..b", "-a.com", "x" * 254])
def test_invalid_ingress_hosts(host):
    with pytest.raises(InvalidInput, match="invalid ingress host"):
        manifests.validate_ingress_host(host)


def test_the_claim_template_carries_the_size_asked_for():
    (sts,) = by_kind(render(Options()), "StatefulSet")
    assert claim_size(sts) == "1Gi"
    (sts,) = by_kind(render(Options(storage_size="2Gi")), "StatefulSet")
    assert claim_size(sts) == "2Gi"


@pytest.mark.parametrize("bad", ["", "2GB", "-1Gi", "0", "1.5.1Gi", "Gi"])
def test_storage_size_must_be_a_positive_quantity(bad):
    with pytest.raises(InvalidInput, match="invalid storage size"):
        validate_storage_size(bad)
