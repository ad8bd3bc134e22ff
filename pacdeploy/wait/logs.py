"""A crashed container's last log line, redacted, read once per restart.

A log is a nice-to-have: it is read with a short retry budget, so a node that cannot serve
it never stalls a wait, and every value of the app's Secret is masked before a line is
shown (a connection string with a password in a stack trace).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

from pacdeploy.app.manifests import SECRET
from pacdeploy.errors import PacdeployError, PermissionDenied
from pacdeploy.kube import logs
from pacdeploy.kube.client import Cluster
from pacdeploy.wait import readiness

LOG_TAIL_LINES = 20
LOG_RETRY_SECONDS = 1.0


class CrashLogs:
    def __init__(self, cluster: Cluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self._reader = cluster.with_retry_budget(LOG_RETRY_SECONDS)
        self._lines: dict[tuple[str, str | None, int], str | None] = {}
        self._secrets: list[str] | None = None

    def last_line(self, problem: readiness.PodProblem) -> str | None:
        key = (problem.pod, problem.container, problem.restarts)
        if key not in self._lines:
            self._lines[key] = self._read(problem)
        return self._lines[key]

    def _read(self, problem: readiness.PodProblem) -> str | None:
        secrets = self._secret_values()
        if secrets is None:
            return "(hidden: the app's Secret could not be read to redact it)"
        # The crashed container's own last words; a first crash has no previous instance.
        for previous in (True, False):
            try:
                text = logs.read(
                    self._reader,
                    problem.pod,
                    self.namespace,
                    container=problem.container,
                    window=logs.Window(tail=LOG_TAIL_LINES, previous=previous),
                )
            except PermissionDenied:
                return "(not readable: no permission to get pods/log)"
            except PacdeployError:  # no such instance, or the node cannot serve logs
                continue
            if line := last_log_line(text, secrets):
                return line
        return None

    def _secret_values(self) -> list[str] | None:
        if self._secrets is None:
            try:
                self._secrets = secret_values(self.cluster, self.namespace)
            except PermissionDenied:
                return None
        return self._secrets


def secret_values(cluster: Cluster, namespace: str) -> list[str]:
    """Every value of the app's Secret, to keep them out of what is printed or written
    (none when it does not exist); PermissionDenied when it cannot be read."""
    secret = cluster.get("Secret", SECRET, namespace)
    data = (secret or {}).get("data") or {}
    return [base64.b64decode(v).decode(errors="replace") for v in data.values()]


_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]+:)[^@\s]+@", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
REDACTED = "***"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` without any of ``secrets`` and without the password of any URL in it."""
    for value in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(value, REDACTED)
    return _URL_PASSWORD.sub(rf"\g<1>{REDACTED}@", text)


def last_log_line(log: str, secrets: Iterable[str]) -> str | None:
    """The last non-blank line of a container log, redacted and safe to print on one line."""
    for line in reversed(log.splitlines()):
        if line.strip():
            return _CONTROL.sub("", redact(line.strip(), secrets))[:300]
    return None
