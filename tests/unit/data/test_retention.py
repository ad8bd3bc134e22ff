"""Which backups pruning removes."""

from __future__ import annotations

from datetime import UTC, datetime

from pacdeploy.data import backups, retention
from pacdeploy.data.backup_record import Backup


def _backup(name: str, created: str, reason: str | None = None, deleting: bool = False):
    return Backup(name, created, "1Gi", True, None, (name,), reason, deleting)


def test_pruning_keeps_the_newest_automatic_backups_and_every_named_one() -> None:
    found = [
        _backup("mine", "2026-12-01T00:00:00Z"),
        *(
            _backup(f"before-v{n}", f"2026-12-01T0{n}:00:00Z", backups.BEFORE_UP)
            for n in range(1, 9)
        ),
    ]
    doomed = [b.name for b in retention.to_prune(found, keep=5)]
    assert doomed == ["before-v1", "before-v2", "before-v3"]
    everything = retention.to_prune(found, keep=5, automatic_only=False)
    assert [b.name for b in everything] == ["mine", "before-v1", "before-v2", "before-v3"]


def test_pruning_older_than_spares_the_recent_and_what_is_being_deleted() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    found = [
        _backup("old", "2026-11-01T00:00:00Z", backups.BEFORE_UP),
        _backup("going", "2026-11-02T00:00:00Z", backups.BEFORE_UP, deleting=True),
        _backup("recent", "2026-12-02T11:00:00Z", backups.BEFORE_UP),
    ]
    doomed = retention.to_prune(found, keep=0, older_than=7 * 86400, now=now)
    assert [b.name for b in doomed] == ["old"]
