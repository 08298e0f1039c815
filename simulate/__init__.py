"""Synthetic cohorts matching published baseline tables, with known true effects.

Public API::

    load_spec(study) -> StudySpec              # id, folder, cohort.toml path or dict
    compile_plan(spec, cohort=None) -> SimulationPlan   # fit + calibrate once (cached)
    generate_cohort(spec_or_plan, cohort=None, *, seed, with_ps=True) -> Cohort
    generate_cohorts(spec, n_cohorts, *, seed, cohort=None) -> list[Cohort]
    generate_cohort_batch(spec, seeds, *, cohort=None, with_ps=False) -> CohortBatch
                                               # R cohorts stacked (R, n), each = generate_cohort
    true_estimands(spec, cohort=None, ...) -> TrueEstimands
    baseline_table(cohort, spec=None) -> BaselineTable
    compare_table(spec, n_cohorts=200, seed=0, cohort=None) -> TableComparison
    nearest_pd(matrix) ; correlation_matrix(spec, cohort=None)
"""
from .batch import CohortBatch, generate_cohort_batch
from .cohort import Cohort, SimulationPlan, compile_plan, generate_cohort, generate_cohorts
from .correlation import nearest_pd
from .io import load_spec, spec_from_dict
from .studies import find_study
from .spec import (Arm, Correlation, Derived, MissingRule, SpecError, Summary, Unmeasured,
                   Variable)
from .spec_outcomes import (CalibrationTarget, Censoring, Dist, Effect, Endpoint, EventTarget,
                            Response, TimeVarying)
from .study import CohortSpec, StudySpec, spec_hash
from .table import baseline_table, compare_table
from .truth import TrueEstimands, true_estimands

__all__ = [
    "Arm", "CalibrationTarget", "Censoring", "Cohort", "CohortBatch", "CohortSpec", "Correlation", "Derived",
    "Dist", "Effect", "Endpoint", "EventTarget", "MissingRule", "Response", "SimulationPlan", "SpecError",
    "StudySpec", "Summary", "TimeVarying", "TrueEstimands", "Unmeasured", "Variable", "baseline_table",
    "compare_table", "compile_plan", "find_study", "generate_cohort", "generate_cohort_batch", "generate_cohorts",
    "load_spec", "nearest_pd", "spec_from_dict", "spec_hash", "true_estimands",
]
