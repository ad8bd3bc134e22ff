"""Asking again after a failure worth it (``errors.is_transient``): tenacity, bounded in time,
the server's Retry-After honoured, each retry logged at -v.

Loaded on a command's first such failure, not before (`Cluster.send` makes the first attempt
itself): a command whose requests all succeed never imports tenacity (~5 ms).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential_jitter,
)

from pacdeploy.kube.errors import is_transient, short_reason

log = logging.getLogger(__name__)

MAX_RETRY_AFTER = 10.0  # seconds: a server asking for longer is treated as down
_BACKOFF = wait_exponential_jitter(multiplier=0.2, max=2.0)


def retry_after(state: RetryCallState) -> float:
    """The server's Retry-After (bounded), else jittered exponential backoff."""
    exc = state.outcome.exception() if state.outcome else None
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    if value and str(value).isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    return _BACKOFF(state)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    method, path = state.args[:2] if len(state.args) >= 2 else ("?", "?")
    log.info(
        "retrying %s %s (attempt %d, %.1fs so far): %s",
        method,
        path,
        state.attempt_number,
        state.seconds_since_start or 0.0,
        short_reason(getattr(exc, "reason", exc)),
    )


def again(
    attempt: Callable[[], bytes], failure: Exception, *, seconds: float, what: tuple[str, str]
) -> bytes:
    """``attempt`` again until it succeeds, fails in a way not worth retrying, or ``seconds``
    pass. ``failure`` is how its first try ended: tenacity counts it as its own first attempt
    (the wait after it, the attempt numbers logged). ``what``: the method and path."""
    first = [failure]

    def tried(_method: str, _path: str) -> bytes:
        if first:
            raise first.pop()
        return attempt()

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_delay(seconds),
        wait=retry_after,
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(tried, *what)
