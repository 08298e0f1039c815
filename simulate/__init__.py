"""Synthetic cohorts matching published baseline tables, with known true effects.

Public API::

    load_spec(study) -> StudySpec              # id, folder, cohort.toml path or dict
    compile_plan(spec, cohort=None, *, cache=<default>) -> SimulationPlan
                                               # fit + calibrate once; cache: PlanCache | None
    PlanCache(max_size=64, *, disk_dir=None)   # explicit plan cache (simulate.cache)
    generate_cohort(spec_or_plan, cohort=None, *, seed, with_ps=True) -> Cohort
    generate_cohorts(spec, n_cohorts, *, seed, cohort=None) -> list[Cohort]
    generate_cohort_batch(spec, seeds, *, cohort=None, with_ps=False) -> CohortBatch
                                               # R cohorts stacked (R, n), each = generate_cohort
    true_estimands(spec, cohort=None, ..., cache=<default>) -> TrueEstimands
    baseline_table(cohort, spec=None) -> BaselineTable
    compare_table(spec, n_cohorts=200, seed=0, cohort=None) -> TableComparison
    nearest_pd(matrix) ; correlation_matrix(spec, cohort=None)
"""
from .batch import CohortBatch, generate_cohort_batch
from .cache import (CacheFileWarning, LRUCache, PlanCache, default_plan_cache,
                    set_default_plan_cache)
from .cohort import Cohort, SimulationPlan, compile_plan, generate_cohort, generate_cohorts
from .correlation import nearest_pd
from .io import load_spec, spec_from_dict
from .studies import find_study
from .spec import (Arm, Correlation, Derived, MissingRule, SpecError, Summary, Unmeasured,
                   Variable)
from .spec_endpoints import ResponseColumn, TimeToProgression
from .spec_outcomes import (Assessment, CalibrationTarget, Censoring, Dist, Effect, Endpoint, EventTarget,
                            FollowupTarget, Response, TherapyInclusion, TimeVarying)
from .study import CohortSpec, StudySpec, spec_hash
from .table import baseline_table, compare_table
from .truth import TrueEstimands, true_estimands

__all__ = [
    "Arm", "Assessment", "CacheFileWarning", "CalibrationTarget", "Censoring", "Cohort", "CohortBatch", "CohortSpec", "Correlation", "Derived",
    "Dist", "Effect", "Endpoint", "EventTarget", "FollowupTarget", "LRUCache", "MissingRule", "PlanCache", "Response", "ResponseColumn", "SimulationPlan", "SpecError",
    "StudySpec", "Summary", "TherapyInclusion", "TimeToProgression", "TimeVarying", "TrueEstimands", "Unmeasured", "Variable", "baseline_table",
    "compare_table", "compile_plan", "default_plan_cache", "find_study", "generate_cohort", "generate_cohort_batch", "generate_cohorts",
    "load_spec", "nearest_pd", "spec_from_dict", "set_default_plan_cache", "spec_hash", "true_estimands",
]
