"""When things go wrong: API server outages, Ctrl-C, missing permissions, bad input, secrets.

Outages and pauses are real: the sandbox's kube-apiserver is killed and restarted, and its
volume provisioner is stopped (SIGSTOP) to hold a rollout in its wait.
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import time
import uuid

import pytest

from pacdeploy.app.manifests import SECRET
from pacdeploy.app.storage import GA
from pacdeploy.errors import PermissionDenied
from pacdeploy.sandbox import lifecycle
from tests.integration.conftest import sandbox_pid
from tests.support import accounts, class_versions, cli, eventually, one_line

pytestmark = pytest.mark.integration


# -- sandbox controls ---------------------------------------------------------------
# Not the provisioner or KWOK's controller: they recover by themselves (the provisioner's
# log shows it re-listing within seconds), and restarting them too made the outage tests'
# own `up` time out on an unbound claim (tried).
WATCHERS = ("kube-controller-manager", "kube-scheduler", "snapshot-controller")


@pytest.fixture
def api_server(target):
    """kill() the real kube-apiserver; restart() it the way `sandbox up` repairs a crash."""

    class Control:
        def kill(self):
            os.kill(sandbox_pid("kube-apiserver"), signal.SIGKILL)

        def restart(self):
            # After an outage client-go's reflectors back off for up to a minute or two;
            # restart every process that watches the API server with it, so later tests do
            # not wait on that (the snapshot-controller, left out, once saw no VolumeSnapshot
            # for two minutes after these tests: a backup's snapshot went uncut for 30 s).
            for name in WATCHERS:
                with contextlib.suppress(AssertionError, ProcessLookupError):
                    os.kill(sandbox_pid(name), signal.SIGKILL)
            time.sleep(0.2)
            lifecycle.up()

    control = Control()
    yield control
    if not lifecycle.status().healthy:
        control.restart()


def pvc_uid(cluster, ns):
    claim = cluster.get("PersistentVolumeClaim", "mongo-db-mongo-0", ns)
    return claim and claim["metadata"]["uid"]


def assert_deployed_once(cluster, ns):
    """Exactly the expected objects, each once, all ready: no duplicate, nothing missing."""
    assert cluster.get("StatefulSet", "mongo", ns)["status"]["readyReplicas"] == 1
    assert cluster.get("Deployment", "pacman", ns)["status"]["availableReplicas"] == 1
    assert [s["metadata"]["name"] for s in cluster.list("Secret", ns)] == [SECRET]
    assert sorted(s["metadata"]["name"] for s in cluster.list("Service", ns)) == [
        "mongo",
        "mongo-headless",
        "pacman",
    ]
    assert [c["metadata"]["name"] for c in cluster.list("PersistentVolumeClaim", ns)] == [
        "mongo-db-mongo-0"
    ]


# -- transient API faults -------------------------------------------------------------
@pytest.mark.sandbox_only
def test_up_rides_out_an_api_server_outage_at_start(target, cluster, app_ns, api_server):
    api_server.kill()
    proc = target.start("-n", app_ns, "up", "--timeout", "2m")
    time.sleep(3)
    assert proc.poll() is None, "up gave up while the API server was restarting"
    api_server.restart()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert_deployed_once(cluster, app_ns)


@pytest.mark.sandbox_only
def test_up_rides_out_an_api_server_outage_while_waiting(
    target, cluster, app_ns, api_server, paused_provisioner
):
    proc = target.start("-n", app_ns, "up", "--timeout", "2m")

    def waiting():
        """up created the StatefulSet and waits for its claim"""
        return cluster.get("StatefulSet", "mongo", app_ns) is not None

    eventually(waiting)
    api_server.kill()
    time.sleep(3)
    api_server.restart()
    paused_provisioner()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert_deployed_once(cluster, app_ns)


@pytest.mark.sandbox_only
def test_api_server_down_for_good_fails_in_seconds(target, app_ns, api_server):
    api_server.kill()
    env = {**target.env(), "PACDEPLOY_API_RETRY_SECONDS": "3"}
    started = time.monotonic()
    result = cli.run("--context", target.context, "-n", app_ns, "up", env=env, timeout=60)
    elapsed = time.monotonic() - started
    api_server.restart()
    assert result.returncode == 3
    assert "cannot reach the API server" in one_line(result.stderr)
    assert elapsed < 20, f"gave up after {elapsed:.1f}s"


# -- interrupts ---------------------------------------------------------------------------
def interrupt(proc, after):
    eventually(after)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, err = proc.communicate(timeout=10)
    assert time.monotonic() - started < 5, "Ctrl-C was not prompt"
    return proc.returncode, err


@pytest.mark.sandbox_only
def test_ctrl_c_during_up_then_up_converges(target, cluster, app_ns, paused_provisioner):
    proc = target.start("-n", app_ns, "up")
    code, err = interrupt(proc, lambda: cluster.get("StatefulSet", "mongo", app_ns))
    assert code == 130
    assert "interrupted" in one_line(err)
    paused_provisioner()
    again = target.pacdeploy("-n", app_ns, "up")
    assert again.returncode == 0, again.stderr
    assert_deployed_once(cluster, app_ns)


@pytest.mark.exclusive  # cordons every node
def test_ctrl_c_during_scale(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    # Cordon every node so that the scale-up waits for pods that cannot be scheduled.
    nodes = [n["metadata"]["name"] for n in cluster.list("Node")]
    for node in nodes:
        cluster.merge_patch("Node", node, {"spec": {"unschedulable": True}})
    try:
        proc = target.start("-n", app_ns, "scale", "--replicas", "3")
        code, err = interrupt(
            proc, lambda: cluster.get("Deployment", "pacman", app_ns)["spec"]["replicas"] == 3
        )
    finally:
        for node in nodes:
            cluster.merge_patch("Node", node, {"spec": {"unschedulable": None}})
    assert code == 130 and "interrupted" in one_line(err)
    # As the message says: the same command again finishes the job.
    assert "deployment/pacman unchanged to 3" in target.succeeds(
        "-n", app_ns, "scale", "--replicas", "3"
    )
    assert cluster.get("Deployment", "pacman", app_ns)["status"]["readyReplicas"] == 3


def _hold_namespace(cluster, ns):
    """A Secret with a finalizer keeps the namespace Terminating until released."""
    name = f"held-{uuid.uuid4().hex[:4]}"
    cluster.create(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": ns, "finalizers": ["example.com/hold"]},
        }
    )

    def release():
        cluster.merge_patch("Secret", name, {"metadata": {"finalizers": None}}, namespace=ns)

    return release


def test_ctrl_c_during_purge_and_finalizer_is_named(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    release = _hold_namespace(cluster, app_ns)
    try:
        short = target.pacdeploy("-n", app_ns, "down", "--purge", "--yes", "--timeout", "3s")
        assert short.returncode == 6
        assert "held by" in one_line(short.stderr)
        proc = target.start("-n", app_ns, "down", "--purge", "--yes")
        # Its first line says it waits for the namespace (the finalizer holds it).
        assert "is terminating, waiting on: finalizer" in proc.stdout.readline()
        code, err = interrupt(proc, lambda: proc.poll() is None)
        assert code == 130 and "interrupted" in one_line(err)
    finally:
        release()
    # As the message says, the same command finishes the job: the class the purge marked
    # (its record of what to give back) is as it was before.
    target.succeeds("-n", app_ns, "down", "--purge", "--yes")


# -- permissions ----------------------------------------------------------------------------
def service_account_kubeconfig(cluster, target, rules, tmp_path, name):
    """A kubeconfig whose user is a fresh ServiceAccount bound to a ClusterRole of ``rules``."""
    account = accounts.service_account(cluster, rules, name)
    path = cli.write_kubeconfig(
        tmp_path / f"{name}.kubeconfig",
        name,
        server_of(target),
        {"token": accounts.token(cluster, account)},
    )
    return path, account.cleanup


def run_as(kubeconfig, *args, timeout=180):
    return cli.run("--kubeconfig", str(kubeconfig), *args, timeout=timeout)


@pytest.fixture
def rbac_cleanup(cluster):
    items = []
    yield items
    for kind, name in items:
        cluster.delete(kind, name)


@pytest.mark.exclusive  # makes another class the default
def test_missing_permissions_are_named_before_any_change(
    target, cluster, app_ns, tmp_path, rbac_cleanup
):
    rules = [
        r
        for r in accounts.operator_rules()
        if "storageclasses" not in r["resources"] and "namespaces" not in r["resources"]
    ]
    rules.append(
        {"apiGroups": ["storage.k8s.io"], "resources": ["storageclasses"], "verbs": ["get", "list"]}
    )
    rules.append({"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get"]})
    kubeconfig, cleanup = service_account_kubeconfig(cluster, target, rules, tmp_path, "limited")
    rbac_cleanup += cleanup
    # Another class is the default, so `up` would have to patch classes (app_ns restores).
    for name, value in (("standard", "true"), (target.storage_class, "false")):
        cluster.merge_patch("StorageClass", name, {"metadata": {"annotations": {GA: value}}})
    classes = class_versions(cluster)
    result = run_as(kubeconfig, "-n", app_ns, "up")
    assert result.returncode == 4
    line = one_line(result.stderr)
    assert "patch storageclasses.storage.k8s.io cluster-wide" in line
    assert "create namespaces cluster-wide" in line
    assert cluster.get("Namespace", app_ns) is None
    assert class_versions(cluster) == classes


def without_watch(rules):
    return [{**r, "verbs": [v for v in r["verbs"] if v != "watch"]} for r in rules]


@pytest.mark.parametrize(
    ("account", "rules"),
    [
        ("operator", accounts.operator_rules),
        ("operator-polling", lambda: without_watch(accounts.operator_rules())),
    ],
    ids=["documented", "documented-without-watch"],
)
def test_the_documented_role_is_enough_for_every_command(
    account, rules, target, cluster, app_ns, tmp_path, rbac_cleanup
):
    """Without watch, every wait (rollout, snapshots, deletions) polls instead."""
    kubeconfig, cleanup = service_account_kubeconfig(cluster, target, rules(), tmp_path, account)
    rbac_cleanup += cleanup
    snapshots = target.kind == "sandbox"  # kind's standard class has no snapshot class
    for args, code in (
        (["up"], 0),
        (["status", "-o", "json"], 0),
        (["scale", "--replicas", "2"], 0),
        (["up", "--pacman-image", "quay.io/ifont/pacman-nodejs-app:v2"], 0),
        (["history"], 0),
        (["diff", "--replicas", "3"], 1),
        *(
            [(["backup", "create", "b1"], 0), (["backup", "list"], 0), (["restore", "b1", "-y"], 0)]
            if snapshots
            else []
        ),
        (["rollback"], 0),
        (["down"], 0),
        (["up"], 0),
        (["down", "--purge", "--yes"], 0),
    ):
        result = run_as(kubeconfig, "-n", app_ns, *args)
        assert result.returncode == code, (args, result.stderr)
    assert cluster.get("Namespace", app_ns) is None


# -- bad input against a real cluster --------------------------------------------------------
def server_of(target):
    """The cluster entry (server and CA) of the test's context."""
    return accounts.admin_entries(target)[0]


