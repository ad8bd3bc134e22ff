"""Every rendering of the manifests keeps what the images need (see image_contracts.py)."""

from __future__ import annotations

import itertools
import re

import pytest

from pacdeploy import credentials
from pacdeploy.manifests import SERVICE_TYPES, Options, render
from tests.unit.image_contracts import MongoContract, PacmanContract

COMBINATIONS = [
    Options(
        replicas=replicas,
        service_type=service_type,
        ingress=ingress,
        volume_permissions=volume_permissions,
        pacman_image=image,
    )
    for replicas, service_type, ingress, volume_permissions, image in itertools.product(
        (0, 1, 10),
        SERVICE_TYPES,
        (False, True),
        (False, True),
        (None, "quay.io/ifont/pacman-nodejs-app@sha256:" + "0" * 64),
    )
]
MEBI = {"Mi": 1, "Gi": 1024}


def _pod(objs, kind):
    return next(o for o in objs if o["kind"] == kind)["spec"]["template"]["spec"]


def _effective(pod, container, key):
    """A securityContext field as the kubelet applies it: container first, then pod."""
    value = (container.get("securityContext") or {}).get(key)
    return (pod.get("securityContext") or {}).get(key) if value is None else value


def _env(container):
    return {e["name"]: e for e in container.get("env", [])}


def _secret_keys(container):
    return {
        name: e["valueFrom"]["secretKeyRef"]["key"]
        for name, e in _env(container).items()
        if "secretKeyRef" in e.get("valueFrom", {})
    }


def _mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * MEBI[unit]


@pytest.fixture(
    params=COMBINATIONS,
    ids=lambda o: (
        f"{o.replicas}-{o.service_type}-"
        f"{'ing' if o.ingress else 'noing'}-{'vp' if o.volume_permissions else 'novp'}-"
        f"{'digest' if o.pacman_image else 'latest'}"
    ),
)
def objs(request):
    return render(request.param), request.param


def test_mongo_runs_as_the_image_user_in_group_zero(objs):
    rendered, _ = objs
    pod = _pod(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    assert _effective(pod, mongo, "runAsUser") == MongoContract.user.value
    # A non-zero primary group cannot write the image's config dir: mongo-0 crash-loops.
    assert _effective(pod, mongo, "runAsGroup") in (None, MongoContract.group.value)
    assert not _effective(pod, mongo, "readOnlyRootFilesystem"), "the setup rewrites " + ", ".join(
        MongoContract.image_writable_paths.value
    )


def test_mongo_volume_is_writable_by_its_user(objs):
    rendered, options = objs
    pod = _pod(rendered, "StatefulSet")
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts[MongoContract.volume_path.value] == "mongo-db"
    assert pod["securityContext"]["fsGroup"] == MongoContract.user.value
    inits = pod.get("initContainers", [])
    if not options.volume_permissions:
        assert inits == []
        return
    (init,) = inits
    assert init["image"] == pod["containers"][0]["image"]
    assert init["command"][0] == MongoContract.has_chown.value
    assert init["command"][-2:] == [f"{MongoContract.user.value}:1001", "/bitnami/mongodb"]
    assert init["securityContext"]["runAsUser"] == 0
    assert init["securityContext"]["runAsNonRoot"] is False  # the pod says True for the rest
    assert set(init["securityContext"]["capabilities"]["add"]) <= {"CHOWN", "DAC_OVERRIDE"}
    assert {m["mountPath"] for m in init["volumeMounts"]} == {MongoContract.volume_path.value}


def test_mongo_env_is_what_the_image_reads(objs):
    rendered, _ = objs
    mongo = _pod(rendered, "StatefulSet")["containers"][0]
    env = _env(mongo)
    assert set(env) <= MongoContract.env_read.value
    assert set(MongoContract.env_required_together.value) <= set(env)
    assert mongo["ports"][0]["containerPort"] == MongoContract.port.value


def test_wiredtiger_cache_fits_the_memory_limit(objs):
    rendered, _ = objs
    mongo = _pod(rendered, "StatefulSet")["containers"][0]
    flags = _env(mongo)[MongoContract.extra_flags_to_mongod.value]["value"].split()
    (cache,) = [f for f in flags if f.startswith("--wiredTigerCacheSizeGB=")]
    cache_mi = float(cache.split("=")[1]) * 1024
    # mongod needs about as much again beside the cache (connections, indexes, the engine).
    assert cache_mi <= _mebibytes(mongo["resources"]["limits"]["memory"]) / 2


def test_mongo_probes_use_the_shell_the_image_ships(objs):
    rendered, _ = objs
    mongo = _pod(rendered, "StatefulSet")["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        command = mongo[probe]["exec"]["command"]
        assert command[0] == MongoContract.shell_on_path.value
        assert not any("$" in part or "PASSWORD" in part for part in command)


def test_pacman_env_port_and_probes_match_the_app(objs):
    rendered, _ = objs
    pod = _pod(rendered, "Deployment")
    web = pod["containers"][0]
    env = _env(web)
    assert set(env) <= PacmanContract.env_read.value
    user, password = PacmanContract.auth_pair.value
    assert (user in env) == (password in env)
    assert "PORT" not in env or env["PORT"]["value"] == str(PacmanContract.port.value)
    named = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert named["http-server"] == PacmanContract.port.value
    for probe in ("readinessProbe", "livenessProbe"):
        assert web[probe]["httpGet"]["path"] == PacmanContract.probe_path.value
        assert named[web[probe]["httpGet"]["port"]] == PacmanContract.port.value
    assert env["MY_NODE_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "spec.nodeName"
    assert _effective(pod, web, "runAsUser") not in (None, 0)


def test_pacman_may_read_its_node_and_nothing_else(objs):
    rendered, _ = objs
    pod = _pod(rendered, "Deployment")
    assert pod["automountServiceAccountToken"] is True  # routes/location.js reads the token
    (role,) = [o for o in rendered if o["kind"] == "ClusterRole"]
    verb, resource = PacmanContract.node_api.value
    assert role["rules"] == [{"apiGroups": [""], "resources": [resource], "verbs": [verb]}]
    (binding,) = [o for o in rendered if o["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    assert _pod(rendered, "StatefulSet")["automountServiceAccountToken"] is False


def test_app_and_database_share_the_same_credentials(objs):
    rendered, _ = objs
    mongo = _secret_keys(_pod(rendered, "StatefulSet")["containers"][0])
    web = _secret_keys(_pod(rendered, "Deployment")["containers"][0])
    assert web["MONGO_DATABASE"] == mongo["MONGODB_DATABASE"]
    assert web["MONGO_AUTH_USER"] == mongo["MONGODB_USERNAME"]
    assert web["MONGO_AUTH_PWD"] == mongo["MONGODB_PASSWORD"]
    assert set(mongo.values()) | set(web.values()) <= set(credentials.KEYS)


def test_generated_credentials_survive_both_images():
    values = credentials.generate()
    assert values["database-admin-name"] == MongoContract.root_user.value
    forbidden = MongoContract.password_forbidden.value | PacmanContract.password_forbidden.value
    for key in ("database-admin-password", "database-password"):
        assert len(values[key]) >= 24
        assert not set(values[key]) & forbidden
    for key in ("database-name", "database-user"):
        assert re.fullmatch(r"[a-z][a-z0-9]*", values[key])


def test_every_fact_names_its_source():
    for contract in (MongoContract, PacmanContract):
        for name, fact in vars(contract).items():
            if name.startswith("_"):
                continue
            assert re.match(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}:\S", fact.source), name
