"""Day two on a deployed app: `template`, `logs`, `report`, and `history`'s CHANGE column.

Logs come from KWOK's kubelet endpoint through the real API server (a ClusterLogs serves a
file in the CRI format as every container's log, and follows it as it grows).
"""

from __future__ import annotations

import base64
import json
import queue
import signal
import subprocess
import tarfile
import threading

import pytest
import yaml

from pacdeploy.app.manifests import Options, render
from pacdeploy.data import revisions
from pacdeploy.diagnose.report import secret_only
from pacdeploy.kube.resources import name_of, ref_of
from pacdeploy.release import fields
from pacdeploy.wait.logs import secret_values
from tests.support import eventually, one_line
from tests.support.credentials import own_credentials
from tests.support.kwok import CRASH_LOOP, append_log, every_container_logs, failing_stage

pytestmark = pytest.mark.integration


APPLY = ("apply", "--server-side", "-f", "-")


def documents(text):
    return [d for d in yaml.safe_load_all(text) if d]


def kubectl_apply(target, manifests, *flags):
    return subprocess.run(
        [target.kubectl, "--context", target.context, *APPLY, *flags],
        input=manifests,
        env=target.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_template_is_what_up_applied_and_the_server_takes_it(target, cluster, app):
    validated = target.succeeds("-n", app, "template", "--validate", "--replicas", "2")
    planned = documents(validated)
    recorded = revisions.live(revisions.read(cluster, app))
    assert [fields.without_digest(d) for d in planned] == recorded.manifests
    for obj in planned:  # every field it sets holds in the live object `up` applied
        live = cluster.get(obj["kind"], name_of(obj), obj["metadata"].get("namespace"))
        assert fields.drift(obj, live, ignore=()) == [], ref_of(obj)
    assert "Secret" not in [d["kind"] for d in planned]

    offline = documents(target.succeeds("-n", app, "template", "--replicas", "2"))
    # Offline, only the Namespace differs: it lacks up's record of the class it made default.
    assert offline[1:] == planned[1:]
    assert offline[0]["metadata"]["labels"] == planned[0]["metadata"]["labels"]

    # Applied as the objects' own manager, what `up` applied changes nothing and conflicts
    # with nothing. (Another manager conflicts on the atomic fields the server defaults
    # into, such as an env's fieldRef: it must take them over, --force-conflicts.)
    same = kubectl_apply(target, validated, "--dry-run=server", "--field-manager=pacdeploy")
    assert same.returncode == 0, same.stderr
    assert "serverside-applied (server dry run)" in same.stdout


@pytest.mark.parametrize("args", [(), ("-o", "json", "--with-secret")])
def test_template_is_what_kubectl_applies_to_a_new_namespace(target, cluster, app_ns, args):
    text = target.succeeds("-n", app_ns, "template", "--replicas", "2", *args)
    objects = json.loads(text)["items"] if args else documents(text)
    assert ("Secret" in [o["kind"] for o in objects]) == bool(args)
    try:
        # A server dry run cannot put objects into a namespace it did not create.
        created = kubectl_apply(target, yaml.safe_dump(objects[0]))
        assert created.returncode == 0, created.stderr
        applied = kubectl_apply(target, text, "--dry-run=server")
        assert applied.returncode == 0, applied.stderr
        assert applied.stdout.count("serverside-applied (server dry run)") == len(objects)
    finally:
        cluster.delete("Namespace", app_ns)


def test_history_sums_up_the_first_install_and_json_keeps_the_list(target, app):
    table = target.succeeds("-n", app, "history").splitlines()
    objects = len(render(Options(namespace=app))) + 1  # the default stack's, and the Secret
    assert table[1].endswith(f"install ({objects} objects)"), table
    (first,) = json.loads(target.succeeds("-n", app, "history", "-o", "json"))
    assert f"namespace/{app} created" in first["change"]
    assert first["change"].count(" created") == objects


@pytest.fixture
def app_logs(cluster, app, tmp_path):
    """Every container of the app logs a line with the database password in it."""
    password = secret_values(cluster, app)[-1]
    logs, path = every_container_logs(
        tmp_path,
        app,
        ["hello from the app", f"connecting to mongodb://pacman:{password}@mongo:27017/pacman"],
        ["the instance before", f"password {password} refused"],
    )
    cluster.create(logs)
    yield path
    cluster.delete("ClusterLogs", name_of(logs))


@pytest.mark.sandbox_only
def test_logs_prefix_every_container_of_every_pod_and_mask_the_secret(
    target, cluster, app, app_logs
):
    out = target.succeeds("-n", app, "logs")
    pods = cluster.list("Pod", app, label_selector="name in (pacman,mongo)")
    for pod in pods:
        for container in pod["spec"]["containers"]:
            prefix = f"[pod/{name_of(pod)}/{container['name']}]"
            assert f"{prefix} hello from the app" in out
            # Every value of the Secret is masked, the user and database names too.
            assert f"{prefix} connecting to mongodb://***:***@mongo:27017/***" in out
    assert_masked(out, secret_only(secret_values(cluster, app), app))
    previous = target.succeeds("-n", app, "logs", "mongo", "--previous", "--tail", "1")
    assert "[pod/mongo-0/mongo] password *** refused" in previous.splitlines()
    assert "pacman-" not in previous


def test_logs_bad_input_and_no_app_are_one_line(target, app_ns):
    wrong = target.pacdeploy("-n", app_ns, "logs", "nosuchworkload")
    assert wrong.returncode == 2 and "nosuchworkload" in one_line(wrong.stderr)
    none = target.pacdeploy("-n", app_ns, "logs")
    assert none.returncode == 7 and "pacdeploy up" in one_line(none.stderr)


def lines_of(process):
    """The process's stdout lines, read in a thread, as a queue."""
    found: queue.Queue[str] = queue.Queue()

    def read():
        for line in process.stdout:
            found.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return found


def wait_for(lines, seen, wanted, timeout=60):
    """Read ``lines`` into ``seen`` until ``wanted(seen)``."""

    def check():
        """the lines the follow was to print"""
        while not lines.empty():
            seen.append(lines.get())
        return wanted(seen)

    eventually(check, timeout=timeout)


@pytest.mark.sandbox_only
def test_logs_follow_a_pod_deleted_and_made_again(target, cluster, app, app_logs):
    process = target.start("-n", app, "logs", "mongo", "-f", "--tail", "1")
    lines, seen = lines_of(process), []
    try:
        mine = "[pod/mongo-0/mongo] connecting to mongodb://***:***@mongo:27017/***"
        wait_for(lines, seen, lambda s: mine in s)
        assert not [s for s in seen if "hello from the app" in s]  # --tail 1
        uid = cluster.get("Pod", "mongo-0", app)["metadata"]["uid"]
        cluster.delete("Pod", "mongo-0", app)

        def made_again():
            """mongo-0 made again and running"""
            pod = cluster.get("Pod", "mongo-0", app)
            return pod and pod["metadata"]["uid"] != uid and pod["status"].get("phase") == "Running"

        eventually(made_again)
        # The new instance is followed from its first line, and as it writes more.
        wait_for(lines, seen, lambda s: "[pod/mongo-0/mongo] hello from the app" in s)
        append_log(app_logs, "written while followed")
        wait_for(lines, seen, lambda s: "[pod/mongo-0/mongo] written while followed" in s)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.stderr.read()


def unpacked(path, into):
    with tarfile.open(path) as archive:
        archive.extractall(into, filter="data")
    return {
        p.relative_to(into).as_posix().split("/", 1)[1]: p for p in into.rglob("*") if p.is_file()
    }


def credentials_of(kubeconfig):
    """Every credential the kubeconfig holds, as written and decoded."""
    found = []
    for user in yaml.safe_load(kubeconfig.read_text()).get("users") or []:
        for key, value in (user.get("user") or {}).items():
            if key in ("token", "client-key-data", "client-certificate-data", "password"):
                found.append(value)
                if key.endswith("-data"):
                    pem = base64.b64decode(value).decode()
                    found += [line for line in pem.splitlines() if "-----" not in line]
    return found


def assert_masked(text, secrets):
    assert not [s for s in secrets if s in text], "a secret value is shown"


def assert_no_secret(files, secrets):
    for name, path in files.items():
        text = path.read_text(errors="replace")
        leaked = [s for s in secrets if s and s in text]
        assert not leaked, f"{name} holds a secret value"


@pytest.mark.sandbox_only
def test_report_holds_what_support_asks_for_and_no_secret(target, cluster, app, app_logs, tmp_path):
    path = tmp_path / "bundle.tar.gz"
    out = target.succeeds("-n", app, "report", "-o", str(path))
    assert f"report written to {path}" in out
    files = unpacked(path, tmp_path / "unpacked")
    for name in ("status.json", "events.json", "revisions.json", "backups.json"):
        assert name in files, sorted(files)
    assert json.loads(files["status.json"].read_text())["statefulset"]["ready"] is True
    versions = json.loads(files["versions.json"].read_text())
    assert versions["serverVersion"]["gitVersion"].startswith("v1.")
    assert {n["architecture"] for n in json.loads(files["nodes.json"].read_text())}
    for pod in cluster.list("Pod", app, label_selector="name in (pacman,mongo)"):
        assert f"pods/{name_of(pod)}.yaml" in files
    assert "logs/mongo-0/mongo.log" in files and "logs/mongo-0/mongo.previous.log" in files
    assert "mongodb://pacman:***@" in files["logs/mongo-0/mongo.log"].read_text()
    secrets = secret_only(secret_values(cluster, app), app)
    assert "root" in secrets and len(secrets) == 3  # two passwords and the admin's name
    assert_no_secret(files, secrets + credentials_of(target.kubeconfig))


@pytest.mark.sandbox_only
def test_report_on_a_crash_looping_mongo(target, cluster, app_ns, stages, tmp_path):
    values = own_credentials(cluster, app_ns)
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=1, reason="Error")))
    logs, _ = every_container_logs(
        tmp_path, app_ns, ["waiting"], [f"auth failed for {values['database-password']}"]
    )
    cluster.create(logs)
    try:
        failed = target.pacdeploy("-n", app_ns, "up", "--timeout", "2m")
        assert failed.returncode == 6, failed.stderr
        path = tmp_path / "bundle.tar.gz"
        target.succeeds("-n", app_ns, "report", "-o", str(path))
    finally:
        cluster.delete("ClusterLogs", name_of(logs))
    files = unpacked(path, tmp_path / "unpacked")
    assert "auth failed for ***" in files["logs/mongo-0/mongo.previous.log"].read_text()
    pod = yaml.safe_load(files["pods/mongo-0.yaml"].read_text())
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    secrets = secret_only(list(values.values()), app_ns)
    assert_no_secret(files, secrets + credentials_of(target.kubeconfig))
