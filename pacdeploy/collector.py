"""The cyclic garbage collector in a `pacdeploy` process, kept out of start-up and exit.

A command loads some 350 modules (the official client's REST layer, Click, PyYAML, urllib3
and pacdeploy's own), and what they create lives until the process ends. Left alone, the collector
walks all of it on each full collection while the imports run, and again in the
interpreter's final collections at exit, and frees nothing: about 80 ms of a `pacdeploy up`
that changes nothing (0.39 -> 0.31 s on the sandbox). So the process starts with the
collector off; once the client is loaded, everything so far is frozen (`gc.freeze`: out of
the collector's sight, still freed by reference counting) and the collector is on again for
the command's own work; at exit, what is left is frozen too.

Only the `pacdeploy` process does this (:func:`paused_until_loaded` wraps its entry point);
calling the CLI's ``main`` in-process, as tests do, leaves the collector alone.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


class _Pause:
    active = False  # set only by paused_until_loaded: resume() never turns on what it did not stop


_pause = _Pause()


@contextmanager
def paused_until_loaded() -> Iterator[None]:
    """Run a whole process with the collector off until :func:`resume`."""
    gc.disable()
    _pause.active = True
    try:
        yield
    finally:
        resume()
        gc.freeze()  # the process exits next: its final collections need not walk this


def resume() -> None:
    """The modules are loaded: freeze what exists, and collect from here on."""
    if _pause.active:
        _pause.active = False
        gc.freeze()
        gc.enable()
