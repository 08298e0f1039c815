"""Monte Carlo estimator comparisons (ADEMP) and speed benchmarks.

Main entry points::

    load_study(name_or_toml, seed=None, reps=None) -> Study
    load_checked_study(name_or_toml, ...) -> Study   # and what its generators need
    run_study(study, out, reps=None, n_jobs=1, backend=None, scheduler=None,
              chunk_size=None, resume=False) -> RunReport
    load_results(out) -> (results, truths)
    performance_table(results, truths) -> tidy DataFrame of measures with MCSEs
    performance_measures(estimate, se, truth, ...) -> PerformanceResult
    n_sim_required(measure, target_mcse, ...) -> int
"""
from .dgm import load_checked_study
from .measures import n_sim_required, performance_measures, relative_precision
from .runner import load_results, run_study
from .study import load_study
from .summary import performance_table

__all__ = ["load_checked_study", "load_results", "load_study", "n_sim_required", "performance_measures",
           "performance_table", "relative_precision", "run_study"]
