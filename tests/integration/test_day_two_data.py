"""Day two on the data: `shell` (MongoDB's shell by pods/exec) and `test` (the lesson's
experiment through pacdeploy's own forward).

On the sandbox an exec into a pod runs its stand-in `mongo` shell (KWOK's ClusterExec),
which records the command it was given; the web pod's port is a local stand-in that keeps
the high scores in mongo-0's volume directory, its claim's real directory, so the scores
survive mongo-0 as they do on a real cluster, and go with a replaced claim.
"""

from __future__ import annotations

import pytest

from pacdeploy.data import shell
from pacdeploy.kube.resources import name_of
from pacdeploy.restore.intent import INTENT, Intent
from pacdeploy.sandbox import objects
from pacdeploy.wait.logs import secret_values
from tests.support import cli, eventually, one_line
from tests.support.mongo_shell import exec_calls, exec_log_size
from tests.support.standin import STORE, StandIn
from tests.support.volumes import CLAIM, volume_dir

pytestmark = [pytest.mark.integration, pytest.mark.sandbox_only]


@pytest.fixture
def scored_app(target, cluster, app_ns):
    """The app deployed, its web port a stand-in keeping scores in mongo-0's volume."""
    with StandIn({"/": b"pacman\n"}, scores=lambda: volume_dir(cluster, app_ns)) as server:
        forward = objects.port_forward(f"pf-{app_ns}", [app_ns], 8080, target_port=server.port)
        cluster.create(forward)
        try:
            target.succeeds("-n", app_ns, "up")
            yield app_ns
        finally:
            cluster.delete("ClusterPortForward", name_of(forward))


def test_the_score_survives_mongo_0_and_is_removed_after(target, cluster, scored_app):
    since = exec_log_size()
    old = cluster.get("Pod", "mongo-0", scored_app)["metadata"]["uid"]
    out = target.succeeds("-n", scored_app, "test").splitlines()
    assert [line.split()[0] for line in out[:5]] == ["write", "delete", "ready", "read", "remove"]
    assert out[-1].startswith("the score survived")
    assert cluster.get("Pod", "mongo-0", scored_app)["metadata"]["uid"] != old
    name = out[0].split(" as ")[1].split(",")[0]
    assert name in (volume_dir(cluster, scored_app) / STORE).read_text()
    (removal,) = [c for c in exec_calls(since) if "deleteMany" in c]
    statefulset = cluster.get("StatefulSet", "mongo", scored_app)
    assert name in removal and shell.shell_of(statefulset).read("database-password") in removal
    assert not [v for v in secret_values(cluster, scored_app) if v in removal]


def test_the_test_fails_naming_the_step_when_the_claim_is_replaced(target, cluster, scored_app):
    # Deleted while mongo-0 uses it, the claim goes with the pod `test` deletes, and the
    # StatefulSet makes mongo-0 a new, empty one.
    cluster.delete("PersistentVolumeClaim", CLAIM, scored_app)
    result = target.pacdeploy("-n", scored_app, "test", "--timeout", "90s")
    assert result.returncode == 6, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert "test failed at step ready" in line and f"another claim than {CLAIM}" in line
    assert result.stdout.splitlines()[0].startswith("write")


def test_the_test_keeps_mongo_0_when_asked(target, cluster, scored_app):
    old = cluster.get("Pod", "mongo-0", scored_app)["metadata"]["uid"]
    out = target.succeeds("-n", scored_app, "test", "--keep-pod").splitlines()
    assert [line.split()[0] for line in out[:3]] == ["write", "read", "remove"]
    assert cluster.get("Pod", "mongo-0", scored_app)["metadata"]["uid"] == old


def test_the_test_refuses_an_unfinished_restore_and_a_missing_app(target, cluster, scored_app):
    intent = Intent(id="r1", source="backup b1", replicas=1, backup="b1")
    annotations = {"metadata": {"annotations": {INTENT: intent.dump()}}}
    cluster.merge_patch("StatefulSet", "mongo", annotations, namespace=scored_app)
    refused = target.pacdeploy("-n", scored_app, "test")
    assert refused.returncode == 5
    assert f"pacdeploy restore b1 --yes -n {scored_app}" in one_line(refused.stderr)
    none = target.pacdeploy("-n", f"{scored_app}-none", "test")
    assert none.returncode == 7 and "pacdeploy up" in one_line(none.stderr)


def test_shell_evaluates_one_expression_reading_the_password_in_the_pod(
    target, cluster, scored_app
):
    since = exec_log_size()
    out = target.succeeds("-n", scored_app, "shell", "--", "db.stats()")
    assert '"ok" : 1' in out
    (call,) = [c for c in exec_calls(since) if "printjson(db.stats())" in c]
    statefulset = cluster.get("StatefulSet", "mongo", scored_app)
    assert shell.shell_of(statefulset).read("database-password") in call
    assert not [v for v in secret_values(cluster, scored_app) if v in call]
    # The shell's exit code is passed on (the stand-in refuses an unlock nobody locked).
    failed = target.pacdeploy("-n", scored_app, "shell", "--admin", "--", "db.fsyncUnlock()")
    assert failed.returncode == 2, failed.stderr
    (unlock,) = [c for c in exec_calls(since) if "printjson(db.fsyncUnlock())" in c]
    assert shell.shell_of(statefulset).read("database-admin-password") in unlock


# KWOK's exec with a terminal closes its pty as soon as the command exits, sometimes before
# it has copied the last output out (measured straight over pods/exec: 9 of 40 lost it).
TERMINAL_TRIES = 6


def test_shell_on_a_terminal_gets_a_terminal_in_the_pod(target, cluster, scored_app):
    since = exec_log_size()
    for _ in range(TERMINAL_TRIES):
        code, shown = cli.run_on_terminal(
            "--context", target.context, "-n", scored_app, "shell", env=target.env(), timeout=60
        )
        assert code == 0, shown
        if shown:
            break
    assert '"ok" : 1' in shown and "\r\n" in shown  # through the pod's terminal
    # The exec record is the sandbox's, other tests' backups write to it too.
    mine = [c for c in exec_calls(since) if "--shell" in c]
    assert mine and not [v for v in secret_values(cluster, scored_app) if v in mine[0]]


def test_shell_without_a_ready_mongo_is_one_line(target, cluster, scored_app):
    cluster.merge_patch(
        "StatefulSet", "mongo", {"spec": {"replicas": 0}}, namespace=scored_app, subresource="scale"
    )

    def gone():
        """mongo-0 gone"""
        return cluster.get("Pod", "mongo-0", scored_app) is None

    eventually(gone)
    result = target.pacdeploy("-n", scored_app, "shell", "--", "1")
    assert result.returncode == 6
    assert "no mongo pod is ready" in one_line(result.stderr)


def test_test_output_is_one_line_per_step_with_its_time(target, scored_app):
    out = target.succeeds("-n", scored_app, "test", "--keep-pod").splitlines()
    for line in out[:3]:
        seconds = line.split()[1]
        assert seconds.endswith("s") and float(seconds[:-1]) >= 0
