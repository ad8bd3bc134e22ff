"""KWOK objects that put the sandbox's pods into the failure states of real clusters.

A Stage with weight 100 that selects one namespace's pods of one app wins over KWOK's
default pod-ready stage (weight 0): those pods get the Stage's status instead of Ready,
written through the real API server. A Logs object makes KWOK's kubelet endpoint serve a
file as a container's log (current and previous instance), so `kubectl logs` and pacdeploy
read it through the API server too.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

API_VERSION = "kwok.x-k8s.io/v1alpha1"
# `$status` is a YAML block for one container; `.name` and `.image` are its spec's.
_TEMPLATE = """\
{{{{ $now := Now }}}}
phase: {phase}
conditions:
- type: Initialized
  status: "True"
  lastTransitionTime: {{{{ $now | Quote }}}}
- type: Ready
  status: "False"
  lastTransitionTime: {{{{ $now | Quote }}}}
- type: ContainersReady
  status: "False"
  lastTransitionTime: {{{{ $now | Quote }}}}
containerStatuses:
{{{{ range .spec.containers }}}}
- name: {{{{ .name | Quote }}}}
  image: {{{{ .image | Quote }}}}
  ready: false
  started: false
{container}
{{{{ end }}}}
"""


def _indent(block: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in block.strip().splitlines())


def failing_stage(
    namespace: str,
    app: str,
    container_status: str,
    *,
    phase: str = "Running",
    event: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A Stage that gives the ``app`` pods of ``namespace`` ``container_status`` (YAML)."""
    spec: dict[str, Any] = {
        "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
        "weight": 100,
        "selector": {
            "matchExpressions": [
                {"key": ".metadata.namespace", "operator": "In", "values": [namespace]},
                {"key": ".metadata.labels.name", "operator": "In", "values": [app]},
                {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
            ]
        },
        "next": {
            "statusTemplate": _TEMPLATE.format(phase=phase, container=_indent(container_status, 2))
        },
    }
    if event:
        spec["next"]["event"] = event
    return {
        "apiVersion": API_VERSION,
        "kind": "Stage",
        "metadata": {"name": f"fail-{app}-{namespace}-{uuid.uuid4().hex[:4]}"},
        "spec": spec,
    }


CRASH_LOOP = """\
restartCount: 5
state:
  waiting:
    reason: CrashLoopBackOff
    message: back-off 5m0s restarting failed container
lastState:
  terminated:
    exitCode: {exit_code}
    reason: {reason}
"""
IMAGE_PULL = """\
restartCount: 0
state:
  waiting:
    reason: ImagePullBackOff
    message: 'Back-off pulling image: rpc error: code = NotFound desc = failed to pull and
      unpack image: not found'
"""
CONFIG_ERROR = """\
restartCount: 0
state:
  waiting:
    reason: CreateContainerConfigError
    message: couldn't find key database-password in Secret {namespace}/mongodb-users-secret
"""
RUNNING = """\
restartCount: 0
state:
  running:
    startedAt: {{ $now | Quote }}
"""


def _cri(lines: list[str]) -> str:
    """Lines in the CRI log format the kubelet (and KWOK) read."""
    return "".join(
        f"2026-11-26T12:00:{i:02d}.000000000Z stderr F {line}\n" for i, line in enumerate(lines)
    )


def pod_logs(
    directory: Path, namespace: str, pod: str, container: str, previous: list[str]
) -> dict[str, Any]:
    """A Logs object serving ``previous`` as the log of the container's previous instance."""
    directory.mkdir(parents=True, exist_ok=True)
    current = directory / f"{pod}-{container}.log"
    before = directory / f"{pod}-{container}-previous.log"
    current.write_text(_cri(["waiting to restart"]))
    before.write_text(_cri(previous))
    return {
        "apiVersion": API_VERSION,
        "kind": "Logs",
        "metadata": {"name": pod, "namespace": namespace},
        "spec": {
            "logs": [
                {
                    "containers": [container],
                    "logsFile": str(current),
                    "previousLogsFile": str(before),
                }
            ]
        },
    }


def every_container_logs(
    directory: Path, namespace: str, current: list[str], previous: list[str]
) -> tuple[dict[str, Any], Path]:
    """A ClusterLogs serving ``current`` (and ``previous``) as the log of every container
    of every pod in ``namespace``; and the current log's file, to append lines to."""
    directory.mkdir(parents=True, exist_ok=True)
    now, before = directory / "current.log", directory / "previous.log"
    now.write_text(_cri(current))
    before.write_text(_cri(previous))
    logs = {
        "apiVersion": API_VERSION,
        "kind": "ClusterLogs",
        "metadata": {"name": f"logs-{namespace}"},
        "spec": {
            "selector": {"matchNamespaces": [namespace]},
            "logs": [{"logsFile": str(now), "previousLogsFile": str(before)}],
        },
    }
    return logs, now


def append_log(path: Path, line: str) -> None:
    """One more line in a log a ClusterLogs serves, as a running container would write it."""
    with path.open("a") as log:
        log.write(_cri([line]).replace("12:00:00", "12:59:59"))


_READY = """\
{{ $now := Now }}
phase: Running
conditions:
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Ready
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: ContainersReady
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: "%s"
  ready: true
  started: true
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
"""


def ready_stage(namespace: str, app: str, image_id: str) -> dict[str, Any]:
    """A Stage that makes the ``app`` pods of ``namespace`` Ready and report ``image_id``
    for each container, as a kubelet reports the digest it pulled (KWOK's default stage
    reports none)."""
    stage = failing_stage(namespace, app, "ready: true")
    stage["metadata"]["name"] = f"ready-{app}-{namespace}-{uuid.uuid4().hex[:4]}"
    stage["spec"]["next"] = {"statusTemplate": _READY % image_id}
    return stage
