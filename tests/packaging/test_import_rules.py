"""The dependency rule, enforced over every import statement of the installed sources.

simulate and estimators import neither each other nor anything above them; replications
and benchmarks use simulate, estimators and the engine but not each other; the engine is a
leaf; only the front door (``tacebench``, ``tacebench.api``, ``tacebench.study``,
``tacebench.cli``) may import everything. Imports inside functions count. There are no
import cycles, and nothing imports the folders under their bare names.
"""
from __future__ import annotations

import pytest

from .import_graph import Edge, PACKAGE_DIRS, cycles, import_edges, internal_target, module_files, module_graph

#: layer -> the layers its modules may import (a layer always may import itself)
ALLOWED: dict[str, set[str]] = {
    "tacebench.simulate": set(),
    "tacebench.estimators": set(),
    "tacebench.engine": set(),
    "tacebench.replications": {"tacebench.simulate", "tacebench.estimators", "tacebench.engine"},
    "tacebench.benchmarks": {"tacebench.simulate", "tacebench.estimators", "tacebench.engine"},
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
