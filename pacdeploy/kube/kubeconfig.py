"""Kubeconfig files, read as kubectl reads them, and the sandbox's context written into one.

Every rule here is client-go's (k8s.io/client-go v0.36, the version the sandbox builds):

- which files: ``--kubeconfig`` alone, else each entry of KUBECONFIG (missing ones skipped),
  else ~/.kube/config (``tools/clientcmd/loader.go``, ``ClientConfigLoadingRules.Load``);
- merging: the first file to name a cluster, user or context wins that entry whole, and the
  first file that sets current-context wins it (``Load``: maps merged forwards, the rest in
  reverse order);
- relative paths are resolved against the directory of the file that names them, the exec
  command only when it contains a path separator (``GetAuthInfoFileReferences``);
- what a context must name and what a user may combine (``tools/clientcmd/validation.go``).
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pacdeploy import yamlio
from pacdeploy.errors import ClusterUnreachable

EXEC_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")


class KubeconfigError(ClusterUnreachable):
    """A kubeconfig kubectl would refuse too: one line naming the file and the key."""


@dataclass(frozen=True)
class ExecSpec:
    """A user's ``exec`` credential plugin (EKS, GKE, AKS, OIDC helpers)."""

    command: str
    args: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    api_version: str = EXEC_VERSIONS[0]
    interactive_mode: str = "IfAvailable"
    provide_cluster_info: bool = False
    install_hint: str = ""


@dataclass(frozen=True)
class Endpoint:
    """Everything one context says about reaching its cluster and who to be there."""

    context: str
    server: str
    cluster: str = ""
    user: str = ""
    namespace: str | None = None
    ca_file: str | None = None
    ca_data: bytes | None = None
    insecure: bool = False
    tls_server_name: str | None = None
    proxy_url: str | None = None
    cert_file: str | None = None
    cert_data: bytes | None = None
    key_file: str | None = None
    key_data: bytes | None = None
    token: str | None = None
    token_file: str | None = None
    username: str | None = None
    password: str | None = None
    exec: ExecSpec | None = None
    # The kubeconfig's cluster entry, for an exec plugin's KUBERNETES_EXEC_INFO.
    cluster_entry: dict[str, Any] = field(default_factory=dict)
    origin: str = ""  # the file the user entry came from, for messages


@dataclass
class Merged:
    """The kubeconfig files as one: each named entry with the file it came from."""

    files: list[Path]
    clusters: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    users: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    contexts: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    current_context: str = ""

    def where(self) -> str:
        return ", ".join(str(p) for p in self.files)


# -- finding and merging ---------------------------------------------------------------
def paths(explicit: str | None) -> list[Path]:
    """The files kubectl reads: --kubeconfig, else each entry of KUBECONFIG, else ~/.kube/config."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def user_file() -> Path:
    """The file a new context is written to: KUBECONFIG's first entry or ~/.kube/config."""
    return paths(None)[0]


def read_document(path: Path) -> dict[str, Any]:
    """One kubeconfig file as a mapping, or one line saying why it is not one."""
    try:
        document = yamlio.load(path.read_text())
    except OSError as exc:
        raise KubeconfigError(
            f"kubeconfig {path} cannot be read: {exc.strerror}", "Fix its permissions (chmod 600)"
        ) from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise KubeconfigError(
            f"kubeconfig {path} is not valid YAML{line}", "Fix or regenerate the file"
        ) from exc
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise KubeconfigError(
            f"{path} is not a kubeconfig (no clusters, users or contexts in it)",
            "Pass --kubeconfig with a kubeconfig file",
        )
    return document


def _entries(document: dict[str, Any], section: str, key: str, path: Path) -> list[tuple]:
    entries = document.get(section) or []
    if not isinstance(entries, list):
        raise KubeconfigError(f"kubeconfig {path}: {section} is not a list", "Fix the file")
    found = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not entry.get("name"):
            raise KubeconfigError(
                f"kubeconfig {path}: {section}[{index}] has no name", "Fix the file"
            )
        body = entry.get(key) or {}
        if not isinstance(body, dict):
            raise KubeconfigError(
                f"kubeconfig {path}: {section}[{entry['name']}].{key} is not a mapping",
                "Fix the file",
            )
        found.append((str(entry["name"]), body))
    return found


