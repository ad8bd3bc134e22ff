"""Watches feeding one waiter: updates taken in rounds, in order, the error that ended a
watch raised to the waiter, and every watch told to end when the waiter is done."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from pacdeploy.errors import PacdeployError, PermissionDenied
from pacdeploy.kube.watch import Cancel
from pacdeploy.wait.changes import Watches


def test_a_round_takes_every_update_queued_oldest_first():
    sent = threading.Event()

    def updates(cancel: Cancel) -> Iterator[int]:
        yield from (1, 2, 3)
        sent.set()

    with Watches[int]() as watches:
        watches.start(updates)
        assert sent.wait(5)
        assert watches.take(5) == [1, 2, 3]


def test_a_round_with_no_change_ends_after_its_wait_with_nothing():
    release = threading.Event()

    def updates(cancel: Cancel) -> Iterator[int]:
        release.wait(5)
        yield 1

    with Watches[int]() as watches:
        watches.start(updates)
        assert watches.take(0.2) == []
        release.set()
        assert watches.take(5) == [1]


def test_forbidden_watching_reaches_the_waiter_so_it_can_poll():
    def updates(cancel: Cancel) -> Iterator[int]:
        raise PermissionDenied("watch forbidden")
        yield  # pragma: no cover  # a generator, like a real watch

    with Watches[int]() as watches:
        watches.start(updates)
        with pytest.raises(PermissionDenied):
            watches.take(5)


def test_a_watch_that_failed_fails_the_wait_even_after_updates():
    def updates(cancel: Cancel) -> Iterator[int]:
        yield 1
        raise PacdeployError("watch of /api/v1/pods failed: boom")

    with Watches[int]() as watches:
        watches.start(updates)
        with pytest.raises(PacdeployError, match="boom"):
            for _ in range(2):  # the update, then the error, in one round or two
                watches.take(5)


def test_every_watch_is_cancelled_when_the_waiter_is_done():
    cancels: list[Cancel] = []
    started = threading.Barrier(3)

    def updates(cancel: Cancel) -> Iterator[int]:
        cancels.append(cancel)
        started.wait(5)
        return iter(())

    with Watches[int]() as watches:
        watches.start(updates)
        watches.start(updates)
        started.wait(5)
        assert not any(c.cancelled for c in cancels)
    assert len(cancels) == 2 and all(c.cancelled for c in cancels)
