"""pacdeploy's runs of the parity suite, started by fork from one process that has already
imported the official client (0.4 s of CPU per start otherwise: 180 starts would not fit
the suite's budget on two cores).

Each run is still a process of its own, as from a shell: its own environment (os.environ
replaced whole), working directory, stdin /dev/null, stdout and stderr to files, and the
module run as ``python -m`` runs it. Only imports are shared, and nothing pacdeploy imports
ahead reads the environment at import time but the retry budget, which the suite sets to 0
for every run anyway.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRELOAD = ("kubernetes.client", "websocket", "pacdeploy.kube.client", "pacdeploy.kube.podexec")


def _child(request: dict) -> None:
    folder = Path(request["folder"])
    (folder / "pid").write_text(str(os.getpid()))
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    for fd, name, flags in (
        (0, os.devnull, os.O_RDONLY),
        (1, folder / "out", os.O_WRONLY | os.O_CREAT),
        (2, folder / "err", os.O_WRONLY | os.O_CREAT),
    ):
        os.dup2(os.open(name, flags, 0o600), fd)
    import runpy

    sys.argv = [request["module"], *request["args"]]
    code: object = 0
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # a traceback, as python -m would print it
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    number = code if isinstance(code, int) else (0 if code is None else 1)
    (folder / "rc.tmp").write_text(str(number))
    os.replace(folder / "rc.tmp", folder / "rc")
    os._exit(number)


def serve() -> None:
    """Read one JSON request a line; fork a run for each."""
    import importlib

    for module in PRELOAD:
        importlib.import_module(module)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children reap themselves
    for line in sys.stdin:
        if os.fork() == 0:
            _child(json.loads(line))


class Forkserver:
    def __init__(self, env: dict[str, str]) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-c", "from tests.parity.forkserver import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
            env={**env, "PYTHONPATH": str(ROOT)},
            text=True,
        )
        self._lock = threading.Lock()

    def run(
        self,
        module: str,
        args: list[str],
        *,
        env: dict[str, str],
        cwd: Path,
        folder: Path,
        timeout: float,
    ) -> subprocess.CompletedProcess[str]:
        folder.mkdir(parents=True)
        request = {
            "module": module,
            "args": args,
            "env": env,
            "cwd": str(cwd),
            "folder": str(folder),
        }
        with self._lock:
            assert self._process.stdin is not None
            self._process.stdin.write(json.dumps(request) + "\n")
            self._process.stdin.flush()
        deadline = time.monotonic() + timeout
        while not (folder / "rc").exists():
            if time.monotonic() > deadline:
                if (folder / "pid").exists():
                    os.kill(int((folder / "pid").read_text()), signal.SIGKILL)
                return subprocess.CompletedProcess(args, -9, "", "timed out")
            time.sleep(0.01)
        out, err = ((folder / name).read_text(errors="replace") for name in ("out", "err"))
        return subprocess.CompletedProcess(args, int((folder / "rc").read_text()), out, err)

    def close(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)