def merge(documents: list[tuple[Path, dict[str, Any]]]) -> Merged:
    """client-go's merge: the first file wins each named entry, and current-context."""
    merged = Merged(files=[p for p, _ in documents])
    sections = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
    for path, document in documents:
        for section, key in sections:
            table = getattr(merged, section)
            for name, body in _entries(document, section, key, path):
                table.setdefault(name, (body, path))
        if not merged.current_context:
            merged.current_context = str(document.get("current-context") or "")
    return merged


def load_merged(explicit: str | None) -> Merged:
    """Read the files kubectl would read; a missing --kubeconfig is an error, like kubectl."""
    candidates = paths(explicit)
    if explicit and not candidates[0].is_file():
        raise KubeconfigError(
            f"kubeconfig {candidates[0]} does not exist", "Check the --kubeconfig path"
        )
    existing = [p for p in candidates if p.is_file()]
    if not existing:
        where = ", ".join(str(p) for p in candidates)
        raise KubeconfigError(
            f"no kubeconfig found at {where}",
            "Pass --kubeconfig, set KUBECONFIG, or run `pacdeploy sandbox up` for a local cluster",
        )
    return merge([(p, read_document(p)) for p in existing])


# -- one context -------------------------------------------------------------------------
def _resolve(value: Any, origin: Path) -> str | None:
    if not value:
        return None
    path = Path(str(value)).expanduser()
    return str(path if path.is_absolute() else origin.parent / path)


def _data(body: dict[str, Any], key: str, where: str) -> bytes | None:
    value = body.get(key)
    if not value:
        return None
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KubeconfigError(f"{where}.{key} is not base64", "Fix or regenerate it") from exc


def _exec_spec(raw: Any, where: str, origin: Path) -> ExecSpec:
    if not isinstance(raw, dict) or not raw.get("command"):
        raise KubeconfigError(f"{where}.exec has no command", "Fix the user entry")
    api_version = str(raw.get("apiVersion") or "")
    if api_version not in EXEC_VERSIONS:
        raise KubeconfigError(
            f"{where}.exec.apiVersion {api_version!r} is not one kubectl supports",
            f"Use {' or '.join(EXEC_VERSIONS)}",
        )
    # client-go defaults the mode for v1beta1 only; v1 must say (api/v1/defaults.go).
    mode = str(raw.get("interactiveMode") or "")
    if not mode and api_version.endswith("v1beta1"):
        mode = "IfAvailable"
    if mode not in INTERACTIVE_MODES:
        raise KubeconfigError(
            f"{where}.exec.interactiveMode {mode!r} is not valid",
            f"Use one of {', '.join(INTERACTIVE_MODES)}",
        )
    env = []
    for item in raw.get("env") or []:
        if not isinstance(item, dict) or not item.get("name"):
            raise KubeconfigError(f"{where}.exec.env has an entry without a name", "Fix it")
        env.append((str(item["name"]), str(item.get("value") or "")))
    command = str(raw["command"])
    if os.sep in command:
        command = _resolve(command, origin) or command
    return ExecSpec(
        command=command,
        args=tuple(str(a) for a in raw.get("args") or []),
        env=tuple(env),
        api_version=api_version,
        interactive_mode=mode,
        provide_cluster_info=bool(raw.get("provideClusterInfo")),
        install_hint=str(raw.get("installHint") or ""),
    )


