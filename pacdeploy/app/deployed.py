"""Reading one of the app's own objects, where its absence means the app is not deployed."""

from __future__ import annotations

from typing import Any

from pacdeploy.errors import NotFound
from pacdeploy.kube.client import Cluster
from pacdeploy.kube.resources import ref


def get(cluster: Cluster, kind: str, name: str, *, namespace: str) -> dict[str, Any]:
    """The object; NotFound, saying to run `up` first, when it is not there."""
    obj = cluster.get(kind, name, namespace)
    if obj is None:
        raise NotFound(
            f"{ref(kind, name)} not found in namespace {namespace}",
            f"Run `pacdeploy up -n {namespace}` first",
        )
    return obj
