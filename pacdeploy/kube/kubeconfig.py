"""Kubeconfig files, the kubectl way: which files, are they sane, loading one context, and
adding or removing a named context (as kind and minikube do)."""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from pacdeploy import yamlio
from pacdeploy.errors import ClusterUnreachable


# -- finding and loading --------------------------------------------------------------
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


def check_file(path: Path) -> None:
    """Readable YAML holding a mapping, or one line saying which of those it is not."""
    try:
        document = yamlio.load(path.read_text())
    except OSError as exc:
        raise ClusterUnreachable(
            f"kubeconfig {path} cannot be read: {exc.strerror}", "Fix its permissions (chmod 600)"
        ) from exc
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ClusterUnreachable(
            f"kubeconfig {path} is not valid YAML{line}", "Fix or regenerate the file"
        ) from exc
    if document is not None and not isinstance(document, dict):
        raise ClusterUnreachable(
            f"{path} is not a kubeconfig (no clusters, users or contexts in it)",
            "Pass --kubeconfig with a kubeconfig file",
        )


def load(explicit: str | None = None, context: str | None = None) -> tuple[Any, str]:
    """An authenticated ApiClient for ``context`` (default: current), and the context's name."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    candidates = paths(explicit)
    existing = [p for p in candidates if p.is_file()]
    if not existing:
        where = ", ".join(str(p) for p in candidates)
        raise ClusterUnreachable(
            f"no kubeconfig found at {where}",
            "Pass --kubeconfig, set KUBECONFIG, or run `pacdeploy sandbox up` for a local cluster",
        )
    for path in existing:
        check_file(path)
    config_file = os.pathsep.join(str(p) for p in existing)
    try:
        contexts, current = config.list_kube_config_contexts(config_file=config_file)
    except (ConfigException, ValueError, TypeError) as exc:
        raise ClusterUnreachable(
            f"cannot read kubeconfig {config_file}: {exc}", "Check the file is valid YAML"
        ) from exc
    names = [c["name"] for c in contexts or []]
    chosen = context or (current or {}).get("name")
    if not chosen:
        raise ClusterUnreachable(
            f"kubeconfig {config_file} has no current context",
            f"Pass --context (one of: {', '.join(names) or 'none'})",
        )
    if chosen not in names:
        raise ClusterUnreachable(
            f"context {chosen!r} is not in kubeconfig {config_file}",
            f"Use one of: {', '.join(names) or 'none'}",
        )
    try:
        api = config.new_client_from_config(
            config_file=config_file, context=chosen, persist_config=False
        )
    except (ConfigException, ValueError, TypeError, OSError) as exc:
        raise ClusterUnreachable(
            f"cannot load context {chosen!r} from {config_file}: {exc}",
            "Check its cluster and user entries",
        ) from exc
    return api, chosen


# -- editing ----------------------------------------------------------------------------
def _empty() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": "",
    }


def _upsert(entries: list[dict[str, Any]], name: str, key: str, value: dict[str, Any]) -> None:
    for entry in entries:
        if entry.get("name") == name:
            entry[key] = value
            return
    entries.append({"name": name, key: value})


def with_context(
    config: dict[str, Any] | None,
    name: str,
    cluster: dict[str, Any],
    user: dict[str, Any],
    *,
    make_current: bool = True,
) -> dict[str, Any]:
    """Return ``config`` with cluster, user and context ``name`` added or replaced."""
    merged = {**_empty(), **copy.deepcopy(config or {})}
    for section in ("clusters", "users", "contexts"):
        merged[section] = merged.get(section) or []
    _upsert(merged["clusters"], name, "cluster", cluster)
    _upsert(merged["users"], name, "user", user)
    _upsert(merged["contexts"], name, "context", {"cluster": name, "user": name})
    if make_current:
        merged["current-context"] = name
    return merged


def without_context(config: dict[str, Any] | None, name: str) -> dict[str, Any]:
    """Return ``config`` without cluster, user and context ``name``; unset it if current."""
    result = {**_empty(), **(config or {})}
    for section in ("clusters", "users", "contexts"):
        result[section] = [e for e in result.get(section) or [] if e.get("name") != name]
    if result.get("current-context") == name:
        result["current-context"] = ""
    return result


def read(path: Path) -> dict[str, Any] | None:
    try:
        return yamlio.load(path.read_text()) or None
    except FileNotFoundError:
        return None


def write(path: Path, config: dict[str, Any]) -> None:
    """Write atomically and privately: a kubeconfig holds credentials."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            yaml.safe_dump(config, handle, default_flow_style=False, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