def test_unreachable_server_fails_in_seconds(tmp_path):
    gone = {"server": "https://127.0.0.1:1", "insecure-skip-tls-verify": True}
    config = cli.write_kubeconfig(tmp_path / "config", "gone", gone, {"token": "x"})
    started = time.monotonic()
    env = {**os.environ, "PACDEPLOY_API_RETRY_SECONDS": "2"}
    result = cli.run("--kubeconfig", str(config), "status", env=env, timeout=60)
    assert result.returncode == 3
    assert "cannot reach the API server at https://127.0.0.1:1" in one_line(result.stderr)
    assert time.monotonic() - started < 15


def test_rejected_credentials_exit_3_naming_the_context(target, tmp_path):
    """A 401 is an authentication failure (exit 3, as documented), not a missing RBAC rule."""
    config = cli.write_kubeconfig(
        tmp_path / "config", "stale", server_of(target), {"token": "not-a-valid-token"}
    )
    result = run_as(config, "status")
    assert result.returncode == 3, result.stderr
    assert one_line(result.stderr) == (
        f"error: the API server at {server_of(target)['server']} rejected the credentials of "
        "context 'stale'. Refresh the credentials in your kubeconfig"
    )


def test_tls_failure_is_one_line(target, tmp_path):
    key, cert = tmp_path / "ca.key", tmp_path / "ca.crt"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=not-the-cluster-ca",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    wrong_ca = {
        "server": server_of(target)["server"],
        "certificate-authority-data": base64.b64encode(cert.read_bytes()).decode(),
    }
    config = cli.write_kubeconfig(tmp_path / "config", "wrong-ca", wrong_ca, {"token": "x"})
    result = run_as(config, "status", timeout=60)
    assert result.returncode == 3
    line = one_line(result.stderr)
    assert "TLS handshake with" in line and "certificate-authority" in line


