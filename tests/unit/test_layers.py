"""The package layering the README's Layout section promises (kopf's way: each layer uses
only those below it), checked on every import, the lazy ones inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. A module may import its own layer and those before it, never after.
LAYERS = (
    (
        "pacdeploy.errors",
        "pacdeploy.output",
        "pacdeploy.yamlio",
        "pacdeploy.collector",
        "pacdeploy.regex_cache",
    ),
    ("pacdeploy.kube",),
    ("pacdeploy.app",),
    ("pacdeploy.wait",),
    ("pacdeploy.data",),
    ("pacdeploy.restore",),
    ("pacdeploy.release",),
    ("pacdeploy.forward", "pacdeploy.sandbox"),
    ("pacdeploy.status",),
    ("pacdeploy.diagnose",),
    ("pacdeploy.cli", "pacdeploy.__main__"),
)


def layer_of(module: str) -> int:
    for index, members in enumerate(LAYERS):
        if any(module == m or module.startswith(m + ".") for m in members):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and the README")


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pacdeploy"):
            found.add(node.module or "")
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("pacdeploy"))
    return {name for name in found if name != "pacdeploy"}


def test_each_package_imports_only_the_layers_below_it():
    upward = []
    for path in sorted((ROOT / "pacdeploy").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module == "pacdeploy":
            continue
        mine = layer_of(module)
        for name in sorted(imports(path)):
            if layer_of(name) > mine:
                upward.append(f"{module} imports {name}")
    assert upward == []
