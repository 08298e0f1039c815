"""CompiledAnalysis.subset: the analysed population, computed once per replicate cache and
shared by the analysis's reruns (it draws nothing), the same rows as computed afresh."""
import numpy as np

from tests.replications.test_analysis_estimates import cohort  # noqa: F401
from tests.replications.plans import compiled_plan
from tests.replications.test_km_prefit import PLAN


def test_subset_is_kept_in_the_replicate_cache(cohort):  # noqa: F811
    plan, compiled = compiled_plan(cohort, PLAN)
    ca, other = compiled["lm6"], compiled["crude"]
    cache: dict = {}
    first = ca.subset(cohort.columns, cache)
    assert ca.subset(cohort.columns, cache) is first           # not computed again
    np.testing.assert_array_equal(first.index, ca.population(cohort.columns).index)
    assert first.landmark == ("os", 6.0)
    assert other.subset(cohort.columns, cache).index.size > first.index.size  # its own
    assert ca.subset(cohort.columns) is not first               # no cache: afresh
