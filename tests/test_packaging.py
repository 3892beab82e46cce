"""What the package declares against what it imports: every third-party module `gallery` imports (at the top or
inside a function) comes from a distribution its dependencies or extras name, so a fresh install never meets an
ImportError that the developer's environment hid."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class _Imports(ast.NodeVisitor):
    """Imports that run: those under `if TYPE_CHECKING:` are for the type checker alone (stubs, a dev need)."""

    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found.update(alias.name.split(".")[0] for alias in node.names)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self.found.add(node.module.split(".")[0])


def _top_level_imports() -> set[str]:
    visitor = _Imports()
    for path in (ROOT / "gallery").rglob("*.py"):
        visitor.visit(ast.parse(path.read_text(), str(path)))
    return visitor.found - set(sys.stdlib_module_names) - {"gallery", "__future__"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["aws"]]
    requirements += project["optional-dependencies"]["site"]
    return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requirements}


def test_every_imported_distribution_is_declared() -> None:
    distributions = packages_distributions()
    missing = {}
    for module in sorted(_top_level_imports()):
        names = {name.lower().replace("_", "-") for name in distributions.get(module, [module])}
        if not names & _declared():
            missing[module] = sorted(names)
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"


def test_mkdocs_is_held_below_2() -> None:
    """MkDocs 2.0 is announced without plugins; the gallery is one."""
    site = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["site"]
    assert any(r.replace(" ", "").startswith("mkdocs>=1.6,<2") for r in site)


def test_the_licence_the_metadata_names_is_in_the_repository() -> None:
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == {"text": "Apache-2.0"}
    assert "Apache License" in (ROOT / "LICENSE").read_text()[:200]
    assert "Version 2.0, January 2004" in (ROOT / "LICENSE").read_text()[:400]