def test_terminating_namespace_is_refused_and_left_alone(target, cluster):
    ns = f"pd-term-{uuid.uuid4().hex[:6]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    release = _hold_namespace(cluster, ns)
    try:
        cluster.delete("Namespace", ns)
        result = target.pacdeploy("-n", ns, "up")
        assert result.returncode == 5
        assert f"namespace {ns} is being deleted" in one_line(result.stderr)
        assert not cluster.list("StatefulSet", ns)
    finally:
        release()


# -- data safety and secrets ---------------------------------------------------------------
@pytest.mark.sandbox_only
def test_failed_up_then_up_keeps_claim_and_secret(target, cluster, app_ns, paused_provisioner):
    failed = target.pacdeploy("-n", app_ns, "up", "--timeout", "3s")
    assert failed.returncode == 6
    line = one_line(failed.stderr)
    assert "statefulset/mongo" in line and "PVC mongo-db-mongo-0 is Pending" in line
    claim, secret = pvc_uid(cluster, app_ns), cluster.get("Secret", SECRET, app_ns)
    paused_provisioner()
    target.succeeds("-n", app_ns, "up")
    assert target.pacdeploy("-n", app_ns, "down").returncode == 0
    target.succeeds("-n", app_ns, "up")
    assert pvc_uid(cluster, app_ns) == claim
    assert cluster.get("Secret", SECRET, app_ns)["data"] == secret["data"]


def test_secret_values_never_appear_in_any_output(target, cluster, app_ns):
    outputs = [target.pacdeploy("-vv", "-n", app_ns, "up", "--ingress")]
    secret = cluster.get("Secret", SECRET, app_ns)
    values = [base64.b64decode(v).decode() for v in secret["data"].values()]
    passwords = [v for v in values if len(v) >= 16]
    assert len(passwords) == 2
    for args in (
        ["up", "--dry-run"],
        ["status", "-o", "json"],
        ["status", "-o", "yaml"],
        ["status"],
        ["scale", "--replicas", "2"],
        ["down"],
    ):
        outputs.append(target.pacdeploy("-vv", "-n", app_ns, *args))
    for result in outputs:
        assert result.returncode == 0, result.stderr
        for password in passwords:
            assert password not in result.stdout and password not in result.stderr


def test_pod_security_baseline_is_enforced_in_the_app_namespace(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "root", "namespace": app_ns},
        "spec": {
            "containers": [
                {"name": "c", "image": "busybox", "securityContext": {"privileged": True}}
            ]
        },
    }
    with pytest.raises(PermissionDenied, match="violates PodSecurity"):
        cluster.create(privileged)
