"""Running a command in a container through the API server (pods/exec), as `kubectl exec`
does: a websocket in the channel.k8s.io framing (each message's first byte its stream:
0 stdin, 1 stdout, 2 stderr, 3 the command's outcome as a JSON Status, 4 the terminal's
size). ``run`` collects a command's output; ``attach`` joins it to a local terminal.

``stream`` feeds stdin and hands stdout on as it comes (an archive larger than memory): it
speaks v5.channel.k8s.io, whose channel 255 closes stdin so the command sees end of file
(KEP-4006; v4 has no way to say it).
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pacdeploy.errors import NotReady, PacdeployError
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import resource

PROTOCOL = "v4.channel.k8s.io"
STREAMING = "v5.channel.k8s.io"
STDIN, STDOUT, STDERR, STATUS, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
FRAME = 64 * 1024  # stdin bytes per websocket message


@dataclass(frozen=True)
class Ran:
    ok: bool
    stdout: str
    stderr: str
    reason: str = ""  # why it failed, in the Status's words (an exit code, a missing binary)
    code: int = 0  # the command's exit code; 1 when it failed without one (did not start)


# Where a runtime says the code only in words: KWOK's "cmd wait: ...: exit status 2".
_EXIT_IN_WORDS = re.compile(r"exit (?:status|code):? (\d+)$")


def exit_code(status: dict[str, Any] | None) -> int:
    """The exit code a Status reports: 0 on success, its ExitCode cause (the kubelet's
    NonZeroExitCode) or the code its message ends with, else 1."""
    if status is None or status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode" and str(cause.get("message", "")).isdigit():
            return int(cause["message"])
    said = _EXIT_IN_WORDS.search(str(status.get("message") or ""))
    return int(said.group(1)) if said else 1


def outcome(status: dict[str, Any] | None, stdout: str, stderr: str) -> Ran:
    """The run as the API server reports it: its Status on the error channel."""
    code = exit_code(status)
    if status is None or code == 0:
        return Ran(True, stdout, stderr)
    reason = str(status.get("message") or status.get("reason") or "")
    return Ran(False, stdout, stderr, reason, code)


@dataclass(frozen=True)
class Where:
    """Where a command runs: a container of a pod."""

    pod: str
    namespace: str
    container: str


def run(cluster: Cluster, where: Where, command: list[str], *, timeout: float) -> Ran:
    """``command`` in the container ``where``; NotReady if it does not end in ``timeout``."""
    out: list[bytes] = []
    ran = _session(cluster, where, command, stdin=None, stdout=out.append, timeout=timeout)
    return dataclasses.replace(ran, stdout=b"".join(out).decode(errors="replace"))


def stream(
    cluster: Cluster,
    where: Where,
    command: list[str],
    *,
    stdin: Iterable[bytes],
    stdout: Callable[[bytes], object],
    idle: float,
) -> Ran:
    """``command`` fed ``stdin`` (then end of file), its stdout handed to ``stdout`` as it
    comes; NotReady if it is silent for ``idle`` seconds. The Ran's stdout is empty."""
    return _session(cluster, where, command, stdin=stdin, stdout=stdout, timeout=idle)


