"""Package ``__init__`` modules a `pacdeploy` process does not run: a module of the same name
and path stands in for each, and the package's submodules then load as usual, each from the
installed package. Only for the versions pyproject.toml allows (any other takes the plain
import), and each checked by a test that fails if the pinned version takes another path.

- ``kubernetes`` and ``kubernetes.utils``: see official.py.
- ``urllib3.http2``: every urllib3 connection imports ``urllib3.http2.probe`` (which origins
  speak HTTP/2), and with it the package's ``__init__``, which imports ``importlib.metadata``
  for ``inject_into_urllib3`` alone (HTTP/2 over the h2 package, never turned on here):
  about 15 ms of every command's start, spent before ``urllib3`` is of any use.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import sys
import types
from pathlib import Path

URLLIB3 = "2."  # the major version pyproject.toml pins (urllib3>=2,<3)
_VERSION = re.compile(r"""^__version__ = (?:version = )?["']([^"']+)["']""", re.MULTILINE)


def version_in(path: Path) -> str | None:
    """The ``__version__`` a package's module assigns, read without running it."""
    try:
        found = _VERSION.search(path.read_text(encoding="utf-8"))
    except OSError:
        return None
    return found.group(1) if found else None


def package(
    name: str, directory: Path, spec: importlib.machinery.ModuleSpec | None = None
) -> types.ModuleType:
    """A package module for ``name`` whose submodules load from ``directory``, its
    ``__init__`` not run (``spec``: the package's own, where it was found)."""
    module = types.ModuleType(name, "stood in for by pacdeploy.kube.stand_ins")
    module.__path__ = [str(directory)]
    module.__file__ = str(directory / "__init__.py")
    module.__spec__ = spec or importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__pacdeploy_stand_in__ = True  # type: ignore[attr-defined]
    sys.modules[name] = module
    return module


def urllib3_http2() -> bool:
    """Stand in for ``urllib3.http2``'s ``__init__`` (see the module's docstring); True if
    the stand-in is in place, False if it loads (or loaded) as usual."""
    if "urllib3" in sys.modules or "urllib3.http2" in sys.modules:
        loaded = sys.modules.get("urllib3.http2")
        return getattr(loaded, "__pacdeploy_stand_in__", False) is True
    spec = importlib.util.find_spec("urllib3")
    if spec is None or not spec.submodule_search_locations:
        return False
    directory = Path(spec.submodule_search_locations[0])
    version = version_in(directory / "_version.py")
    if version is None or not version.startswith(URLLIB3):
        return False
    package("urllib3.http2", directory / "http2")
    return True
