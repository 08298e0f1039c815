"""The dependency rule, enforced over every import statement of the installed sources.

simulate and estimators import neither each other nor anything above them; replications
and benchmarks use simulate, estimators and the engine but not each other; the engine is a
leaf; every package may import the records module (``tacebench.records``, the one
definition of a record's equality), which imports nothing of tacebench; only the front
door (``tacebench``, ``tacebench.api``, ``tacebench.study``, ``tacebench.cli``) may import
everything. Imports inside functions count. There are no
import cycles, and nothing imports the folders under their bare names. Outside
estimators, nothing uses a name starting with ``_`` from it (the kernel contract).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .import_graph import (ROOT, Edge, PACKAGE_DIRS, _resolve_relative, cycles, import_edges,
                           internal_target, module_files, module_graph)

#: layer -> the layers its modules may import (a layer always may import itself)
ALLOWED: dict[str, set[str]] = {
    "tacebench.records": set(),
    "tacebench.simulate": {"tacebench.records"},
    "tacebench.estimators": {"tacebench.records"},
    "tacebench.engine": {"tacebench.records"},
    "tacebench.replications": {"tacebench.simulate", "tacebench.estimators", "tacebench.engine",
                               "tacebench.records"},
    "tacebench.benchmarks": {"tacebench.simulate", "tacebench.estimators", "tacebench.engine",
                             "tacebench.records"},
}
BARE = {folder for folder in PACKAGE_DIRS if folder != "tacebench"}


def layer(module: str) -> str:
    """The layer of a module: its package among :data:`ALLOWED`, else the front door."""
    for name in ALLOWED:
        if module == name or module.startswith(name + "."):
            return name
    return "tacebench"


def violations(edges: list[Edge], modules: set[str]) -> list[str]:
    out = []
    for e in edges:
        root = e.target.split(".", 1)[0]
        if root in BARE:
            out.append(f"{e}: import tacebench.{e.target}, not the folder's bare name")
            continue
        target = internal_target(e, modules) or (e.target if e.target.startswith("tacebench")
                                                 else None)
        if target is None:
            continue
        src, dst = layer(e.source), layer(target)
        if src == "tacebench" or src == dst:
            continue
        if dst not in ALLOWED[src]:
            out.append(f"{e}: {src} may import only {sorted(ALLOWED[src]) or 'itself'}")
    return out


def test_no_forbidden_import():
    edges = import_edges()
    bad = violations(edges, set(module_files()))
    assert bad == [], "forbidden imports:\n" + "\n".join(bad)


def test_no_import_cycles():
    assert cycles(module_graph()) == []


@pytest.mark.parametrize("source,target,name", [
    ("tacebench.simulate.cohort", "tacebench.estimators.weights", "iptw_weights"),
    ("tacebench.estimators.weights", "tacebench.simulate", "generate_cohort"),
    ("tacebench.replications.reproduce", "tacebench.benchmarks.runner", "run_study"),
    ("tacebench.benchmarks.runner", "tacebench.replications.report", "render"),
    ("tacebench.estimators.survival.km", "tacebench.api", "replicate"),
    ("tacebench.replications.check", "simulate.io", "load_spec"),
    ("tacebench.records", "tacebench.engine.run", "ChunkResult"),
])
def test_the_rule_catches_a_forbidden_import(source, target, name):
    """The checker is able to fail: each of these edges, added to the real ones, is caught."""
    modules = set(module_files())
    edge = Edge(source, target, name, "added.py", 1, in_function=True)
    assert violations([edge], modules), f"{edge} was not flagged"


def test_a_cycle_is_caught():
    graph = module_graph()
    graph["tacebench.simulate.spec"].add("tacebench.simulate.cohort")
    assert cycles(graph)


def test_every_module_is_in_a_known_layer():
    stray = [m for m in module_files() if not m.startswith("tacebench")]
    assert stray == []


# ------------------------------------------- the kernel contract: no private estimators names

ESTIMATORS = "tacebench.estimators"
#: files outside estimators that are verbatim copies of an estimators module (kept as a
#: reference for an equivalence test) and so use what that module used
FROZEN_COPIES = {"tests/estimators/_design_previous.py"}


def _is_estimators(dotted: str) -> bool:
    return dotted == ESTIMATORS or dotted.startswith(ESTIMATORS + ".")


def _private_module(dotted: str) -> bool:
    """A private module of estimators (``tacebench.estimators.survival._ci``)."""
    return any(part.startswith("_") and not part.startswith("__")
               for part in dotted[len(ESTIMATORS):].split(".") if part)


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def private_estimator_uses(source: str, module: str, is_package: bool, file: str) -> list[str]:
    """Every use of a private estimators name in ``source`` (a module outside estimators):
    ``from tacebench.estimators.m import _f``, an import of a private module
    (``survival._ci``), and ``alias._f`` where ``alias`` is bound to an estimators module or
    object by an import (``from tacebench.estimators import propensity as p; p._f``,
    ``import tacebench.estimators.weights as w; w._f``, ``tacebench.estimators.x._f``).
    Imports inside functions count."""
    tree = ast.parse(source, filename=file)
    aliases: dict[str, str] = {}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            target = (_resolve_relative(module, is_package, node.level, node.module)
                      if node.level else node.module or "")
            if not _is_estimators(target):
                continue
            if _private_module(target):
                out.append(f"{file}:{node.lineno}: imports from private module {target}")
            for alias in node.names:
                if _private(alias.name):
                    out.append(f"{file}:{node.lineno}: imports {target}.{alias.name}")
                else:
                    aliases[alias.asname or alias.name] = f"{target}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if not _is_estimators(alias.name):
                    continue
                if _private_module(alias.name):
                    out.append(f"{file}:{node.lineno}: imports private module {alias.name}")
                if alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr):
            base = _dotted(node.value)
            if base is None:
                continue
            head, _, rest = base.partition(".")
            full = aliases.get(head, head if head == "tacebench" else None)
            if full is None:
                continue
            full = ".".join(p for p in (full, rest) if p)
            if _is_estimators(full):
                out.append(f"{file}:{node.lineno}: uses {full}.{node.attr}")
    return out


def _files_outside_estimators() -> list[tuple[str, Path, bool]]:
    """(module name, path, is package) of every installed module outside estimators, the
    speed benchmarks (run from a checkout) and the tests."""
    out = [(m, p, p.name == "__init__.py") for m, p in module_files().items()
           if not _is_estimators(m)]
    for folder in ("benchmarks/speed", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            out.append((".".join(parts), path, is_package))
    return out


def test_no_private_estimators_name_outside_estimators():
    """The kernel contract: code outside estimators uses only its public names (the
    trusted-input kernels are public, in ``estimators.kernels``)."""
    bad = []
    for module, path, is_package in _files_outside_estimators():
        if path.relative_to(ROOT).as_posix() in FROZEN_COPIES:
            continue
        bad += private_estimator_uses(path.read_text(encoding="utf-8"), module, is_package,
                                      path.relative_to(ROOT).as_posix())
    assert bad == [], "private estimators names used outside estimators:\n" + "\n".join(bad)


@pytest.mark.parametrize("source", [
    "from tacebench.estimators.propensity import _fit_logistic",
    "from tacebench.estimators.propensity import fit_logistic, _loglik",
    "def f():\n    from tacebench.estimators.weights import _iptw_weights as w\n",
    "from tacebench.estimators.survival._ci import first_crossing",
    "import tacebench.estimators.survival._cox_kernel",
    "from tacebench.estimators import propensity as p\np._separated(1, 2, 3)",
    "from tacebench.estimators import smd\nx = smd._yang_dalton",
    "import tacebench.estimators.weights as w\nw._percentiles(1, 2, 3)",
    "import tacebench.estimators.survival.cox\ntacebench.estimators.survival.cox._fit_cox()",
    "from tacebench.estimators.survival import km\nkm._fit_km(1, 2, 3)",
    "from tacebench.estimators.kernels import fit_logistic\nfit_logistic._private",
])
def test_the_private_name_rule_catches_a_use(source):
    """The checker is able to fail: each of these sources, outside estimators, is caught."""
    assert private_estimator_uses(source, "tacebench.replications.added", False, "added.py")


@pytest.mark.parametrize("source", [
    "from tacebench.estimators.kernels import fit_logistic, fit_cox",
    "from tacebench.estimators import kernels as _k\n_k.fit_cox()",
    "from tacebench.estimators import batch\nbatch.__all__",
    "from tacebench.replications import x\nx._private()",
])
def test_the_private_name_rule_allows_public_uses(source):
    assert private_estimator_uses(source, "tacebench.replications.added", False,
                                  "added.py") == []


def test_estimators_itself_may_use_its_private_names():
    """Relative imports inside estimators resolve to estimators and are not checked."""
    modules = [m for m, *_ in _files_outside_estimators()]
    assert not any(_is_estimators(m) for m in modules)
    assert "tacebench.replications.analysis.kernels" in modules
    assert any(m.startswith("tests.estimators") for m in modules)