def select(merged: Merged, context: str | None) -> Endpoint:
    """The endpoint of ``context`` (default: current-context), checked as client-go does."""
    names = sorted(merged.contexts)
    chosen = context or merged.current_context
    if not chosen:
        raise KubeconfigError(
            f"kubeconfig {merged.where()} has no current context",
            f"Pass --context (one of: {', '.join(names) or 'none'})",
        )
    if chosen not in merged.contexts:
        raise KubeconfigError(
            f"context {chosen!r} is not in kubeconfig {merged.where()}",
            f"Use one of: {', '.join(names) or 'none'}",
        )
    ctx, ctx_origin = merged.contexts[chosen]
    where = f"kubeconfig {ctx_origin}: contexts[{chosen}]"
    cluster_name, user_name = str(ctx.get("cluster") or ""), str(ctx.get("user") or "")
    if not cluster_name:
        raise KubeconfigError(f"{where} names no cluster", "Add a cluster to the context")
    if cluster_name not in merged.clusters:
        raise KubeconfigError(
            f"{where} names cluster {cluster_name!r}, which no kubeconfig file defines",
            f"Add it to one of {merged.where()}",
        )
    if user_name and user_name not in merged.users:
        raise KubeconfigError(
            f"{where} names user {user_name!r}, which no kubeconfig file defines",
            f"Add it to one of {merged.where()}",
        )
    cluster, cluster_origin = merged.clusters[cluster_name]
    user, user_origin = merged.users.get(user_name, ({}, ctx_origin))
    cwhere = f"kubeconfig {cluster_origin}: clusters[{cluster_name}]"
    uwhere = f"kubeconfig {user_origin}: users[{user_name}]"
    server = str(cluster.get("server") or "")
    if not server:
        raise KubeconfigError(f"{cwhere} has no server", "Add the API server's URL")
    ca_file = _resolve(cluster.get("certificate-authority"), cluster_origin)
    ca_data = _data(cluster, "certificate-authority-data", cwhere)
    insecure = bool(cluster.get("insecure-skip-tls-verify"))
    if insecure and (ca_file or ca_data):  # transport.TLSConfigFor refuses the pair
        raise KubeconfigError(
            f"{cwhere} sets both a certificate authority and insecure-skip-tls-verify",
            "Remove one of them, as kubectl requires",
        )
    methods = [m for m, v in (("token", user.get("token")), ("basic", user.get("username"))) if v]
    if len(methods) > 1:
        raise KubeconfigError(
            f"{uwhere} has more than one authentication method ({', '.join(methods)})",
            "Keep only one, as kubectl requires",
        )
    if user.get("auth-provider"):
        name = (user["auth-provider"] or {}).get("name", "?")
        raise KubeconfigError(
            f"{uwhere} uses auth-provider {name!r}, which kubectl no longer ships",
            "Use the provider's exec plugin (kubelogin, gke-gcloud-auth-plugin, aws eks get-token)",
        )
    cert_file = _resolve(user.get("client-certificate"), user_origin)
    cert_data = _data(user, "client-certificate-data", uwhere)
    key_file = _resolve(user.get("client-key"), user_origin)
    key_data = _data(user, "client-key-data", uwhere)
    if (cert_file or cert_data) and not (key_file or key_data):
        raise KubeconfigError(f"{uwhere} has a client certificate but no key", "Add client-key")
    for key, value in (
        ("certificate-authority", ca_file),
        ("client-certificate", cert_file),
        ("client-key", key_file),
    ):
        if value and not Path(value).is_file():
            owner = cwhere if key == "certificate-authority" else uwhere
            raise KubeconfigError(f"{owner}.{key}: {value} does not exist", "Fix the path")
    namespace = ctx.get("namespace")
    return Endpoint(
        context=chosen,
        server=server.rstrip("/"),
        cluster=cluster_name,
        user=user_name,
        namespace=str(namespace) if namespace else None,
        ca_file=None if ca_data else ca_file,
        ca_data=ca_data,
        insecure=insecure,
        tls_server_name=str(cluster.get("tls-server-name") or "") or None,
        proxy_url=str(cluster.get("proxy-url") or "") or None,
        cert_file=None if cert_data else cert_file,
        cert_data=cert_data,
        key_file=None if key_data else key_file,
        key_data=key_data,
        token=str(user.get("token") or "") or None,
        token_file=_resolve(user.get("tokenFile"), user_origin),
        username=str(user.get("username") or "") or None,
        password=str(user.get("password") or "") or None,
        exec=_exec_spec(user["exec"], uwhere, user_origin) if user.get("exec") else None,
        cluster_entry=dict(cluster),
        origin=str(user_origin),
    )


def load(explicit: str | None = None, context: str | None = None) -> Endpoint:
    """The endpoint kubectl would use for these --kubeconfig and --context values."""
    return select(load_merged(explicit), context)
