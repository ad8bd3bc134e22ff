"""The one way pacdeploy polls: rounds until a deadline, fast first, then backing off.

A no-op or a quick change is over in milliseconds, so the first rounds come quickly;
after that the interval grows to a second, so a long wait on a real cluster costs about
one request round per second.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

FIRST_POLL, MAX_POLL, BACKOFF = 0.02, 1.0, 1.3


def intervals() -> Iterator[float]:
    """The pauses between rounds: FIRST_POLL, growing by BACKOFF up to MAX_POLL."""
    delay = FIRST_POLL
    while True:
        yield delay
        delay = min(delay * BACKOFF, MAX_POLL)


@dataclass
class Deadline:
    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(init=False)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    @property
    def left(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    @property
    def passed(self) -> bool:
        return self.elapsed >= self.seconds


def rounds(deadline: Deadline, sleep: Callable[[float], None] = time.sleep) -> Iterator[float]:
    """Yield the seconds elapsed at each round, pausing between rounds; the last round comes
    once the deadline has passed, so the caller looks once more before giving up."""
    pauses = intervals()
    while True:
        yield deadline.elapsed
        if deadline.passed:
            return
        sleep(min(next(pauses), deadline.left) or 0.0)
