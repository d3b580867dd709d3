"""The import graph keeps its shape: layers run one way, private modules stay private, no cycles.

Layers, lowest first (docs/ARCHITECTURE.md): ``features`` < ``wellbeing`` < ``ranking`` <
``flows``, ``bench``. A module may import its own layer and the layers below it. Every import
counts here: module level, inside functions, and under ``TYPE_CHECKING``. Each failure names the
file, the line and the import, so the fix is to move the code, not to hide the import.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("features", "wellbeing", "ranking", "flows", "bench")
LAYER = {"features": 0, "wellbeing": 1, "ranking": 2, "flows": 3, "bench": 3}
LAYER_NAMES = ("features", "wellbeing", "ranking", "flows/bench")

# (importer prefix, imported prefix, why): folder rules inside a layer.
FORBIDDEN = (
    ("ranking.feed", "ranking.service",
     "the feed pipeline is a library the HTTP service calls, never the other way"),
    ("features", "features.simulator",
     "the simulator writes contract data directories; the data contract does not depend on it"),
    ("wellbeing", "features.simulator", "the simulator is a tool, not a library dependency"),
    ("ranking", "features.simulator", "the simulator is a tool, not a library dependency"),
)

# Imports left out of the deferred-import cycle check, as (importer, imported). Keep it empty.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()


@dataclass(frozen=True)
class Import:
    importer: str  # module name
    path: Path
    line: int
    target: str  # the module imported (a submodule when ``from pkg import submodule``)
    top_level: bool  # runs at import time (not in a function, not under TYPE_CHECKING)

    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: imports {self.target}"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _from_target(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _imports(module: str, path: Path) -> list[Import]:
    out: list[Import] = []

    def add(node: ast.Import | ast.ImportFrom, top: bool) -> None:
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        else:
            base = _from_target(module, path, node)
            # ``from pkg import sub`` imports the submodule; ``from mod import name`` the module.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                       for a in node.names]
        for t in dict.fromkeys(targets):
            if t.split(".")[0] in PACKAGES:
                out.append(Import(module, path, node.lineno, t, top))

    def visit(stmts: list[ast.stmt], top: bool) -> None:
        for s in stmts:
            if isinstance(s, ast.Import | ast.ImportFrom):
                add(s, top)
            elif isinstance(s, ast.If) and _is_type_checking(s.test):
                visit(s.body, False)
                visit(s.orelse, top)
            elif isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(s.body, False)
            else:  # if/try/with/for/class bodies run when the module is imported
                for child in ast.iter_child_nodes(s):
                    if isinstance(child, ast.stmt):
                        visit([child], top)
                    elif isinstance(child, ast.ExceptHandler | ast.match_case):
                        visit(child.body, top)

    visit(ast.parse(path.read_text(), str(path)).body, True)
    return out


IMPORTS = [i for m, p in MODULES.items() for i in _imports(m, p)]


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_the_scan_sees_the_packages():
    # Guards the test itself: an empty scan would pass every check below.
    assert {m.split(".")[0] for m in MODULES} == set(PACKAGES)
    assert len(IMPORTS) > 300


def test_layers_import_only_downwards():
    bad = []
    for i in IMPORTS:
        src, dst = LAYER[i.importer.split(".")[0]], LAYER[i.target.split(".")[0]]
        if dst > src:
            bad.append(f"{i.where()} ({LAYER_NAMES[src]} may not import {LAYER_NAMES[dst]})")
    assert not bad, "layers run features < wellbeing < ranking < flows/bench:\n" + "\n".join(bad)


@pytest.mark.parametrize(("importer", "imported", "why"), FORBIDDEN)
def test_forbidden_folder_imports(importer: str, imported: str, why: str):
    bad = [i.where() for i in IMPORTS
           if _within(i.importer, importer) and _within(i.target, imported)
           and not _within(i.importer, imported)]
    assert not bad, f"{importer} must not import {imported} ({why}):\n" + "\n".join(bad)


def _private_owner(target: str) -> str | None:
    """The package a private module belongs to (``a.b`` for ``a.b._c``), or None if public."""
    parts = target.split(".")
    for k, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:k])
    return None


def test_private_modules_are_imported_only_inside_their_package():
    # ``pkg/_x.py`` belongs to ``pkg/`` (and its subfolders); any other folder imports the
    # public name, which ``pkg/__init__.py`` re-exports or a public module holds.
    bad = []
    for i in IMPORTS:
        owner = _private_owner(i.target)
        if owner is not None and not _within(i.importer, owner):
            bad.append(f"{i.where()} (private to {owner.replace('.', '/')}/)")
    assert not bad, "a _private module imported from another folder:\n" + "\n".join(bad)


def _cycle_in(component: set[str], graph: dict[str, dict[str, Import]]) -> list[Import]:
    """One concrete cycle through a strongly connected component, as the imports that form it."""
    start = min(component)
    parent: dict[str, Import] = {}
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        for dst, imp in sorted(graph[node].items()):
            if dst == start:
                path, cur = [imp], node
                while cur != start:
                    path.append(parent[cur])
                    cur = parent[cur].importer
                return path[::-1]
            if dst in component and dst not in seen:
                seen.add(dst)
                parent[dst] = imp
                stack.append(dst)
    return []


def _components(graph: dict[str, dict[str, Import]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    out: list[set[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = set()
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    comp.add(m)
                    if m == node:
                        break
                if len(comp) > 1 or node in graph[node]:
                    out.append(comp)
    return out


def _cycles(edges: list[Import]) -> str:
    graph: dict[str, dict[str, Import]] = {m: {} for m in MODULES}
    for i in edges:
        if i.target in MODULES:
            graph[i.importer].setdefault(i.target, i)
    report = []
    for comp in _components(graph):
        path = _cycle_in(comp, graph)
        report.append(" -> ".join([path[0].importer, *(i.target for i in path)]) + "\n"
                      + "\n".join(f"    {i.where()}" for i in path))
    return "\n".join(report)


def test_no_import_cycles_at_module_level():
    cycles = _cycles([i for i in IMPORTS if i.top_level])
    assert not cycles, "module-level import cycles:\n" + cycles


def test_no_import_cycles_counting_deferred_imports():
    # A circle hidden in a function or under TYPE_CHECKING is still two modules that need each
    # other: one of them holds something the other should own, or should take as a parameter.
    cycles = _cycles([i for i in IMPORTS if (i.importer, i.target) not in KNOWN_CYCLE_EDGES])
    assert not cycles, "import cycles through function-level or TYPE_CHECKING imports:\n" + cycles
