"""The one way tests and benches run the real `pacdeploy` command, as a user would, and a
fresh interpreter for what a module loads."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pacdeploy.kube import contexts


def fresh_python(code: str) -> str:
    """``code`` run by a new interpreter, with nothing imported yet (what a module pulls in
    at import is only seen there); its stdout, stripped. A failure raises."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


def command(*args: str, installed: bool = False) -> list[str]:
    """``python -m pacdeploy``; or (``installed``) the console script pip put beside this
    interpreter, as a user types it, without runpy's few milliseconds of start."""
    if installed:
        return [str(Path(sys.executable).with_name("pacdeploy")), *args]
    return [sys.executable, "-m", "pacdeploy", *args]


def run(
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    input: str | None = None,
    installed: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run to completion; stdout and stderr captured as text, the exit code not checked."""
    return subprocess.run(
        command(*args, installed=installed),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input,
        check=False,
    )


def run_on_terminal(
    *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> tuple[int, str]:
    """Run with stdin, stdout and stderr on a pseudo-terminal, as in an interactive shell
    (Rich output, live displays); returns the exit code and everything written."""
    import os
    import pty

    leader, follower = pty.openpty()
    process = subprocess.Popen(
        command(*args), env=env, stdin=follower, stdout=follower, stderr=follower
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # EIO: the command exited and closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    return process.wait(timeout=timeout), b"".join(chunks).decode(errors="replace")


ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def without_ansi(text: str) -> str:
    """What a terminal shows as text: ``text`` without its colour and cursor sequences."""
    return ANSI.sub("", text)


def _ctrl_c_reaches_it() -> None:
    # A shell starts background jobs with SIGINT ignored, and the child would inherit
    # that: the suite, when run so, could not press Ctrl-C in the commands it starts.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(
    *args: str, env: Mapping[str, str] | None = None, merge_stderr: bool = False
) -> subprocess.Popen[str]:
    """Start in the background (forward, or a command to interrupt), output piped as text."""
    return subprocess.Popen(
        command(*args),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_reaches_it,  # noqa: PLW1509 - only resets one signal
    )


def write_kubeconfig(path: Path, name: str, cluster: dict, user: dict) -> Path:
    """A kubeconfig with one context ``name``, written as pacdeploy writes its own."""
    contexts.write(path, contexts.with_context(None, name, cluster, user=user))
    return path
