"""urllib3's HTTP/2 package ``__init__`` is not run for the urllib3 pyproject.toml pins
(so no ``importlib.metadata``), its probe still loads, and any other version loads as usual."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from pacdeploy.kube import stand_ins
from tests.support.cli import fresh_python

REQUEST = (
    "import urllib3\n"
    "pool = urllib3.PoolManager().connection_from_url('https://127.0.0.1:1')\n"
    "conn = pool._new_conn()\n"
    "try:\n"
    "    conn.connect()\n"
    "except urllib3.exceptions.NewConnectionError:\n"
    "    pass  # refused: what matters is that urllib3 got that far\n"
)


def test_the_pinned_urllib3_connects_without_importlib_metadata() -> None:
    loaded = fresh_python(
        "import sys\n"
        "from pacdeploy.kube import stand_ins\n"
        "print(stand_ins.urllib3_http2())\n"
        f"{REQUEST}"
        "print('importlib.metadata' in sys.modules, 'urllib3.http2.probe' in sys.modules)"
    )
    assert loaded.splitlines() == ["True", "False True"], "the slow path was taken: " + loaded


def test_the_installed_urllib3_is_the_version_the_stand_in_is_for() -> None:
    spec = importlib.util.find_spec("urllib3")
    assert spec is not None and spec.submodule_search_locations
    version = stand_ins.version_in(Path(spec.submodule_search_locations[0]) / "_version.py")
    assert version is not None and version.startswith(stand_ins.URLLIB3)


def test_urllib3_takes_nothing_from_its_http2_package_but_submodules() -> None:
    # The stand-in holds no name of the package's __init__: this fails the day urllib3
    # imports one from it (its connections would then fail to load with the stand-in).
    spec = importlib.util.find_spec("urllib3")
    assert spec is not None and spec.submodule_search_locations
    root = Path(spec.submodule_search_locations[0])
    taken = set()
    for source in root.rglob("*.py"):
        if "http2" in source.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("http2"):
                taken |= {alias.name for alias in node.names}
    assert taken == {"probe"}
    assert (root / "http2" / "probe.py").is_file()


def test_another_version_or_an_already_loaded_urllib3_loads_as_usual() -> None:
    loaded = fresh_python(
        "import sys\n"
        "from pacdeploy.kube import stand_ins\n"
        "stand_ins.URLLIB3 = '99.'\n"
        "print(stand_ins.urllib3_http2())\n"
        f"{REQUEST}"
        "print('importlib.metadata' in sys.modules, stand_ins.urllib3_http2())"
    )
    assert loaded.splitlines() == ["False", "True False"]
