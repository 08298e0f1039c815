"""tacebench: replicate and benchmark observational studies of TACE plus systemic therapy.

The Python front door. A session starts here::

    import tacebench

    study = tacebench.load_study("tace_sorafenib_ehs")        # a shipped id or a folder
    result = tacebench.replicate(study, reps=200, seed=1)    # what `tacebench replicate` prints
    print(result.render())
    cohorts = tacebench.simulate_cohorts("tace_regorafenib", n_cohorts=3, seed=1)
    run = tacebench.study.run("default", out="runs/default", n_jobs=2)

The four packages underneath are ``tacebench.simulate`` (cohorts from a published Table 1),
``tacebench.estimators`` (the numerical core), ``tacebench.replications`` (studies as data,
audit, verdicts) and ``tacebench.benchmarks`` (ADEMP studies, lessons); the Monte Carlo
engine all commands share is ``tacebench.engine`` (see ``docs/design.md``).
``tacebench.simulate`` being that subpackage, the function that draws cohorts is
``simulate_cohorts``.

The entry points are loaded on first use, so ``import tacebench.estimators`` does not pay
for the replication machinery.
"""
from __future__ import annotations

from importlib import import_module

__all__ = ["load_study", "replicate", "simulate_cohorts", "study"]

# name -> module that defines it (imported on first access, PEP 562)
_ENTRY_POINTS = {
    "load_study": "tacebench.api",
    "replicate": "tacebench.api",
    "simulate_cohorts": "tacebench.api",
    "study": "tacebench.study",
}


def __getattr__(name: str):
    module = _ENTRY_POINTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tacebench' has no attribute {name!r}")
    mod = import_module(module)
    return mod if name == "study" else getattr(mod, name)


def __dir__():
    # the public names and the submodules loaded so far, not this module's own imports
    return sorted({*__all__, *(name for name, value in globals().items()
                               if name.startswith("__")
                               or getattr(value, "__name__", "").startswith(f"{__name__}."))})
