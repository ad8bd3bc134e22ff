"""What pacdeploy records on the cluster, as the pure unit tests build it: a revision, a
backup's VolumeSnapshot."""

from __future__ import annotations

from pacdeploy.app.manifests import MANAGED_BY, Options
from pacdeploy.data import backups, revisions
from pacdeploy.data.revisions import DEPLOYED, Revision


def rev(number: int, status: str = DEPLOYED, **kw) -> Revision:
    return Revision(number, Options(), "csi-hostpath-sc", [], f"change {number}", status, **kw)


def snapshot(name: str, backup: str, ready: bool, created: str, revision: str = "2") -> dict:
    labels = {**MANAGED_BY, backups.BACKUP_LABEL: backup, revisions.REVISION_LABEL: revision}
    return {
        "metadata": {"name": name, "labels": labels, "creationTimestamp": created, "uid": name},
        "status": {"readyToUse": ready, "restoreSize": "1Gi"},
    }
