"""The collector is off only while a `pacdeploy` process loads its modules."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from pacdeploy import collector


@pytest.fixture(autouse=True)
def _restore_gc() -> Iterator[None]:
    yield
    gc.unfreeze()
    gc.enable()


def test_a_long_command_collects_once_its_client_is_loaded() -> None:
    # forward runs for hours: it must not keep the collector off after start-up
    with collector.paused_until_loaded():
        assert not gc.isenabled()
        collector.resume()
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 0


def test_a_command_that_never_connects_still_leaves_it_on() -> None:
    with pytest.raises(SystemExit), collector.paused_until_loaded():
        raise SystemExit(2)  # bad input: one line and out
    assert gc.isenabled()


def test_main_called_in_process_leaves_the_collector_alone() -> None:
    collector.resume()  # not inside the process wrapper: nothing to resume
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
