"""The write lock a backup holds: read back after a kill, and snapshots not cut within it."""

from __future__ import annotations

import pytest


def test_a_lock_an_interrupted_backup_recorded_is_read_back_and_garbage_is_not() -> None:
    from pacdeploy.data.consistency import HELD, held_by

    def sts(value: str) -> dict:
        return {"metadata": {"name": "mongo", "annotations": {HELD: value}}}

    assert held_by(sts('["mongo-0", "mongo-1"]')) == ["mongo-0", "mongo-1"]
    assert held_by(sts("not json")) == held_by(sts('{"a": 1}')) == held_by(None) == []


def test_snapshots_not_cut_in_time_fail_a_backup_asked_for_and_not_an_automatic_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pacdeploy.data.consistency import CRASH_CONSISTENT, Held, cut_or_not
    from pacdeploy.errors import NotReady
    from pacdeploy.output import PlainOutput
    from pacdeploy.wait.polling import Deadline

    with pytest.raises(NotReady, match="not cut within the 30s"):
        cut_or_not("backup b1", False, Held(Deadline(30), required=True), out=PlainOutput())
    cut_or_not("backup before-v3", False, Held(Deadline(30), required=False), out=PlainOutput())
    assert CRASH_CONSISTENT in capsys.readouterr().err
