"""The package's layers, and the rule of which may import which (docs/architecture.md draws it).

Read from the source, not from imports at run time: every `import` counts, at module level or inside a function
(a lazy import is still a dependency). A layer may import itself and the layers listed for it, nothing else.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "gallery"

# layer → the layers it may import (besides itself). A layer is a module or a package, named from `gallery.`.
RULES: dict[str, set[str]] = {
    "domain": set(),
    "config": {"domain"},
    "imaging": {"domain"},
    "storage.protocols": {"domain"},
    "files": {"domain"},
    "storage": {"domain", "config", "files", "storage.protocols"},
    "services": {"domain", "config", "imaging", "storage.protocols"},
    "wiring": {"domain", "config", "services", "storage", "storage.protocols"},
    "demo": {"domain", "services", "wiring"},
    "web": {"domain", "config", "services", "wiring", "demo"},
    "site": {"domain", "config", "files", "imaging", "services", "wiring", "storage.protocols"},
    "incremental": {"domain", "services", "site", "storage"},
    "publisher": {"domain", "config", "services", "wiring", "site", "storage", "storage.protocols", "incremental"},
    "cli": {"domain", "config", "services", "wiring", "demo", "web", "site", "storage", "storage.protocols"},
    "__main__": {"cli"},
    "__init__": set(),
}
# Backends never lean on each other: each stands alone behind the protocols.
BACKENDS = ("storage.local", "storage.aws")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def imported(path: Path, source: str | None = None) -> Iterator[str]:
    """Every `gallery…` module the file imports (for `from gallery.x import y`, both `gallery.x` and `gallery.x.y`:
    y may be a module)."""
    this = module_name(path)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    tree = ast.parse(path.read_text() if source is None else source, str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.split(".")[0] == "gallery")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base.split(".")[0] != "gallery":
                continue
            if base != "gallery":  # `from gallery import imaging` imports imaging, not the package's root
                yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def layer_of(module: str) -> str:
    """The longest rule name that the module is, or is inside."""
    name = module.removeprefix("gallery").removeprefix(".") or "__init__"
    matches = [layer for layer in RULES if name == layer or name.startswith(layer + ".")]
    assert matches, f"{module} belongs to no layer: add it to RULES (and to docs/architecture.md)"
    return max(matches, key=len)


def existing(module: str) -> bool:
    relative = Path(*module.split("."))
    root = PACKAGE.parent
    return (root / relative).with_suffix(".py").is_file() or (root / relative / "__init__.py").is_file()


def violations(path: Path, source: str | None = None) -> list[str]:
    layer = layer_of(module_name(path))
    allowed = RULES[layer] | {layer}
    targets = {target for target in imported(path, source) if existing(target)}
    return sorted(f"{target} ({layer_of(target)})" for target in targets if layer_of(target) not in allowed)


@pytest.mark.parametrize("path", modules(), ids=lambda p: module_name(p))
def test_each_module_imports_only_the_layers_below_it(path: Path) -> None:
    layer = layer_of(module_name(path))
    wrong = violations(path)
    assert not wrong, f"{module_name(path)} ({layer}) may import {sorted(RULES[layer])} only, but imports {wrong}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_backend_never_imports_the_other(backend: str) -> None:
    (other,) = (b for b in BACKENDS if b != backend)
    root = PACKAGE / Path(*backend.split("."))
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    for path in files:
        crossing = [m for m in imported(path) if m == f"gallery.{other}" or m.startswith(f"gallery.{other}.")]
        assert not crossing, f"{module_name(path)} imports {crossing}"


@pytest.mark.parametrize("init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: module_name(p) or "gallery")
def test_a_package_imports_nothing_its_modules_may_not(init: Path) -> None:
    """Importing any module runs its packages' `__init__` first: what a package's `__init__` imports, every module
    inside it imports too (so `storage/__init__.py` holds no `open_storage`, or the services would load settings
    and backends by importing the protocols)."""
    inside = {layer_of(module_name(p)) for p in init.parent.rglob("*.py")}
    for target in (t for t in imported(init) if existing(t)):
        refused = sorted(layer for layer in inside if layer_of(target) not in RULES[layer] | {layer})
        assert not refused, f"{module_name(init)} imports {target}, which {refused} may not"


def test_the_import_graph_has_no_cycle() -> None:
    graph = {module_name(p): {m for m in imported(p) if existing(m)} - {module_name(p)} for p in modules()}
    # `from gallery.x import y` names the package `gallery.x` too; a package's own __init__ importing its
    # submodules is how packages work, not a cycle.
    for module, targets in graph.items():
        graph[module] = {t for t in targets if not module.startswith(t + ".")}
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            cycle = [*path[path.index(module) :], module]
            raise AssertionError("import cycle: " + " → ".join(cycle))
        if module in done:
            return
        for target in sorted(graph.get(module, ())):
            visit(target, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_the_rules_can_fail() -> None:
    """The check names a violation when there is one: a view that reaches for a backend, a domain module that
    leans on a service, a relative import that climbs out of its layer."""
    view = PACKAGE / "web" / "images.py"
    assert violations(view, "from gallery.storage.backends import open_storage\n") == [
        "gallery.storage.backends (storage)"
    ]
    rule = PACKAGE / "domain" / "model.py"
    assert violations(rule, "def f():\n    from gallery.services import images\n") == [
        "gallery.services (services)",
        "gallery.services.images (services)",
    ]
    assert violations(view, "from ..wiring import Gallery\n") == []
    assert violations(rule, "from ..wiring import Gallery\n") == ["gallery.wiring (wiring)"]


def documented_layout() -> set[str]:
    """The modules docs/architecture.md's layout names, as paths in the package: each name is read under the folder
    whose line it continues (`  site/ …` then its indented lines)."""
    text = (PACKAGE.parent / "docs" / "architecture.md").read_text()
    block = text[text.index("```\ngallery/\n") + len("```\ngallery/\n") :]
    block = block[: block.index("```")]
    named: set[str] = set()
    folder: list[str] = []
    for line in block.splitlines():
        if not line.startswith("  ") or line.startswith(("functions/", "zappa_", "deploy/")):
            break  # past the package
        head = re.match(r"( +)([a-z_]+)/ ", line)
        if head:
            depth = len(head.group(1)) // 2
            folder = [*folder[: depth - 1], head.group(2)]
        elif re.match(r"  [a-z_]+\.py ", line):
            folder = []
        named.update("/".join([*folder, name]) for name in re.findall(r"\b([a-z_]+\.py)\b", line))
    return named


def test_the_architecture_layout_names_every_module_and_only_those() -> None:
    """The layout in docs/architecture.md, held to the tree the import rule walks: a module added or moved must be
    described, and the layout names nothing that is not there."""
    tree = {p.relative_to(PACKAGE).as_posix() for p in modules() if p.name != "__init__.py"}
    named = {name for name in documented_layout() if not name.endswith("__init__.py")}
    assert sorted(tree - named) == [], "modules the layout does not describe"
    assert sorted(named - tree) == [], "the layout names modules that do not exist"
