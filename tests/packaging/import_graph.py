"""The import graph of the tacebench sources, read with ``ast`` (nothing is imported).

Every ``import`` statement counts, at module level or inside a function, class or
``if TYPE_CHECKING`` block: a lazy import is still a dependency.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: source folder -> the module name it installs as (pyproject.toml's package-dir)
PACKAGE_DIRS = {
    "tacebench": "tacebench",
    "simulate": "tacebench.simulate",
    "estimators": "tacebench.estimators",
    "replications": "tacebench.replications",
    "benchmarks": "tacebench.benchmarks",
}
#: folders that are run from a checkout and not installed
NOT_INSTALLED = ("benchmarks/speed",)


@dataclass(frozen=True)
class Edge:
    source: str        # importing module
    target: str        # imported module (or module.name for ``from m import name``)
    name: str | None   # the imported name for ``from m import name``
    file: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        what = f"{self.target}.{self.name}" if self.name else self.target
        where = " (inside a function)" if self.in_function else ""
        return f"{self.file}:{self.line}: {self.source} imports {what}{where}"


def module_files() -> dict[str, Path]:
    """Installed module name -> source file, for every module of the five folders."""
    out: dict[str, Path] = {}
    for folder, prefix in PACKAGE_DIRS.items():
        base = ROOT / folder
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if any(rel.startswith(p + "/") for p in NOT_INSTALLED):
                continue
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join([prefix, *parts])] = path
    return out


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


class _Visitor(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, file: str):
        self.module, self.is_package, self.file = module, is_package, file
        self.depth = 0
        self.edges: list[Edge] = []

    def _scoped(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scoped

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.edges.append(Edge(self.module, alias.name, None, self.file, node.lineno,
                                   self.depth > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = (_resolve_relative(self.module, self.is_package, node.level, node.module)
                  if node.level else node.module or "")
        for alias in node.names:
            self.edges.append(Edge(self.module, target, alias.name, self.file, node.lineno,
                                   self.depth > 0))


def import_edges() -> list[Edge]:
    edges: list[Edge] = []
    for module, path in module_files().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        v = _Visitor(module, path.name == "__init__.py", path.relative_to(ROOT).as_posix())
        v.visit(tree)
        edges.extend(v.edges)
    return edges


def internal_target(edge: Edge, modules: set[str]) -> str | None:
    """The tacebench module an edge depends on (``from pkg import submodule`` -> submodule)."""
    if edge.name and f"{edge.target}.{edge.name}" in modules:
        return f"{edge.target}.{edge.name}"
    return edge.target if edge.target in modules else None


def module_graph(edges: list[Edge] | None = None) -> dict[str, set[str]]:
    """Module -> the tacebench modules it imports (package ``__init__`` included)."""
    modules = set(module_files())
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for e in edges if edges is not None else import_edges():
        t = internal_target(e, modules)
        if t is not None and t != e.source:
            graph[e.source].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    import sys
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in sorted(graph):
            if v not in index:
                strong(v)
    finally:
        sys.setrecursionlimit(limit)
    return out
