"""What client-go refuses in the cluster and user a context names, before any request.

Two places in client-go, both here:

- ``tools/clientcmd/validation.go`` (``ConfirmUsable``: ``validateClusterInfo``,
  ``validateAuthInfo``), run on every command, whatever the server's scheme;
- ``transport/round_trippers.go`` ``HTTPWrappersForConfig`` and ``transport/transport.go``
  ``TLSConfigFor``, run only on what ``DirectClientConfig.ClientConfig`` kept, which for a
  server without TLS is no credential and no CA at all (:func:`transport_problems`).

Each problem is one line naming the file and the key; the first one found is raised.
"""

from __future__ import annotations

import os.path
from pathlib import Path
from typing import Any

from pacdeploy.kube.decode import KubeconfigError

EXEC_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")


def _unreadable(path: str) -> str | None:
    """Why ``os.Open`` would fail on ``path``, as validation.go tries it."""
    try:
        with open(path, "rb"):
            return None
    except OSError as exc:
        return exc.strerror or str(exc)


def cluster_problems(cluster: dict[str, Any], where: str) -> list[str]:
    """``validateClusterInfo``; ``proxy-url`` is checked by proxy.parse when it is used."""
    problems = []
    if not cluster.get("server"):
        problems.append(f"{where} has no server")
    ca_file = cluster.get("certificate-authority")
    if ca_file and cluster.get("certificate-authority-data"):
        problems.append(f"{where} sets both certificate-authority and certificate-authority-data")
    if ca_file and (why := _unreadable(ca_file)):
        problems.append(f"{where}.certificate-authority {ca_file} cannot be read: {why}")
    return problems


def _client_certificate_problems(user: dict[str, Any], where: str) -> list[str]:
    cert, cert_data = user.get("client-certificate"), user.get("client-certificate-data")
    key, key_data = user.get("client-key"), user.get("client-key-data")
    if not (cert or cert_data):
        return []
    problems = []
    if cert and cert_data:
        problems.append(f"{where} sets both client-certificate and client-certificate-data")
    if key and key_data:
        problems.append(f"{where} sets both client-key and client-key-data")
    if not (key or key_data):
        problems.append(f"{where} has a client certificate but no client-key(-data)")
    for name, path in (("client-certificate", cert), ("client-key", key)):
        if path and (why := _unreadable(path)):
            problems.append(f"{where}.{name} {path} cannot be read: {why}")
    return problems


def _exec_problems(user: dict[str, Any], where: str) -> list[str]:
    spec = user.get("exec")
    if spec is None:
        return []
    problems = []
    if user.get("auth-provider") is not None:
        problems.append(f"{where} has both an exec plugin and an auth-provider")
    if not spec.get("command"):
        problems.append(f"{where}.exec has no command")
    if not spec.get("apiVersion"):
        problems.append(f"{where}.exec has no apiVersion")
    if any(not (item or {}).get("name") for item in spec.get("env") or []):
        problems.append(f"{where}.exec.env has an entry without a name")
    mode = spec.get("interactiveMode") or ""
    if mode not in INTERACTIVE_MODES:
        problems.append(
            f"{where}.exec.interactiveMode {mode!r} is not one of {', '.join(INTERACTIVE_MODES)}"
        )
    return problems


def user_problems(user: dict[str, Any], where: str) -> list[str]:
    """``validateAuthInfo``."""
    methods = [
        name
        for name, used in (
            ("token", user.get("token")),
            ("basic auth", user.get("username") or user.get("password")),
        )
        if used
    ]
    problems = _client_certificate_problems(user, where) + _exec_problems(user, where)
    if len(methods) > 1:
        problems.append(f"{where} has more than one authentication method ({', '.join(methods)})")
    if (user.get("as-uid") or user.get("as-groups") or user.get("as-user-extra")) and not user.get(
        "as"
    ):
        problems.append(f"{where} asks for as-uid, as-groups or as-user-extra without as")
    return problems


def transport_problems(
    credentials: dict[str, Any], *, insecure: bool, has_ca: bool, where: str
) -> list[str]:
    """``HTTPWrappersForConfig`` and ``TLSConfigFor``, on the credentials kept for TLS."""
    problems = []
    if credentials.get("username") and (credentials.get("token") or credentials.get("tokenFile")):
        problems.append(f"{where} has username/password and a bearer token: only one may be set")
    if insecure and has_ca:
        problems.append(f"{where} sets both a certificate authority and insecure-skip-tls-verify")
    exec_spec = credentials.get("exec")
    if exec_spec and exec_spec.get("apiVersion") not in EXEC_VERSIONS:
        problems.append(
            f"{where}.exec.apiVersion {exec_spec.get('apiVersion')!r} is not one kubectl supports"
        )
    return problems


def raise_first(problems: list[str], hint: str = "Fix the kubeconfig, as kubectl requires") -> None:
    if problems:
        raise KubeconfigError(problems[0], hint)


def resolved(value: str | None, origin: Path) -> str | None:
    """A path of the file ``origin`` as client-go's ``ResolvePaths`` makes it: absolute
    paths as written, relative ones joined to the file's folder and cleaned lexically
    (``filepath.Join``: ``a/link/..`` is ``a``, whatever ``link`` points to). No ``~``."""
    if not value:
        return None
    if value.startswith("/"):
        return value
    return os.path.normpath(os.path.join(os.path.abspath(origin.parent), value))
