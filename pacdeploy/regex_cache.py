"""Regular expressions compiled once per Python build and kept between runs, as Python
keeps the bytecode of modules.

A `status` run compiles some 80 patterns while its modules load (urllib3's URL grammar,
PyYAML's reader and resolver, the standard library's own): 45 ms of a 0.33 s run on a
2-core machine, the same work every run. CPython compiles a pattern in two steps: parsing
and code generation in Python (``re._parser``, ``re._compiler``), then the matcher built
from that code in C (``_sre.compile``, which validates any code it is given). The first
step's output is kept here, keyed by the pattern's text and flags; a later run hands it to
the second step.

Only on the CPython whose internals this follows (3.11: ``re._compiler.compile`` and the
six arguments of ``_sre.compile``), and only in a `pacdeploy` process (``__main__``):
anywhere else, or when the file cannot be read, patterns are compiled as usual.
"""

from __future__ import annotations

import _sre
import atexit
import contextlib
import marshal
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

# What _sre.compile takes after the pattern: the flags it ends with, the code, the number
# of groups, the name -> index and index -> name maps. All of them marshal-able.
Compiled = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...]]
Key = tuple[str | bytes, int]
Compile = Callable[..., "re.Pattern[str] | re.Pattern[bytes]"]
KEPT_AT_MOST = 2000  # patterns in the file: more than all commands compile, a bound on growth
BUILD = (sys.version, _sre.MAGIC)  # the code is only valid for the sre that generated it


def followed() -> bool:
    """Whether this Python's ``re`` internals are the ones this module follows."""
    return sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11)


def use(folder: Path) -> None:
    """From here on, patterns compile from the code kept in ``folder`` where there is
    some; those compiled anew are added to it when the process exits."""
    if not followed():
        return
    path = folder / f"re-{sys.implementation.cache_tag}.marshal"
    known = _load(path)
    new: dict[Key, Compiled] = {}
    re._compiler.compile = _compiling(re._compiler.compile, known, new)  # type: ignore[attr-defined]
    atexit.register(_save, path, known, new)


def _load(path: Path) -> dict[Key, Compiled]:
    """The file's patterns, if it was written by this very build (else none)."""
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        build, kept = marshal.loads(path.read_bytes())
        if tuple(build) == BUILD and isinstance(kept, dict):
            return kept
    return {}


def _compiling(plain: Compile, known: dict[Key, Compiled], new: dict[Key, Compiled]) -> Compile:
    def compile(pattern: object, flags: int = 0) -> re.Pattern[str] | re.Pattern[bytes]:
        if not isinstance(pattern, str | bytes) or flags & re.DEBUG:  # re.Scanner's, or shown
            return plain(pattern, flags)
        key = (pattern, int(flags))
        if (code := known.get(key)) is not None:
            with contextlib.suppress(RuntimeError, TypeError, ValueError):  # refused by sre
                return _sre.compile(pattern, *code)  # type: ignore[no-any-return]
        new[key] = code = generated(pattern, key[1])
        return _sre.compile(pattern, *code)  # type: ignore[no-any-return]

    return compile


def generated(pattern: str | bytes, flags: int) -> Compiled:
    """What ``re._compiler.compile`` of 3.11 hands ``_sre.compile`` for ``pattern``."""
    parsed = re._parser.parse(pattern, flags)  # type: ignore[attr-defined]
    state = parsed.state
    indexgroup: list[str | None] = [None] * state.groups
    for name, index in state.groupdict.items():
        indexgroup[index] = name
    code = [int(op) for op in re._compiler._code(parsed, flags)]  # type: ignore[attr-defined]
    groups = state.groups - 1
    return int(flags | state.flags), code, groups, dict(state.groupdict), tuple(indexgroup)


def _save(path: Path, known: dict[Key, Compiled], new: dict[Key, Compiled]) -> None:
    if not new:
        return
    kept = {**known, **new} if len(known) + len(new) <= KEPT_AT_MOST else new
    with contextlib.suppress(OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_bytes(marshal.dumps((BUILD, kept)))
        os.replace(partial, path)  # a reader sees the old file or the new one, whole