def _session(
    cluster: Cluster,
    where: Where,
    command: list[str],
    *,
    stdin: Iterable[bytes] | None,
    stdout: Callable[[bytes], object],
    timeout: float,
) -> Ran:
    from websocket import ABNF, WebSocketException, WebSocketTimeoutException

    pod, namespace, container = where.pod, where.namespace, where.container
    path = resource("Pod").path(pod, namespace, "exec")
    query = {"container": container, "command": command, "stdout": "true", "stderr": "true"}
    if stdin is not None:
        query["stdin"] = "true"
    try:
        ws = cluster.open_websocket(path, query, PROTOCOL if stdin is None else STREAMING)
    except (WebSocketException, OSError) as exc:
        raise PacdeployError(f"cannot exec into pod {pod}: {exc}") from exc
    errors: list[bytes] = []
    status: list[bytes] = []
    sinks = {STDOUT: stdout, STDERR: errors.append, STATUS: status.append}
    writer = _feed(ws, stdin) if stdin is not None else None
    try:
        ws.settimeout(timeout)
        while True:
            opcode, data = ws.recv_data()
            if opcode == ABNF.OPCODE_CLOSE or not data:
                break
            if (sink := sinks.get(data[0])) is not None and len(data) > 1:
                sink(bytes(data[1:]))
    except WebSocketTimeoutException as exc:
        raise NotReady(f"`{command[0]}` in pod {pod} did not finish in {timeout:.0f}s") from exc
    except (WebSocketException, OSError):
        pass  # the server closes the stream once the command is over
    finally:
        ws.shutdown()
        if writer is not None:
            writer.join()
    raw = b"".join(status).decode(errors="replace").strip()
    said = b"".join(errors).decode(errors="replace")
    if stdin is not None and not raw:  # v5 always sends the outcome: the stream was cut
        return Ran(False, "", said, "the exec stream closed before the command's outcome", 1)
    return outcome(json.loads(raw) if raw else None, "", said)


def _feed(ws: Any, stdin: Iterable[bytes]) -> threading.Thread:
    """Send ``stdin`` in frames, then close it; a command that ended early stops the feed
    (the reader reports how it ended)."""
    from websocket import WebSocketException

    def send() -> None:
        try:
            for chunk in stdin:
                for at in range(0, len(chunk), FRAME):
                    ws.send_binary(bytes([STDIN]) + chunk[at : at + FRAME])
            ws.send_binary(bytes([CLOSE, STDIN]))
        except (WebSocketException, OSError):
            pass

    writer = threading.Thread(target=send, name="exec-stdin", daemon=True)
    writer.start()
    return writer


@dataclass(frozen=True)
class Terminal:
    """The local end of an attached command: where its input comes from and its output
    goes, and the terminal's size (columns, rows) now and whenever ``on_resize`` calls back."""

    input_fd: int
    write: Callable[[bytes], None]
    size: Callable[[], tuple[int, int]]
    on_resize: Callable[[Callable[[], None]], None]


def attach(
    cluster: Cluster,
    pod: str,
    namespace: str,
    *,
    container: str,
    command: list[str],
    term: Terminal,
) -> int:
    """``command`` in ``container`` with a terminal (`kubectl exec -it`): keys go in as
    typed, output comes back, the size follows the local one. Returns its exit code."""
    from websocket import ABNF, WebSocketException

    path = resource("Pod").path(pod, namespace, "exec")
    query = {"container": container, "command": command, "stdin": "true", "stdout": "true"}
    try:
        ws = cluster.open_websocket(path, {**query, "tty": "true"}, PROTOCOL)
    except (WebSocketException, OSError) as exc:
        raise PacdeployError(f"cannot exec into pod {pod}: {exc}") from exc

    def send(channel: int, data: bytes) -> None:
        ws.send(bytes([channel]) + data, ABNF.OPCODE_BINARY)

    def resize() -> None:
        columns, rows = term.size()
        send(RESIZE, json.dumps({"Width": columns, "Height": rows}).encode())

    def keys() -> None:
        while data := os.read(term.input_fd, 4096):
            send(STDIN, data)

    status: list[bytes] = []
    try:
        resize()
        term.on_resize(resize)
        threading.Thread(target=keys, daemon=True, name="exec-stdin").start()
        while True:
            opcode, data = ws.recv_data()
            if opcode == ABNF.OPCODE_CLOSE or not data:
                break
            if data[0] in (STDOUT, STDERR):
                term.write(bytes(data[1:]))
            elif data[0] == STATUS:
                status.append(bytes(data[1:]))
    except (WebSocketException, OSError):
        pass  # the server closes the stream once the command is over
    finally:
        ws.shutdown()
    raw = b"".join(status).decode(errors="replace").strip()
    return exit_code(json.loads(raw) if raw else None)
