"""pods/exec on the in-memory API server (tests/support/memory.py): the websocket
`Wire.upgrade` returns, speaking the channel.k8s.io framing kube/podexec.py reads (each
message's first byte its stream: 1 stdout, 2 stderr, 3 the outcome as a Status), and the
one program pacdeploy runs there on the paths tested: mongo's shell (`mongo`, `mongosh`)
given a script by consistency.py, answered as the sandbox's stand-in
(pacdeploy/sandbox/mongo_shell.sh) and mongod do. mongod's fsync lock count is kept per
pod (MongoDB 4.4 manual, fsyncUnlock: each lock adds one, each unlock takes one, an unlock
at zero fails "fsyncUnlock called when not locked") and goes with the pod: a new pod's
mongod holds no lock."""

from __future__ import annotations

import json
from collections import deque
from typing import TYPE_CHECKING, Any

from pacdeploy.kube.podexec import STATUS, STDOUT

if TYPE_CHECKING:
    from tests.support.memory import Memory

SHELLS = ("mongo", "mongosh")
NOT_LOCKED = "fsyncUnlock called when not locked"


def _status(code: int, message: str = "") -> dict[str, Any]:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    causes = [{"reason": "ExitCode", "message": str(code)}]
    reason = "NonZeroExitCode"
    said = message or f"command terminated with non-zero exit code: exit status {code}"
    return {"status": "Failure", "reason": reason, "message": said, "details": {"causes": causes}}


def mongo_shell(
    locks: dict[tuple[str, str], int], where: tuple[str, str], script: str
) -> tuple[int, str]:
    """(exit code, stdout) of the shell running ``script`` in the pod ``where``."""
    count = locks.get(where, 0)
    if "fsyncUnlock" in script:
        if count == 0:
            answer = json.dumps({"ok": 0, "errmsg": NOT_LOCKED})
            return (0 if "not locked" in script else 2), answer
        count -= 1
    elif "lock: true" in script:
        count += 1
    locks[where] = count
    return 0, json.dumps({"ok": 1, "lockCount": count})


class ExecSocket:
    """The websocket of one exec: its frames, already answered, then the close."""

    def __init__(self, frames: list[bytes]) -> None:
        self.frames = deque(frames)

    def settimeout(self, _seconds: float | None) -> None:
        pass

    def recv_data(self) -> tuple[int, bytes]:
        from websocket import ABNF

        if not self.frames:
            return ABNF.OPCODE_CLOSE, b""
        return ABNF.OPCODE_BINARY, self.frames.popleft()

    def send_binary(self, _data: bytes) -> None:
        pass

    def shutdown(self) -> None:
        self.frames.clear()


def run(memory: Memory, namespace: str, pod: str, query: dict[str, Any]) -> ExecSocket:
    """The exec of ``query["command"]`` in ``pod``, called holding ``memory.changed``;
    a pod that is not there refuses the upgrade as the API server does (404)."""
    from websocket import WebSocketBadStatusException

    found = memory.objects.get(("Pod", namespace, pod))
    if found is None:
        raise WebSocketBadStatusException("Handshake status 404 Not Found", 404, "Not Found")
    command = list(query["command"])
    if command[0] not in SHELLS or "--eval" not in command:
        said = f'exec: "{command[0]}": executable file not found in $PATH'
        return ExecSocket([bytes([STATUS]) + json.dumps(_status(127, said)).encode()])
    script = command[command.index("--eval") + 1]
    code, stdout = mongo_shell(memory.locks, (namespace, pod), script)
    frames = [bytes([STDOUT]) + stdout.encode() + b"\n"]
    frames.append(bytes([STATUS]) + json.dumps(_status(code)).encode())
    return ExecSocket(frames)
