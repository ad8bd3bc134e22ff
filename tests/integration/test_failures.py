"""Real failure modes: pods that crash, cannot pull, lack a Secret key, fail probes.

On the sandbox KWOK Stages put the app's pods into each state through the real API server
(and a Logs object serves the crashed container's log), so `up` reads state, Events and
logs exactly as it would on a cluster where the container really failed.
"""

from __future__ import annotations

import time
import uuid

import pytest

from pacdeploy.app.manifests import Options, render
from tests.support import one_line
from tests.support.credentials import own_credentials
from tests.support.kwok import (
    CONFIG_ERROR,
    CRASH_LOOP,
    IMAGE_PULL,
    RUNNING,
    failing_stage,
    pod_logs,
)

pytestmark = pytest.mark.integration
FAIL_FAST = 60.0  # seconds: "fails early", against a --timeout of 5 minutes
ROOT_CAUSE_WITHIN = 10.0  # seconds after the pod shows it (plus the CLI's start)


def timed_up(target, namespace, *args):
    started = time.monotonic()
    result = target.pacdeploy("-n", namespace, "up", *args)
    return result, time.monotonic() - started


@pytest.mark.sandbox_only
@pytest.mark.parametrize(
    ("reason", "exit_code", "shown"),
    [("Error", 1, "CrashLoopBackOff"), ("OOMKilled", 137, "OOMKilled")],
)
def test_crash_loop_fails_fast_naming_exit_code_and_last_log_line(
    target, cluster, app_ns, stages, tmp_path, reason, exit_code, shown
):
    values = own_credentials(cluster, app_ns)
    password = values["database-password"]
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=exit_code, reason=reason)))
    cluster.create(
        pod_logs(
            tmp_path,
            app_ns,
            "mongo-0",
            "mongo",
            [
                "mongodb 12:00:00.00 INFO  ==> ** Starting MongoDB setup **",
                f"connecting to mongodb://pacman:{password}@mongo:27017/pacman",
                f"sed: couldn't open temporary file [x]: Permission denied {password}",
            ],
        )
    )
    result, elapsed = timed_up(target, app_ns, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < FAIL_FAST
    line = one_line(result.stderr)
    assert "statefulset/mongo" in line and "mongo-0" in line and shown in line
    assert f"exit code {exit_code}" in line and "5 restarts" in line
    # The previous container's last line, redacted, and "[x]" kept as text, not markup.
    assert "last log line: sed: couldn't open temporary file [x]: Permission denied ***" in line
    if reason == "OOMKilled":
        mongo = next(o for o in render(Options()) if o["kind"] == "StatefulSet")
        limit = mongo["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        assert f"memory limit {limit['memory']}" in line
    assert "kubectl -n" in line and "logs mongo-0 -c mongo --previous" in line
    for secret in values.values():
        if len(secret) >= 16:
            assert secret not in result.stdout + result.stderr


@pytest.mark.sandbox_only
def test_image_the_registry_refuses_fails_fast_naming_the_image(target, app_ns, stages):
    stages(failing_stage(app_ns, "pacman", IMAGE_PULL, phase="Pending"))
    image = "quay.io/ifont/pacman-nodejs-app:no-such-tag"
    result, elapsed = timed_up(target, app_ns, "--pacman-image", image, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < FAIL_FAST
    line = one_line(result.stderr)
    assert "deployment/pacman" in line and "ImagePullBackOff" in line
    assert f"image {image}" in line and "not found" in line
    assert "Check the image name" in line


@pytest.mark.sandbox_only
def test_atomic_up_that_cannot_become_ready_ends_on_the_previous_revision(
    target, cluster, app_ns, stages
):
    target.succeeds("-n", app_ns, "up")
    before = cluster.get("Deployment", "pacman", app_ns)["spec"]["template"]
    stages(failing_stage(app_ns, "pacman", IMAGE_PULL, phase="Pending"))
    image = "quay.io/ifont/pacman-nodejs-app:no-such-tag"
    result, elapsed = timed_up(target, app_ns, "--atomic", "--pacman-image", image)
    assert result.returncode == 6, result.stderr
    assert elapsed < FAIL_FAST
    warning, error = result.stderr.strip().splitlines()
    assert warning == "warning: --atomic: revision 2 failed, rolling back to 1"
    assert "ImagePullBackOff" in error and f"image {image}" in error
    assert "--atomic rolled back to revision 1" in error
    assert cluster.get("Deployment", "pacman", app_ns)["spec"]["template"] == before
    history = target.pacdeploy("-n", app_ns, "history").stdout.splitlines()[1:]
    assert [line.split()[2] for line in history] == ["superseded", "failed", "deployed"]
    assert "rollback to 1 (--atomic, after 2 failed)" in history[2]


@pytest.mark.sandbox_only
def test_missing_secret_key_fails_fast_naming_the_key(target, app_ns, stages):
    # The web pods take the Secret as environment (the app reads nothing else): a missing key
    # is the kubelet's CreateContainerConfigError. (mongo reads it as files: FailedMount.)
    stages(failing_stage(app_ns, "pacman", CONFIG_ERROR.format(namespace=app_ns)))
    result, elapsed = timed_up(target, app_ns, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < FAIL_FAST
    line = one_line(result.stderr)
    assert "CreateContainerConfigError" in line
    assert "couldn't find key database-password" in line
    assert "secret/mongodb-users-secret" in line  # the fix names the Secret


@pytest.mark.sandbox_only
def test_failing_probe_is_named_when_the_wait_times_out(target, app_ns, stages):
    event = {
        "type": "Warning",
        "reason": "Unhealthy",
        "message": "Readiness probe failed: HTTP probe failed with statuscode: 503",
    }
    stages(failing_stage(app_ns, "pacman", RUNNING, event=event))
    result, _ = timed_up(target, app_ns, "--timeout", "8s")
    assert result.returncode == 6, result.stderr
    line = one_line(result.stderr)
    assert "not ready after 8s" in line
    assert "Readiness probe failed: HTTP probe failed with statuscode: 503" in line


def test_paused_deployment_is_reported_not_waited_on(target, app_ns):
    target.succeeds("-n", app_ns, "up")
    target.kubectl_run("-n", app_ns, "rollout", "pause", "deployment/pacman")
    result, elapsed = timed_up(target, app_ns, "--replicas", "2", "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < FAIL_FAST
    assert "kubectl rollout resume deployment/pacman" in one_line(result.stderr)


def test_both_pods_pass_restricted_admission_and_run(target, cluster, app_ns):
    target.succeeds("-n", app_ns, "up")
    labels = cluster.get("Namespace", app_ns)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    pods = cluster.list("Pod", app_ns, label_selector="name in (mongo,pacman)")
    # Admitted by the real API server under `restricted`, and running (KWOK's kubelet).
    assert sorted(p["metadata"]["labels"]["name"] for p in pods) == ["mongo", "pacman"]
    assert {p["status"]["phase"] for p in pods} == {"Running"}


def test_volume_permissions_init_container_passes_admission_and_runs(target, cluster, app_ns):
    result = target.pacdeploy("-n", app_ns, "up", "--volume-permissions")
    assert result.returncode == 0, result.stderr
    labels = cluster.get("Namespace", app_ns)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"  # it runs as root
    pod = cluster.get("Pod", "mongo-0", app_ns)
    inits = {c["name"]: c for c in pod["spec"]["initContainers"]}
    assert set(inits) == {"volume-permissions"}  # the official mongo image has no other
    assert inits["volume-permissions"]["securityContext"]["runAsUser"] == 0
    # The default stack's user and data directory (tests/unit/image_contracts.py).
    assert inits["volume-permissions"]["command"][-2:] == ["999:999", "/data/db"]
    # Admitted, and (KWOK's kubelet) both init containers ran to completion before mongo.
    assert pod["status"]["phase"] == "Running"
    finished = {
        s["name"]: s["state"].get("terminated", {}).get("reason")
        for s in pod["status"].get("initContainerStatuses", [])
    }
    assert finished == {"volume-permissions": "Completed"}


@pytest.mark.exclusive  # adds a StorageClass others would see
def test_up_warns_when_the_volume_driver_ignores_fsgroup(target, cluster, app_ns):
    suffix = uuid.uuid4().hex[:6]
    driver = f"nofsgroup-{suffix}.csi.example.com"
    class_name = f"pd-nofsgroup-{suffix}"
    cluster.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "CSIDriver",
            "metadata": {"name": driver},
            "spec": {"fsGroupPolicy": "None", "attachRequired": False},
        }
    )
    cluster.create(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": class_name},
            "provisioner": driver,
        }
    )
    try:
        warned = target.pacdeploy("-n", app_ns, "up", "--storage-class", class_name, "--dry-run")
        assert warned.returncode == 0, warned.stderr
        assert one_line(warned.stderr) == (
            f"warning: CSI driver {driver} ignores fsGroup (fsGroupPolicy: None), so MongoDB "
            "(uid 1001) may not be able to write its volume; pass --volume-permissions to chown "
            "it first"
        )
        quiet = target.pacdeploy(
            "-n", app_ns, "up", "--storage-class", class_name, "--volume-permissions", "--dry-run"
        )
        assert quiet.returncode == 0 and quiet.stderr == ""
    finally:
        cluster.delete("StorageClass", class_name)
        cluster.delete("CSIDriver", driver)


@pytest.mark.sandbox_only
def test_exec_format_error_in_the_log_is_named_at_once(target, app_ns, cluster, stages, tmp_path):
    own_credentials(cluster, app_ns)  # the Logs object lives in the namespace
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=255, reason="Error")))
    line = "exec /usr/local/bin/docker-entrypoint.sh: exec format error"
    cluster.create(pod_logs(tmp_path, app_ns, "mongo-0", "mongo", [line]))
    result, elapsed = timed_up(target, app_ns, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    said = one_line(result.stderr)
    assert "ExecFormatError" in said and "has no build for node" in said
    assert "(amd64); `--stack modern` or `--stack lesson` runs there" in said


@pytest.mark.sandbox_only
def test_sigill_names_the_missing_avx_and_the_lesson_stack(target, app_ns, stages):
    stages(failing_stage(app_ns, "mongo", CRASH_LOOP.format(exit_code=132, reason="Error")))
    result, elapsed = timed_up(target, app_ns, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    said = one_line(result.stderr)
    assert "IllegalInstruction" in said and "AVX" in said and "--stack lesson" in said


@pytest.mark.sandbox_only
def test_a_manifest_unknown_is_fatal_at_once(target, app_ns, stages):
    refused = IMAGE_PULL.replace("not found", "manifest unknown")
    stages(failing_stage(app_ns, "pacman", refused, phase="Pending"))
    image = "example.org/gone:1"
    result, elapsed = timed_up(target, app_ns, "--pacman-image", image, "--timeout", "5m")
    assert result.returncode == 6, result.stderr
    assert elapsed < ROOT_CAUSE_WITHIN + 5
    assert "manifest unknown" in one_line(result.stderr)
