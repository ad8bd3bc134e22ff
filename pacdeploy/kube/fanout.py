"""The one policy for requests side by side: every parallel read or write goes through here.

A command's requests are independent round trips, so they run in threads (the client is
blocking). How many at once is decided here, once: ``WIDTH``, the widest round a command makes
(`status` reads ten things at once); the connection pool keeps as many open
(`transport.POOL_SIZE`), so no round waits for a connection. Each call has an
executor of its own, sized to its work, so parallel calls may nest without starving one
another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar, overload

T = TypeVar("T")
R = TypeVar("R")
A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")

WIDTH = 10  # requests in flight at once, at most, per parallel call


def each(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[fn(item) for item in items]``, side by side; the first exception is raised."""
    work = list(items)
    if len(work) <= 1:
        return [fn(item) for item in work]
    with ThreadPoolExecutor(max_workers=min(len(work), WIDTH)) as pool:
        return list(pool.map(fn, work))


# Typed up to five calls, the widest fixed round a command makes (`up`'s plan), so each
# result keeps its own type where it is unpacked.
@overload
def together(a: Callable[[], A], b: Callable[[], B], /) -> tuple[A, B]: ...
@overload
def together(a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], /) -> tuple[A, B, C]: ...
@overload
def together(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], d: Callable[[], D], /
) -> tuple[A, B, C, D]: ...
@overload
def together(
    a: Callable[[], A],
    b: Callable[[], B],
    c: Callable[[], C],
    d: Callable[[], D],
    e: Callable[[], E],
    /,
) -> tuple[A, B, C, D, E]: ...
@overload
def together(*calls: Callable[[], R]) -> tuple[R, ...]: ...
def together(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Each call's result, in order, the calls side by side."""
    return tuple(each(lambda call: call(), calls))


@contextmanager
def beside(fn: Callable[..., R], *args: Any) -> Iterator[Future[R]]:
    """``fn(*args)`` in a thread while the block runs (the block decides when to wait for
    its result); left only once it is done."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(fn, *args)
