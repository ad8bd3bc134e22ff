"""pods/exec on the in-memory API server (tests/support/memory.py): the websocket
`Wire.upgrade` returns, speaking the channel.k8s.io framing kube/podexec.py reads (each
message's first byte its stream: 1 stdout, 2 stderr, 3 the outcome as a Status), and the
one program pacdeploy runs there on the paths tested: mongo's shell (`mongo`, `mongosh`)
given a script by consistency.py, answered as the sandbox's stand-in
(pacdeploy/sandbox/mongo_shell.sh) and mongod do. mongod's fsync lock count is kept per
pod (MongoDB 4.4 manual, fsyncUnlock: each lock adds one, each unlock takes one, an unlock
at zero fails "fsyncUnlock called when not locked") and goes with the pod: a new pod's
mongod holds no lock. And the database tools, `mongodump` and `mongorestore`, fed stdin
(memory_tools.py): their answer comes once they have read what they need of it."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pacdeploy.kube.podexec import CLOSE, STATUS, STDERR, STDIN, STDOUT
from tests.support import memory_tools

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


# (stdin so far, whether it is closed) -> the command's frames, or None while it reads on
Program = Callable[[bytes, bool], list[bytes] | None]


class ExecSocket:
    """The websocket of one exec: its frames once the command has answered (at once, or
    when its ``program`` has read what it needs of stdin), then the close."""

    def __init__(self, frames: list[bytes], program: Program | None = None) -> None:
        self.frames = deque(frames)
        self.program = program
        self.stdin = bytearray()
        self.closed = False
        self.timeout: float | None = None
        self.answered = threading.Condition()

    def settimeout(self, seconds: float | None) -> None:
        self.timeout = seconds

    def recv_data(self) -> tuple[int, bytes]:
        from websocket import ABNF, WebSocketTimeoutException

        with self.answered:
            if not self.answered.wait_for(lambda: self.program is None, self.timeout):
                raise WebSocketTimeoutException("timed out")
            if not self.frames:
                return ABNF.OPCODE_CLOSE, b""
            return ABNF.OPCODE_BINARY, self.frames.popleft()

    def send_binary(self, data: bytes) -> None:
        """stdin (channel 0) or its close (channel 255, then 0), for the program."""
        with self.answered:
            if self.program is None:
                return  # it has answered: what comes is not read
            if data[0] == STDIN:
                self.stdin += data[1:]
            elif data == bytes([CLOSE, STDIN]):
                self.closed = True
            if (frames := self.program(bytes(self.stdin), self.closed)) is not None:
                self.frames.extend(frames)
                self.program = None
                self.answered.notify_all()

    def shutdown(self) -> None:
        with self.answered:
            self.frames.clear()
            self.program = None
            self.answered.notify_all()


def run(memory: Memory, namespace: str, pod: str, query: dict[str, Any]) -> ExecSocket:
    """The exec of ``query["command"]`` in ``pod``, called holding ``memory.changed``;
    a pod that is not there refuses the upgrade as the API server does (404)."""
    from websocket import WebSocketBadStatusException

    found = memory.objects.get(("Pod", namespace, pod))
    if found is None:
        raise WebSocketBadStatusException("Handshake status 404 Not Found", 404, "Not Found")
    command = list(query["command"])
    if command[0] in memory_tools.TOOLS and query.get("stdin") == "true":
        return ExecSocket([], _tool(memory, (namespace, pod), command))
    if command[0] not in SHELLS or "--eval" not in command:
        said = f'exec: "{command[0]}": executable file not found in $PATH'
        return ExecSocket([bytes([STATUS]) + json.dumps(_status(127, said)).encode()])
    script = command[command.index("--eval") + 1]
    code, stdout = mongo_shell(memory.locks, (namespace, pod), script)
    frames = [bytes([STDOUT]) + stdout.encode() + b"\n"]
    frames.append(bytes([STATUS]) + json.dumps(_status(code)).encode())
    return ExecSocket(frames)


def _tool(memory: Memory, where: tuple[str, str], command: list[str]) -> Program:
    def program(stdin: bytes, closed: bool) -> list[bytes] | None:
        if not memory_tools.answers(command[0], stdin, closed):
            return None
        code, stdout, stderr = memory_tools.run(memory, where, command, stdin)
        frames = [bytes([STDOUT]) + stdout] if stdout else []
        frames.append(bytes([STDERR]) + stderr.encode())
        return [*frames, bytes([STATUS]) + json.dumps(_status(code)).encode()]

    return program
