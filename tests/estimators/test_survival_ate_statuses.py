"""Each estimator's own status in the survival ATE and RMST kernels: an estimator whose
working models are estimates is computed, to the last bit as when asked alone, though
another estimator of the same call needs a model that is not; the overall status and the
public functions' error are as before."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators import survival_ate, survival_rmst
from tacebench.estimators.kernels import survival_ate_kernel, survival_rmst_kernel
from tacebench.estimators.status import Estimability

ALL = ("gformula", "iptw", "aiptw")


def _data(kind: str, seed: int = 3, n: int = 80):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    z = (rng.uniform(size=n) < 0.5).astype(float)
    t = rng.exponential(10, n)
    e = (rng.uniform(size=n) < 0.7).astype(float)
    if kind == "separated":      # the treatment model separates
        z = (x > 0).astype(float)
    elif kind == "outcome_monotone":     # no events among the treated
        e[z == 1] = 0.0
    elif kind == "censoring_monotone":   # nobody censored among the treated
        e[z == 1] = 1.0
    X = x[:, None]
    return t, e, z, X, X, np.column_stack([z, X])


# the status each estimator should get, in the order of ALL, and the overall one (the first
# failing model among outcome, treatment, censoring)
CASES = {
    "separated": ((Estimability.OK, Estimability.SEPARATED, Estimability.SEPARATED),
                  Estimability.SEPARATED),
    "outcome_monotone": ((Estimability.MONOTONE_LIKELIHOOD, Estimability.OK,
                          Estimability.MONOTONE_LIKELIHOOD), Estimability.MONOTONE_LIKELIHOOD),
    "censoring_monotone": ((Estimability.OK, Estimability.MONOTONE_LIKELIHOOD,
                            Estimability.MONOTONE_LIKELIHOOD),
                           Estimability.MONOTONE_LIKELIHOOD),
}


def _same(a, b) -> bool:
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("kind", [*CASES, "plain"])
@pytest.mark.parametrize("kernel, horizons", [(survival_ate_kernel, [4.0, 8.0]),
                                              (survival_rmst_kernel, [4.0, 8.0, 12.0])])
def test_each_estimator_has_its_own_status(kind, kernel, horizons):
    args = (*_data(kind), np.array(horizons))
    res = kernel(*args, ALL)
    want, overall = CASES.get(kind, ((Estimability.OK,) * 3, Estimability.OK))
    assert res.statuses == want and res.status is overall
    value = res.risk if kernel is survival_ate_kernel else res.rmst
    for e, name in enumerate(ALL):
        alone = kernel(*args, (name,))
        assert alone.statuses == (want[e],)
        alone_value = alone.risk if kernel is survival_ate_kernel else alone.rmst
        # computed as when asked alone (every number), or NaN when not estimable
        assert _same(value[e], alone_value[0]) and _same(res.iid[e], alone.iid[0])
        assert _same(res.se[e], alone.se[0]) and _same(res.difference[e], alone.difference[0])
        assert np.isnan(value[e]).all() != want[e].ok


@pytest.mark.parametrize("kind", CASES)
@pytest.mark.parametrize("public", [survival_ate, survival_rmst])
def test_public_functions_raise_on_the_overall_status(kind, public):
    t, e, z, X, _, _ = _data(kind)
    with pytest.raises(ValueError, match="not estimable"):
        public(t, e, z, X, horizons=[4.0, 8.0], estimators=ALL)


def test_no_event_before_the_horizons_all_ok():
    t, e, z, X, Xt, Xc = _data("plain")
    res = survival_rmst_kernel(t, e, z, X, Xt, Xc, np.array([min(t[e == 1]) / 2]), ALL)
    assert res.statuses == (Estimability.OK,) * 3 and res.status.ok
