"""Adding and removing a named context in a kubeconfig file, as kind and minikube do."""

from __future__ import annotations

import contextlib
import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from pacdeploy import yamlio


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


def _upsert(entries: list[dict[str, Any]], name: str, key: str, *, value: dict[str, Any]) -> None:
    for entry in entries:
        if entry.get("name") == name:
            entry[key] = value
            return
    entries.append({"name": name, key: value})


def with_context(
    config: dict[str, Any] | None,
    name: str,
    cluster: dict[str, Any],
    *,
    user: dict[str, Any],
    make_current: bool = True,
) -> dict[str, Any]:
    """Return ``config`` with cluster, user and context ``name`` added or replaced."""
    merged = {**_empty(), **copy.deepcopy(config or {})}
    for section in ("clusters", "users", "contexts"):
        merged[section] = merged.get(section) or []
    _upsert(merged["clusters"], name, "cluster", value=cluster)
    _upsert(merged["users"], name, "user", value=user)
    _upsert(merged["contexts"], name, "context", value={"cluster": name, "user": name})
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
