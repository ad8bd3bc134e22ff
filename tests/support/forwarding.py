"""A `pacdeploy forward` a test started: its port, its output, HTTP through it."""

from __future__ import annotations

import http.client
import re
import subprocess
import threading


class Forward:
    """A running `pacdeploy forward 0`: its port, its output lines, plain HTTP through it."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.proc = proc
        first = self.proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", first)
        assert match, first + self.proc.stderr.read()
        self.port = int(match.group(1))
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def get(self, path="/", timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def serving(self) -> list[str]:
        """The pods its status line last said it serves from."""
        for line in reversed(self.lines):
            if line.startswith("serving from "):
                return line.removeprefix("serving from ").split(", ")
        return []

    def stop(self):
        self.proc.send_signal(2)  # Ctrl-C
        code = self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        return code, "\n".join(self.lines), self.proc.stderr.read()
