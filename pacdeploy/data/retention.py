"""Which backups pruning deletes: automatic ones beyond the newest few (Percona's
``retention.count``), optionally only those older than an age (Velero's ``--ttl``)."""

from __future__ import annotations

from datetime import UTC, datetime

from pacdeploy.data.backup_record import Backup

KEEP_AUTOMATIC = 5  # automatic backups kept (up --keep-backups); named ones are never pruned


def to_prune(
    found: list[Backup],
    *,
    keep: int,
    older_than: float | None = None,
    now: datetime | None = None,
    automatic_only: bool = True,
) -> list[Backup]:
    """What pruning deletes, oldest first: beyond the newest ``keep`` (of the automatic
    ones, unless all were asked for), and of those only what is older than ``older_than``
    seconds. A backup being deleted already is left to that."""
    pool = [b for b in found if not b.deleting and (b.reason or not automatic_only)]
    pool.sort(key=lambda b: (b.created, b.name))
    excess = pool[: max(len(pool) - keep, 0)]
    if older_than is None:
        return excess
    moment = now or datetime.now(UTC)

    def age(backup: Backup) -> float:
        taken = datetime.fromisoformat(backup.created.replace("Z", "+00:00"))
        return (moment - taken).total_seconds()

    return [b for b in excess if age(b) > older_than]
