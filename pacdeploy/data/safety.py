"""The automatic backup a change takes of the data it is about to replace (a restore, a
move between stacks), resumed when the command runs again; where the cluster cannot
snapshot, none, and the caller keeps the volume instead."""

from __future__ import annotations

from pacdeploy.data import backups, snapshots
from pacdeploy.kube.client import Cluster
from pacdeploy.output import Output


def take(
    cluster: Cluster, *, namespace: str, name: str, reason: str, timeout: float, out: Output
) -> str | None:
    """The backup ``name`` of the app in ``namespace``, taken or finished; why there is
    none when the cluster has no snapshots (None once it is ready)."""
    request = backups.BackupRequest(
        namespace=namespace, name=name, timeout=timeout, reason=reason, resume=True
    )
    try:
        backups.create(cluster, request, out)
    except snapshots.NoSnapshots as exc:
        return exc.problem
    return None
