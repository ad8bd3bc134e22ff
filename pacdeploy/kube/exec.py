"""Running a command in a container through the API server (pods/exec), as `kubectl exec`
does without a terminal: a websocket in the channel.k8s.io framing (each message's first
byte its stream: 1 stdout, 2 stderr, 3 the command's outcome as a JSON Status).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pacdeploy.errors import NotReady, PacdeployError
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import resource

PROTOCOL = "v4.channel.k8s.io"
STDOUT, STDERR, STATUS = 1, 2, 3


@dataclass(frozen=True)
class Ran:
    ok: bool
    stdout: str
    stderr: str
    reason: str = ""  # why it failed, in the Status's words (an exit code, a missing binary)


def outcome(status: dict[str, object] | None, stdout: str, stderr: str) -> Ran:
    """The run as the API server reports it: its Status on the error channel."""
    if status is None or status.get("status") == "Success":
        return Ran(True, stdout, stderr)
    return Ran(False, stdout, stderr, str(status.get("message") or status.get("reason") or ""))


def run(
    cluster: Cluster,
    pod: str,
    namespace: str,
    container: str,
    command: list[str],
    timeout: float,
) -> Ran:
    """``command`` in ``container`` of ``pod``; NotReady if it does not end in ``timeout``."""
    from websocket import ABNF, WebSocketException, WebSocketTimeoutException

    path = resource("Pod").path(pod, namespace, "exec")
    query = {"container": container, "command": command, "stdout": "true", "stderr": "true"}
    try:
        ws = cluster.open_websocket(path, query, PROTOCOL)
    except (WebSocketException, OSError) as exc:
        raise PacdeployError(f"cannot exec into pod {pod}: {exc}") from exc
    streams: dict[int, list[bytes]] = {STDOUT: [], STDERR: [], STATUS: []}
    try:
        ws.settimeout(timeout)
        while True:
            opcode, data = ws.recv_data()
            if opcode == ABNF.OPCODE_CLOSE or not data:
                break
            if data[0] in streams:
                streams[data[0]].append(bytes(data[1:]))
    except WebSocketTimeoutException as exc:
        raise NotReady(f"`{command[0]}` in pod {pod} did not finish in {timeout:.0f}s") from exc
    except (WebSocketException, OSError):
        pass  # the server closes the stream once the command is over
    finally:
        ws.shutdown()
    raw = b"".join(streams[STATUS]).decode(errors="replace").strip()
    status = json.loads(raw) if raw else None
    return outcome(
        status,
        b"".join(streams[STDOUT]).decode(errors="replace"),
        b"".join(streams[STDERR]).decode(errors="replace"),
    )
