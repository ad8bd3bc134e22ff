"""forward's worker threads: each job runs at once, a waiting thread is reused rather than a
new one started, and threads left without work end."""

from __future__ import annotations

import threading
import time

from pacdeploy.forward.workers import Workers


def run_and_wait(workers: Workers, count: int = 1) -> set[int]:
    """Run ``count`` jobs side by side; the idents of the threads that ran them."""
    idents, lock, done = set(), threading.Lock(), threading.Barrier(count + 1)

    def job() -> None:
        with lock:
            idents.add(threading.get_ident())
        done.wait(timeout=5)

    for _ in range(count):
        workers.run(job)
    done.wait(timeout=5)
    return idents


def wait_until_idle(workers: Workers, count: int) -> None:
    deadline = time.monotonic() + 5
    while workers._idle < count and time.monotonic() < deadline:
        time.sleep(0.001)


def test_jobs_one_after_another_reuse_one_thread():
    workers = Workers()
    first = run_and_wait(workers)
    wait_until_idle(workers, 1)
    assert run_and_wait(workers) == first


def test_jobs_side_by_side_each_get_a_thread():
    assert len(run_and_wait(Workers(), 3)) == 3


def test_a_failing_job_leaves_its_thread_for_the_next():
    workers, ran_on = Workers(), []

    def broken() -> None:
        ran_on.append(threading.get_ident())
        raise RuntimeError("a bug in one connection")

    workers.run(broken)
    wait_until_idle(workers, 1)
    assert run_and_wait(workers) == set(ran_on)


def test_threads_without_work_end():
    workers = Workers(idle_seconds=0.05, name="short-lived")
    run_and_wait(workers, 2)
    deadline = time.monotonic() + 5
    while any(t.name == "short-lived" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "idle workers are still running"
        time.sleep(0.01)
    assert workers._idle == 0
