"""Exec credential plugins (EKS ``aws eks get-token``, GKE ``gke-gcloud-auth-plugin``, AKS
``kubelogin``), run as client-go runs them (``plugin/pkg/client/auth/exec/exec.go``):

- the plugin gets the environment, the kubeconfig's ``env`` and KUBERNETES_EXEC_INFO (an
  ExecCredential naming ``spec.interactive``, and the cluster with ``provideClusterInfo``);
- its stdout is the credential, its stderr is the user's terminal, and its stdin too when it
  runs interactively (``isInteractive``: Never, IfAvailable, Always, judged on stdin alone);
- the credential is kept until its ``expirationTimestamp`` (for ever without one);
- after a 401 the plugin runs again, unless another request already rotated the credential
  (``maybeRefreshCreds``);
- a plugin that cannot run or fails means no request at all ("getting credentials: ...").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pacdeploy.kube.kubeconfig import ExecSpec, KubeconfigError


class CredentialError(KubeconfigError):
    """The user's credential plugin gave no credential (exit 3, like kubectl's own error)."""


@dataclass(frozen=True)
class ExecCredential:
    token: str | None = None
    cert_pem: bytes | None = None
    key_pem: bytes | None = None
    expires: float | None = None  # seconds since the epoch; None: until rejected

    def expired(self, now: float) -> bool:
        return self.expires is not None and now >= self.expires


def interactive(mode: str, stdin_is_terminal: bool) -> bool:
    """Whether the plugin gets the user's stdin (exec.go ``isInteractive``)."""
    if mode == "Never":
        return False
    if mode == "IfAvailable":
        return stdin_is_terminal
    if not stdin_is_terminal:
        raise CredentialError(
            "exec plugin cannot support interactive mode: standard input is not a terminal",
            "Run the command from a terminal, or log in first so the plugin need not ask",
        )
    return True


def _timestamp(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def parse(stdout: bytes, api_version: str) -> ExecCredential:
    """The plugin's ExecCredential, checked as ``refreshCredsLocked`` checks it."""
    try:
        document = json.loads(stdout)
    except ValueError as exc:
        raise CredentialError(
            f"decoding stdout: {exc}", "Run the plugin to see what it prints"
        ) from exc
    if not isinstance(document, dict) or document.get("kind") != "ExecCredential":
        raise CredentialError("decoding stdout: not an ExecCredential", "Check the plugin")
    if document.get("apiVersion") != api_version:
        raise CredentialError(
            f"exec plugin is configured to use API version {api_version}, plugin returned "
            f"version {document.get('apiVersion')}",
            "Set the kubeconfig's exec apiVersion to what the plugin speaks",
        )
    status = document.get("status")
    if not isinstance(status, dict):
        raise CredentialError("exec plugin didn't return a status field", "Check the plugin")
    token, cert, key = (
        status.get("token"),
        status.get("clientCertificateData"),
        status.get("clientKeyData"),
    )
    if not (token or cert or key):
        raise CredentialError("exec plugin didn't return a token or cert/key pair", "Check it")
    if bool(cert) != bool(key):
        raise CredentialError("exec plugin returned only certificate or key, not both", "Check it")
    expires = status.get("expirationTimestamp")
    try:
        when = _timestamp(str(expires)) if expires else None
    except ValueError as exc:
        raise CredentialError(f"bad expirationTimestamp {expires!r}", "Check the plugin") from exc
    return ExecCredential(
        token=token or None,
        cert_pem=str(cert).encode() if cert else None,
        key_pem=str(key).encode() if key else None,
        expires=when,
    )


def exec_info(spec: ExecSpec, cluster: dict[str, Any], is_interactive: bool) -> str:
    """KUBERNETES_EXEC_INFO: what the plugin is told about this call (``cluster``:
    credentials.cluster_info, given with provideClusterInfo only)."""
    request: dict[str, Any] = {"interactive": is_interactive}
    if spec.provide_cluster_info:
        request["cluster"] = cluster
    return json.dumps({"apiVersion": spec.api_version, "kind": "ExecCredential", "spec": request})


def clean_ansi(text: str) -> str:
    """The install hint as kubectl prints it (client_config.go ``cleanANSIEscapeCodes``):
    letters, marks, numbers, punctuation, symbols, spaces and tab to CR kept, any other
    character (ESC first) written as its code point, ``U+001B``."""
    return "".join(
        c if unicodedata.category(c)[0] in "LMNPSZ" or "\t" <= c <= "\r" else f"U+{ord(c):04X}"
        for c in text
    )


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(sys.stdin.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class ExecPlugin:
    """One user's plugin, its cached credential, and the rule for running it again."""

    def __init__(
        self,
        spec: ExecSpec,
        cluster: dict[str, Any],
        *,
        clock: Callable[[], float] = time.time,
        stdin_is_terminal: Callable[[], bool] = _stdin_is_terminal,
    ) -> None:
        self.spec = spec
        self.cluster = cluster
        self.clock = clock
        self.stdin_is_terminal = stdin_is_terminal
        self.runs = 0
        self._cached: ExecCredential | None = None
        self._lock = threading.Lock()

    def credential(self) -> ExecCredential:
        with self._lock:
            if self._cached is None or self._cached.expired(self.clock()):
                self._cached = self._run()
            return self._cached

    def refresh(self, rejected: ExecCredential) -> ExecCredential:
        """After a 401 with ``rejected``: run again, unless it was rotated meanwhile."""
        with self._lock:
            if self._cached is rejected or self._cached is None:
                self._cached = self._run()
            return self._cached

    def _run(self) -> ExecCredential:
        spec = self.spec
        is_interactive = interactive(spec.interactive_mode, self.stdin_is_terminal())
        env = {**os.environ, **dict(spec.env)}
        env["KUBERNETES_EXEC_INFO"] = exec_info(spec, self.cluster, is_interactive)
        self.runs += 1
        try:
            done = subprocess.run(
                [spec.command, *spec.args],
                env=env,
                stdin=None if is_interactive else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=None,  # the plugin speaks to the user, as under kubectl
                check=False,
            )
        except (FileNotFoundError, PermissionError) as exc:
            hint = clean_ansi(spec.install_hint).strip() or "Install it, or fix the command"
            raise CredentialError(
                f"getting credentials: exec: executable {spec.command} not found"
                if isinstance(exc, FileNotFoundError)
                else f"getting credentials: exec: {spec.command}: permission denied",
                hint.splitlines()[0],
            ) from exc
        if done.returncode != 0:
            raise CredentialError(
                f"getting credentials: exec: executable {spec.command} failed with exit code "
                f"{done.returncode}",
                "Run it yourself to see why (an expired login: log in again)",
            )
        return parse(done.stdout, spec.api_version)
