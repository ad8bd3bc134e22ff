"""Cancelling watches from another thread: every stream a watch reads is shut down, one
attached after the cancel at once, so no waiter keeps a connection it no longer needs."""

from __future__ import annotations

from pacdeploy.kube.watch import Cancel


class Stream:
    def __init__(self) -> None:
        self.shut = False

    def shutdown(self) -> None:
        self.shut = True


def test_cancel_shuts_every_attached_stream_and_none_detached():
    cancel, kept, left = Cancel(), Stream(), Stream()
    cancel.attach(kept)
    cancel.attach(left)
    cancel.detach(left)
    cancel()
    assert cancel.cancelled and kept.shut and not left.shut


def test_a_stream_attached_after_the_cancel_is_shut_at_once():
    cancel, late = Cancel(), Stream()
    cancel()
    cancel.attach(late)
    assert late.shut


def test_a_stream_is_left_open_until_the_cancel():
    cancel, stream = Cancel(), Stream()
    cancel.attach(stream)
    assert not stream.shut and not cancel.cancelled


class ClosedStream(Stream):
    def shutdown(self) -> None:
        raise OSError(9, "Bad file descriptor")  # the server ended it; urllib3 closed it


def test_a_stream_closed_meanwhile_does_not_fail_the_cancel():
    """Seen in `make demo`: `up` ended in a traceback as its wait cancelled its watches."""
    cancel, closed, open_ = Cancel(), ClosedStream(), Stream()
    cancel.attach(closed)
    cancel.attach(open_)
    cancel()
    assert open_.shut
    cancel.attach(ClosedStream())  # attached after the cancel: shut at once, quietly
