"""Backups: the claims they cover, their names, how they are summed up from snapshots, and
an interrupted one told apart."""

from __future__ import annotations

import pytest

from pacdeploy.data import backups
from pacdeploy.errors import InvalidInput
from tests.support.records import snapshot


def test_the_mongo_claims_are_found_by_template_in_ordinal_order() -> None:
    names = ["mongo-db-mongo-10", "data-other-0", "mongo-db-mongo-2", "mongo-db-mongo-x"]
    found = backups.mongo_claims([{"metadata": {"name": n}} for n in names])
    assert [c["metadata"]["name"] for c in found] == ["mongo-db-mongo-2", "mongo-db-mongo-10"]


@pytest.mark.parametrize("name", ["B1", "-b", "b_1", "x" * 41])
def test_backup_names_must_fit_a_label(name: str) -> None:
    with pytest.raises(InvalidInput):
        backups.validate_name(name)


def test_a_backup_is_ready_only_when_each_of_its_snapshots_is() -> None:
    found = backups.summarize(
        [
            snapshot("b2-0", "b2", True, "2026-01-02T00:00:00Z"),
            snapshot("b1-0", "b1", True, "2026-01-01T00:00:00Z"),
            snapshot("b1-1", "b1", False, "2026-01-01T00:00:01Z"),
        ]
    )
    assert [(b.name, b.ready, b.size, b.revision) for b in found] == [
        ("b1", False, "1Gi", 2),
        ("b2", True, "1Gi", 2),
    ]


def test_a_revisions_data_is_its_newest_ready_backup() -> None:
    found = backups.summarize(
        [
            snapshot("old-0", "old", True, "2026-01-01T00:00:00Z", revision="1"),
            snapshot("new-0", "new", True, "2026-01-02T00:00:00Z", revision="1"),
            snapshot("broken-0", "broken", False, "2026-01-03T00:00:00Z", revision="1"),
            snapshot("other-0", "other", True, "2026-01-04T00:00:00Z", revision="2"),
        ]
    )
    assert backups.of_revision(found, 1).name == "new"
    assert backups.of_revision(found, 3) is None


def test_an_interrupted_backup_is_told_by_the_claims_it_recorded() -> None:
    def snap(claim, claims):
        request = backups.BackupRequest(namespace="pacman", name="b1", timeout=1)
        made = backups.snapshot_for(request, claim, "c", claims=claims)
        return made

    both = ["mongo-db-mongo-0", "mongo-db-mongo-1"]
    assert backups.unfinished([snap("mongo-db-mongo-0", both)]) == ["mongo-db-mongo-1"]
    assert backups.unfinished([snap(c, both) for c in both]) == []
