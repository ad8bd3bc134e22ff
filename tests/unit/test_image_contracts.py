"""Every rendering of the manifests keeps what the images need (see image_contracts.py)."""

from __future__ import annotations

import itertools
import re

import pytest

from pacdeploy.app import credentials
from pacdeploy.app.manifests import SERVICE_TYPES, Options, render
from tests.support.podspec import effective, env_of, mounts_of, pod_of
from tests.unit.image_contracts import CONTRACTS, MongoContract, PacmanContract

COMBINATIONS = [
    Options(
        stack="lesson",
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


def _secret_keys(container):
    return {
        name: e["valueFrom"]["secretKeyRef"]["key"]
        for name, e in env_of(container).items()
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
    """The lesson's stack, rendered with every option combination."""
    return render(request.param), request.param


def test_mongo_runs_as_the_image_user_in_group_zero(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    assert effective(pod, mongo, "runAsUser") == MongoContract.user.value
    # A non-zero primary group cannot write the image's config dir: mongo-0 crash-loops.
    assert effective(pod, mongo, "runAsGroup") in (None, MongoContract.group.value)


def test_mongo_root_is_read_only_and_what_it_writes_is_on_seeded_empty_dirs(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    assert effective(pod, mongo, "readOnlyRootFilesystem") is True
    empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    mounts = mounts_of(mongo)
    for path in MongoContract.image_writable_paths.value:
        assert mounts[path]["name"] in empty, path
    # The setup edits mongodb.conf and never writes it: a copy of the image's must be there.
    (seed,) = [c for c in pod["initContainers"] if c["name"] == "prepare-base-dir"]
    assert seed["image"] == mongo["image"] and seed["command"][0] == MongoContract.shell.value
    seeded = mounts_of(seed)
    for path in MongoContract.conf_rendered_at_build.value:
        # cp -a keeps mongodb.log's link to /dev/stdout: the container's log stays its output
        target = next(p for p, m in seeded.items() if m["subPath"] == mounts[path]["subPath"])
        assert f"cp -a {path}/. {target}/" in seed["command"][-1]
    assert effective(pod, seed, "runAsUser") == MongoContract.user.value


def test_mongo_volume_is_writable_by_its_user(objs):
    rendered, options = objs
    pod = pod_of(rendered, "StatefulSet")
    mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
    assert mounts[MongoContract.volume_path.value] == "mongo-db"
    assert pod["securityContext"]["fsGroup"] == MongoContract.user.value
    inits = [c for c in pod["initContainers"] if c["name"] != "prepare-base-dir"]
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
    mongo = pod_of(rendered, "StatefulSet")["containers"][0]
    env = env_of(mongo)
    assert set(env) <= MongoContract.env_read.value
    for name in MongoContract.env_required_together.value:
        assert name in env or f"{name}_FILE" in env, name
    assert mongo["ports"][0]["containerPort"] == MongoContract.port.value


def _mongo_secret_keys(pod):
    """MONGODB_* -> the Secret key its file holds (the credentials volume's items)."""
    mongo = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    found = {}
    for name, entry in env_of(mongo).items():
        if name not in MongoContract.secret_files.value:
            continue
        path = entry["value"]
        mount = next(m for p, m in mounts_of(mongo).items() if path.startswith(p + "/"))
        secret = volumes[mount["name"]]["secret"]
        item = next(i for i in secret["items"] if f"{mount['mountPath']}/{i['path']}" == path)
        found[name.removesuffix("_FILE")] = item["key"]
    return found


def test_mongo_reads_its_credentials_from_files_it_may_read(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    assert not _secret_keys(pod["containers"][0])  # no Secret in the environment
    assert set(_mongo_secret_keys(pod)) == {
        n.removesuffix("_FILE") for n in MongoContract.secret_files.value
    }
    (volume,) = [v for v in pod["volumes"] if "secret" in v]
    # Group-readable: fsGroup makes uid 1001 a member of the files' group.
    assert volume["secret"]["defaultMode"] == 0o440
    assert pod["securityContext"]["fsGroup"] == MongoContract.user.value


def test_wiredtiger_cache_fits_the_memory_limit(objs):
    rendered, _ = objs
    mongo = pod_of(rendered, "StatefulSet")["containers"][0]
    flags = env_of(mongo)[MongoContract.extra_flags_to_mongod.value]["value"].split()
    (cache,) = [f for f in flags if f.startswith("--wiredTigerCacheSizeGB=")]
    cache_mi = float(cache.split("=")[1]) * 1024
    # mongod needs about as much again beside the cache (connections, indexes, the engine).
    assert cache_mi <= _mebibytes(mongo["resources"]["limits"]["memory"]) / 2


def test_mongo_probes_use_the_shell_the_image_ships(objs):
    rendered, _ = objs
    mongo = pod_of(rendered, "StatefulSet")["containers"][0]
    for probe in ("readinessProbe", "livenessProbe"):
        command = mongo[probe]["exec"]["command"]
        assert command[0] == MongoContract.shell_on_path.value
        assert not any("$" in part or "PASSWORD" in part for part in command)


def test_pacman_env_port_and_probes_match_the_app(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "Deployment")
    web = pod["containers"][0]
    env = env_of(web)
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
    assert effective(pod, web, "runAsUser") not in (None, 0)
    # The app writes nothing, so its root can be read-only.
    assert PacmanContract.writes_nothing.value
    assert effective(pod, web, "readOnlyRootFilesystem") is True
    # Its credentials can only come from the environment (no *_FILE in the app).
    assert set(PacmanContract.credentials_from_env.value) <= set(_secret_keys(web))


def test_pacman_may_read_its_node_and_nothing_else(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "Deployment")
    assert pod["automountServiceAccountToken"] is True  # routes/location.js reads the token
    (role,) = [o for o in rendered if o["kind"] == "ClusterRole"]
    verb, resource = PacmanContract.node_api.value
    assert role["rules"] == [{"apiGroups": [""], "resources": [resource], "verbs": [verb]}]
    (binding,) = [o for o in rendered if o["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"][0]["name"] == pod["serviceAccountName"]
    assert pod_of(rendered, "StatefulSet")["automountServiceAccountToken"] is False


def test_app_and_database_share_the_same_credentials(objs):
    rendered, _ = objs
    mongo = _mongo_secret_keys(pod_of(rendered, "StatefulSet"))
    web = _secret_keys(pod_of(rendered, "Deployment")["containers"][0])
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
    for contract in [c for pair in CONTRACTS.values() for c in pair]:
        for name, fact in vars(contract).items():
            if name.startswith("_"):
                continue
            assert re.match(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}:\S", fact.source), name


def test_a_backups_lock_authenticates_as_the_images_root_without_a_password_in_argv(objs):
    """db.fsyncLock() runs in the mongo container as root; the shell reads the password
    from the file the Secret is mounted as, so `ps` in the pod never shows it."""
    from pacdeploy.data import consistency

    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = next(c for c in pod["containers"] if c["name"] == consistency.CONTAINER)
    command = consistency.mongo_eval(
        consistency.LOCK, "ns/mongo-0", consistency.shell_of({"spec": pod})
    )
    assert command[0] == MongoContract.shell_on_path.value
    assert MongoContract.root_user.value == consistency.ROOT_USER
    password_file = env_of(mongo)["MONGODB_ROOT_PASSWORD_FILE"]["value"]
    reads = f"{MongoContract.shell_reads_files.value}('{password_file}')"
    assert reads in command[-1]
    mounts = [m["mountPath"] for m in mongo["volumeMounts"]]
    assert any(password_file.startswith(path + "/") for path in mounts)
    assert not any("PASSWORD=" in part or "$" in part for part in command)


def test_lock_and_unlock_say_by_the_shells_exit_code_whether_mongod_did_them():
    """The shell exits non-zero when mongod refused (wrong password, not locked), so a
    failed lock is never taken for a held one."""
    from pacdeploy.data import consistency

    for stack, (mongo, _) in CONTRACTS.items():
        pod = pod_of(render(Options(stack=stack)), "StatefulSet")
        shell = consistency.shell_of({"spec": pod})
        assert shell.stack.name == stack
        for call in (consistency.LOCK, consistency.UNLOCK, consistency.RELEASE):
            script = consistency.mongo_eval(call, "ns/mongo-0", shell)[-1]
            assert f"{mongo.shell_exits_with.value}(" in script
            assert "? 0 : 2)" in script and "pacdeploy ns/mongo-0" in script
