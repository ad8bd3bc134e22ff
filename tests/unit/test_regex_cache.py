"""Regular expressions kept between runs: the same matcher as compiled anew, nothing compiled
anew the second time, and a file that is not this build's or is damaged costs only time."""

import marshal
import re
import sys
from pathlib import Path

import pytest

from pacdeploy import regex_cache
from tests.support.cli import fresh_python

pytestmark = pytest.mark.skipif(not regex_cache.followed(), reason="another Python's internals")

# Each a kind the modules compile: named groups and flags (urllib3's URL), a wide Unicode
# class (PyYAML's reader), verbose, bytes, lookarounds and backreferences.
SAMPLES = [
    (r"^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?(?P<path>[^?#]*)", re.I),
    ("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", 0),
    (r"""(?x) ^ (?P<n> \d+ ) \s* (?: m | s )? $  # a duration""", 0),
    (rb"(?P<key>[a-z]+)=(?P=key)?", 0),
    (r"(?<=a)b(?!c)(.)\1", re.S | re.M),
]


@pytest.mark.parametrize(("pattern", "flags"), SAMPLES)
def test_a_kept_pattern_is_the_matcher_compiled_anew(pattern, flags):
    import _sre

    kept = marshal.loads(marshal.dumps(regex_cache.generated(pattern, int(flags))))
    # Pattern equality compares the flags and the compiled code itself.
    assert _sre.compile(pattern, *kept) == re.compile(pattern, flags)


RUN = """
import re, sys
from pathlib import Path
from pacdeploy import regex_cache
regex_cache.use(Path(sys.argv[1] if len(sys.argv) > 1 else {folder!r}))
parse, parsed = re._parser.parse, []
re._parser.parse = lambda *args: parsed.append(args) or parse(*args)
for pattern in ("a+(?P<b>b)", r"\\d{{2,}}-(x|y)", "[^\\ud7ff-\\uffff]"):
    assert re.compile(pattern).match("aab") or True
print(len(parsed))
"""


def _run(folder: Path) -> int:
    return int(fresh_python(RUN.format(folder=str(folder))))


def test_the_second_run_compiles_nothing_anew(tmp_path):
    assert _run(tmp_path) == 3
    (kept,) = tmp_path.iterdir()
    written = kept.stat().st_mtime_ns
    assert _run(tmp_path) == 0
    assert kept.stat().st_mtime_ns == written  # nothing new: not written again


def test_a_damaged_file_is_compiled_anew_and_replaced(tmp_path):
    _run(tmp_path)
    (kept,) = tmp_path.iterdir()
    kept.write_bytes(b"\x00not marshal")
    assert _run(tmp_path) == 3
    build, patterns = marshal.loads(kept.read_bytes())
    assert tuple(build) == regex_cache.BUILD
    assert len(patterns) == 3


def test_another_builds_file_is_ignored(tmp_path):
    _run(tmp_path)
    (kept,) = tmp_path.iterdir()
    _, patterns = marshal.loads(kept.read_bytes())
    kept.write_bytes(marshal.dumps((("3.11.0 elsewhere", 0), patterns)))
    assert _run(tmp_path) == 3


def test_code_sre_refuses_is_compiled_anew(tmp_path):
    _run(tmp_path)
    (kept,) = tmp_path.iterdir()
    build, patterns = marshal.loads(kept.read_bytes())
    broken = {key: (flags, [9999, 1, 2], *rest) for key, (flags, _, *rest) in patterns.items()}
    kept.write_bytes(marshal.dumps((build, broken)))
    assert _run(tmp_path) == 3  # each refused by _sre's validation, then compiled anew


def test_another_python_compiles_as_usual(tmp_path, monkeypatch):
    compile_before = re._compiler.compile
    monkeypatch.setattr(sys, "version_info", (3, 12, 0, "final", 0))
    regex_cache.use(tmp_path)
    assert re._compiler.compile is compile_before
