"""No import cycles inside `perception/`, counting every import statement (issue 27).

Imports inside functions count: a lazy import still ties two modules together, and a cycle through
one only waits for the call that closes it. `typing.TYPE_CHECKING` blocks count too (there are
none today; a cycle that only type checkers see is still a design knot).

Edges, for an import written in module M:
- the module the statement names: ``import perception.a.b`` and ``from perception.a import b``
  (when ``b`` is a module) give ``perception.a.b``; ``from perception.a import name`` gives
  ``perception.a``;
- the packages above that module whose ``__init__`` the import runs: ``perception.a`` for
  ``perception.a.b``, unless the package is above M itself (Python has started it before M).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "perception"


def module_names(root: Path, package: str) -> dict[str, Path]:
    """Dotted name → file for every ``.py`` under ``root / package``."""
    names = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names[".".join(parts)] = path
    return names


def _ancestors(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _written(tree: ast.AST, importer: str, is_package: bool, modules: set[str]) -> set[str]:
    """The modules the import statements in ``tree`` name literally (all depths)."""
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, importer, is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.add(sub if sub in modules else base)
    return {t for t in targets if t in modules}


def import_graph(root: Path, package: str) -> dict[str, set[str]]:
    """Module → the package's modules it imports (literal targets plus the ``__init__`` files
    those imports run)."""
    files = module_names(root, package)
    modules = set(files)
    graph = {}
    for name, path in files.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        written = _written(tree, name, is_package, modules)
        own = set(_ancestors(name)) | ({name} if is_package else set())
        implied = {a for t in written for a in _ancestors(t) if a in modules and a not in own}
        graph[name] = written | implied
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module, plus self-imports (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _describe(component: list[str], graph: dict[str, set[str]]) -> str:
    members = set(component)
    edges = [f"    {a} -> {b}" for a in component for b in sorted(graph[a] & members)]
    return f"{len(component)} modules:\n" + "\n".join(edges)


def test_perception_has_no_import_cycles():
    graph = import_graph(ROOT, PACKAGE)
    found = cycles(graph)
    assert not found, "import cycles in perception/ (edges inside each cycle):\n" + "\n".join(
        _describe(c, graph) for c in found
    )


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a lazy import inside a function closes a cycle
        (
            {
                "p/__init__.py": "",
                "p/a.py": "import p.b\n",
                "p/b.py": "def f():\n    import p.a\n",
            },
            [["p.a", "p.b"]],
        ),
        # relative imports, and `from package import module`
        (
            {"p/__init__.py": "", "p/a.py": "from . import b\n", "p/b.py": "from .a import x\n"},
            [["p.a", "p.b"]],
        ),
        # importing p.q.b runs p/q/__init__.py, which imports p.a back
        (
            {
                "p/__init__.py": "",
                "p/a.py": "from p.q.b import x\n",
                "p/q/__init__.py": "from p.a import y\n",
                "p/q/b.py": "",
            },
            [["p.a", "p.q"]],
        ),
        # a package re-exporting its own submodules is not a cycle
        (
            {
                "p/__init__.py": "from p.a import x\n",
                "p/a.py": "from p.b import y\n",
                "p/b.py": "",
            },
            [],
        ),
        (
            {"p/__init__.py": "", "p/a.py": "import p.a\n"},
            [["p.a"]],
        ),
    ],
)
def test_cycle_finder(tmp_path, files, expected):
    _write(tmp_path, files)
    assert cycles(import_graph(tmp_path, "p")) == expected
