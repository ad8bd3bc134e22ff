"""The modern stack's renderings keep what its images need, and each stack's data (app/stacks.py)
says what the images' sources say (tests/unit/image_contracts.py)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import yaml

from pacdeploy.app import credentials, stacks
from pacdeploy.app.manifests import ARCH_LABEL, SERVICE_TYPES, Options, render
from pacdeploy.data import consistency
from tests.support.podspec import effective, env_of, mounts_of, pod_of
from tests.unit.image_contracts import CONTRACTS
from tests.unit.image_contracts import OfficialMongoContract as Mongo
from tests.unit.image_contracts import SaintdlePacmanContract as Pacman

ROOT = Path(__file__).resolve().parents[2]
COMBINATIONS = [
    Options(replicas=r, service_type=t, ingress=i, volume_permissions=v)
    for r, t, i, v in itertools.product((0, 3), SERVICE_TYPES, (False, True), (False, True))
]


def _arches(pod):
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    ((expression,),) = [t["matchExpressions"] for t in terms["nodeSelectorTerms"]]
    assert expression["key"] == ARCH_LABEL and expression["operator"] == "In"
    return tuple(expression["values"])


@pytest.fixture(params=COMBINATIONS, ids=str)
def objs(request):
    return render(request.param), request.param


def test_modern_is_the_default_stack():
    assert Options().stack == stacks.DEFAULT == stacks.MODERN


def test_mongo_runs_as_the_images_user_and_group_and_owns_its_volume(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    assert effective(pod, mongo, "runAsUser") == Mongo.user.value
    assert effective(pod, mongo, "runAsGroup") == Mongo.group.value
    # Not root: the entrypoint neither chowns nor steps down, so fsGroup gives it the volume.
    assert Mongo.steps_down_only_as_root.value
    assert pod["securityContext"]["fsGroup"] == Mongo.group.value
    assert mounts_of(mongo)[Mongo.volume_path.value]["name"] == "mongo-db"
    assert mounts_of(mongo)[Mongo.home.value]["name"] == "mongo-db"  # mongosh writes its HOME


def test_mongo_root_is_read_only_and_what_it_writes_is_on_empty_dirs(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    assert effective(pod, mongo, "readOnlyRootFilesystem") is True
    empty = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
    for path in Mongo.image_writable_paths.value:
        assert mounts_of(mongo)[path]["name"] in empty, path


def test_mongo_reads_root_from_files_and_makes_the_app_user_from_files(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    mongo = pod["containers"][0]
    env = env_of(mongo)
    assert set(env) <= Mongo.env_read.value
    assert set(env) == Mongo.secret_files.value  # nothing secret in the environment
    mounts = mounts_of(mongo)
    (secret,) = [v for v in pod["volumes"] if "secret" in v]
    assert secret["secret"]["defaultMode"] == 0o440  # fsGroup makes 999 its group
    for name, entry in env.items():
        folder, key = entry["value"].rsplit("/", 1)
        assert mounts[folder]["name"] == secret["name"] and key in credentials.KEYS, name
    assert env["MONGO_INITDB_ROOT_USERNAME_FILE"]["value"].endswith("/database-admin-name")
    # The app user: a script in the init dir reading the same files with mongosh.
    init = mounts[Mongo.init_dir.value]
    (volume,) = [v for v in pod["volumes"] if v["name"] == init["name"]]
    (config,) = [o for o in rendered if o["kind"] == "ConfigMap"]
    assert volume["configMap"]["name"] == config["metadata"]["name"]
    (script,) = config["data"].values()
    assert f"{Mongo.shell_reads_files.value}('{folder}/' + key" in script
    for key in ("database-name", "database-user", "database-password"):
        assert f"secret('{key}')" in script
    assert "createUser" in script and "readWrite" in script


def test_mongo_runs_mongod_with_a_cache_inside_its_limit_and_probes_with_mongosh(objs):
    rendered, _ = objs
    mongo = pod_of(rendered, "StatefulSet")["containers"][0]
    assert mongo["args"][0] == Mongo.cmd.value
    (cache,) = [a for a in mongo["args"] if a.startswith("--wiredTigerCacheSizeGB=")]
    assert float(cache.split("=")[1]) * 1024 <= 1024 / 2  # limit 1Gi: as much again beside
    assert mongo["resources"]["limits"]["memory"] == "1Gi"
    assert mongo["ports"][0]["containerPort"] == Mongo.port.value
    for probe in ("readinessProbe", "livenessProbe"):
        command = mongo[probe]["exec"]["command"]
        assert command[0] == Mongo.shell_on_path.value
        assert not any("$" in part or "PASSWORD" in part for part in command)


def test_every_container_asks_for_and_is_limited_in_ephemeral_storage(objs):
    rendered, _ = objs
    for kind in ("StatefulSet", "Deployment"):
        pod = pod_of(rendered, kind)
        for container in pod["containers"]:
            for bound in ("requests", "limits"):
                assert "ephemeral-storage" in container["resources"][bound], (kind, bound)


def test_pacman_env_probes_and_user_match_the_app(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "Deployment")
    web = pod["containers"][0]
    env = env_of(web)
    assert set(env) <= Pacman.env_read.value
    name, value = Pacman.db_type.value
    assert env[name]["value"] == value
    user, password = Pacman.auth_pair.value
    assert user in env and password in env
    named = {p["name"]: p["containerPort"] for p in web["ports"]}
    assert named["http-server"] == Pacman.port.value
    assert web["livenessProbe"]["httpGet"]["path"] == Pacman.liveness_path.value
    assert web["readinessProbe"]["httpGet"]["path"] == Pacman.readiness_path.value
    # One connect at start: a pod that never reached MongoDB is restarted by its startup probe.
    assert Pacman.connects_once.value
    assert web["startupProbe"]["httpGet"]["path"] == Pacman.readiness_path.value
    assert effective(pod, web, "runAsUser") >= 10000
    assert effective(pod, web, "runAsGroup") == Pacman.group.value
    assert Pacman.writes_nothing.value
    assert effective(pod, web, "readOnlyRootFilesystem") is True
    assert pod["automountServiceAccountToken"] is True  # location.js reads its Node
    secret_env = {n for n, e in env.items() if "secretKeyRef" in e.get("valueFrom", {})}
    assert set(Pacman.credentials_from_env.value) <= secret_env


def test_pods_land_only_where_their_image_has_a_build():
    for stack, (mongo, pacman) in CONTRACTS.items():
        rendered = render(Options(stack=stack))
        assert _arches(pod_of(rendered, "StatefulSet")) == mongo.platforms.value, stack
        assert _arches(pod_of(rendered, "Deployment")) == pacman.platforms.value, stack
    # An override's platforms are unknown: no pinning then (assume nothing).
    rendered = render(Options(pacman_image="example.org/pacman@sha256:" + "1" * 64))
    assert "affinity" not in pod_of(rendered, "Deployment")
    assert _arches(pod_of(rendered, "StatefulSet")) == Mongo.platforms.value


def test_stack_data_says_what_the_sources_say():
    for name, (mongo, pacman) in CONTRACTS.items():
        stack = stacks.get(name)
        assert stack.mongo.platforms == mongo.platforms.value
        assert stack.web.platforms == pacman.platforms.value
        assert stack.mongo.needs_avx == mongo.needs_avx.value
        assert stack.shell == mongo.shell_on_path.value
        for image in (stack.web, stack.mongo):
            assert image.digest is not None or image.unpinned  # a digest, or why not
    tag, digest = Pacman.digest.value
    assert (stacks.SAINTDLE_PACMAN.tag, stacks.SAINTDLE_PACMAN.digest) == (tag, digest)
    assert {"mongodump", "mongorestore"} <= Mongo.tools.value


def test_the_kustomization_holds_the_modern_stacks_images_as_pacdeploy_renders_them():
    """`kubectl apply -k manifests/` deploys what `pacdeploy up` does."""
    files = {
        name: list(yaml.safe_load_all((ROOT / "manifests" / name).read_text()))
        for name in ("mongo.yaml", "pacman.yaml")
    }
    raw = [o for docs in files.values() for o in docs if o]
    rendered = render(Options())
    for kind in ("StatefulSet", "Deployment"):
        assert pod_of(raw, kind) == pod_of(rendered, kind), kind


def test_a_backup_authenticates_with_mongosh_reading_the_password_file(objs):
    rendered, _ = objs
    pod = pod_of(rendered, "StatefulSet")
    shell = consistency.shell_of({"spec": pod})
    command = consistency.mongo_eval(consistency.LOCK, "ns/mongo-0", shell)
    assert command[0] == Mongo.shell_on_path.value
    password_file = env_of(pod["containers"][0])["MONGO_INITDB_ROOT_PASSWORD_FILE"]["value"]
    assert f"{Mongo.shell_reads_files.value}('{password_file}', 'utf8')" in command[-1]
    assert not any("PASSWORD=" in part or "$" in part for part in command)


def test_volume_permissions_chowns_the_modern_volume_to_its_user(objs):
    rendered, options = objs
    pod = pod_of(rendered, "StatefulSet")
    inits = pod.get("initContainers", [])
    if not options.volume_permissions:
        assert inits == []
        return
    (init,) = inits
    owner = f"{Mongo.user.value}:{Mongo.group.value}"
    assert init["command"] == [Mongo.has_chown.value, "-R", owner, Mongo.volume_path.value]
    assert [m["mountPath"] for m in init["volumeMounts"]] == [Mongo.volume_path.value]
    assert init["image"] == pod["containers"][0]["image"]
