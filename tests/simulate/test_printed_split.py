"""A row printed as mean ± SD *and* as a cut split: both fitted, the mean and SD within rounding."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from tacebench import simulate
from tacebench.simulate import SpecError, Variable
from tacebench.simulate.marginals import compile_marginals
from tacebench.simulate.pieces import fit_assumed_split
from tacebench.simulate.plan import compile_covariates, draw_covariates
from tacebench.simulate.printed_split import fit_printed_split, printed_half_unit
from tacebench.simulate.truncated import truncated_moments

# the issue's case: "Age, years 58.0 ± 10.0" with "Age > 60 years 50 (31.2) 40 (36.4)"
ARMS = {"TACE": {"mean": 58.0, "sd": 10.0, "counts": [110, 50]},
        "TACES": {"mean": 57.5, "sd": 9.8, "counts": [70, 40]}}
QUOTE = "Age, years\t58.0 ± 10.0\t57.5 ± 9.8\nAge > 60 years\t50 (31.2)\t40 (36.4)"
SIZES = {"TACE": 160, "TACES": 110}
HALF = 0.05
# the generating table is linear in the latent between grid points: its share below a cut
# differs from the printed one by at most this much (the bound of the exactness checks)
SPLIT_TOL = 5e-4


def _age(arms=ARMS, **kw) -> Variable:
    return Variable("age", "continuous", arms, cutpoints=kw.pop("cutpoints", (60,)), source=QUOTE, **kw)


def _cohort(arms=ARMS, **var):
    return simulate.spec_from_dict({"study": {"id": "s"}, "cohorts": {"main": {
        "arms": [{"label": "TACE", "n": 160}, {"label": "TACES", "n": 110, "treated": True}],
        "variables": [{"name": "age", "type": "continuous", "cutpoints": [60], "source": QUOTE,
                       "arms": arms, **var}]}}}).cohort()


@pytest.mark.slow
def test_the_exact_assumed_split_solve_misses_the_issue_case():
    """Before: the mean/SD with the split as an assumed one has no exact continuous fit."""
    v = Variable("age", "continuous", {"A": {"mean": 58.0, "sd": 10.0}},
                 assumed_split={"cutpoints": [60], "proportions": [110 / 160, 50 / 160], "rationale": "x"})
    with pytest.raises(SpecError, match="closest: mean 56"):
        fit_assumed_split(v, v.arms["A"], [110 / 160, 50 / 160], 160, "k")


def test_issue_case_fits_within_the_printed_rounding_and_the_split_exactly():
    m = compile_marginals(_age(), SIZES, "k")
    for lab, pub in ARMS.items():
        rep = m[lab].report
        # the moments of the generated map (not of the optimiser's closed forms)
        assert abs(rep["mean"][1] - pub["mean"]) <= HALF * 1.01
        assert abs(rep["sd"][1] - pub["sd"]) <= HALF * 1.01
        share = pub["counts"][0] / sum(pub["counts"])
        assert abs(rep["split"][1][0] - share) < SPLIT_TOL
        assert abs(stats.norm.cdf(np.interp(60.0, m[lab].table, np.linspace(-8, 8, len(m[lab].table))))
                   - share) < SPLIT_TOL


def test_a_smooth_solution_is_found_when_one_exists():
    """Printed moments of a normal whose split is the printed one: smooth, the moments exact."""
    d = stats.norm(57.5, 9.8)
    p = d.cdf(60.0)
    v = _age({"A": {"mean": 57.5, "sd": 9.8, "proportions": [p, 1 - p]}})
    _, rep = fit_printed_split(v, v.arms["A"], 100, "k", HALF, HALF)
    assert rep["smoothness"][1] < 1e-4
    assert abs(rep["mean"][1] - 57.5) < 1e-3 and abs(rep["sd"][1] - 9.8) < 1e-3


def test_monte_carlo_cohorts_keep_mean_sd_within_rounding_and_the_split():
    cp = compile_covariates(_cohort())
    sizes = cp.arm_n.astype(int) * 300
    arm, x, _, _ = draw_covariates(cp, np.random.default_rng(11), sizes)
    for a, (lab, pub) in enumerate(ARMS.items()):
        xa = x[arm == a, 0]
        n = len(xa)
        sd = xa.std()
        # 4 Monte Carlo SEs beyond the rounding (mean: s/sqrt(n); SD: sqrt((m4 - s^4) / (4 s^2 n)))
        assert abs(xa.mean() - pub["mean"]) <= HALF + 4 * sd / np.sqrt(n)
        se_sd = np.sqrt(max(np.mean((xa - xa.mean()) ** 4) - sd ** 4, 0.0) / (4 * sd ** 2 * n))
        assert abs(sd - pub["sd"]) <= HALF + 4 * se_sd
        share = pub["counts"][1] / sum(pub["counts"])
        assert abs(np.mean(xa >= 60) - share) <= SPLIT_TOL + 4 * np.sqrt(share * (1 - share) / n)


def _refusal(tace: dict, taces: dict, **bounds) -> str:
    with pytest.raises(SpecError) as e:
        compile_covariates(_cohort({"TACE": tace, "TACES": taces}, **bounds))
    return str(e.value)


def test_infeasible_mean_names_the_arm_and_what_the_split_allows():
    msg = _refusal({"mean": 70.0, "sd": 3.0, "counts": [110, 50]},
                   {"mean": 57.5, "sd": 3.0, "counts": [70, 40]}, lower=18, upper=80)
    assert "variables[0] (age).arms.TACE.mean" in msg and "allows a mean only in (31.125, 66.25)" in msg
    assert "printed 70 (± 0.05)" in msg


def test_infeasible_sd_gives_the_closest_reached():
    msg = _refusal({"mean": 60.0, "sd": 8.0, "counts": [80, 80]},
                   {"mean": 60.0, "sd": 2.0, "counts": [55, 55]}, lower=55, upper=65)
    assert "(age).arms.TACE" in msg and "no normal pieces" in msg and "closest mean" in msg
    assert "TACES" not in msg


@pytest.mark.parametrize("arms, match", [
    ({"TACE": {"mean": 58.0, "sd": 10.0, "counts": [110, 50]}, "TACES": {"counts": [70, 40]}},
     "give them for every arm"),
    ({"TACE": {"mean": 58.0, "counts": [110, 50]}, "TACES": {"mean": 57.0, "counts": [70, 40]}},
     "takes counts"),
    ({"TACE": {"median": 58.0, "sd": 9.0, "counts": [110, 50]},
      "TACES": {"median": 57.0, "sd": 9.0, "counts": [70, 40]}}, "takes counts"),
])
def test_incomplete_printed_moments_are_spec_errors(arms, match):
    with pytest.raises(SpecError, match=match):
        _age(arms)


def test_rounding_only_for_a_printed_split():
    with pytest.raises(SpecError, match="rounding"):
        Variable("x", "continuous", {"A": {"mean": 1.0, "sd": 1.0}}, rounding=0.1)
    with pytest.raises(SpecError, match="rounding"):
        _age(rounding=-1)
    assert _age(rounding=1).rounding == 1.0


def test_half_unit_comes_from_the_quote_then_the_key():
    assert printed_half_unit(58.0, QUOTE) == pytest.approx(0.05)
    assert printed_half_unit(58.0, "Age 58 ± 10") == pytest.approx(0.5)
    assert printed_half_unit(58.0, "Age 58 and 58.00") == pytest.approx(0.005)   # most decimals
    assert printed_half_unit(58.0, QUOTE, rounding=1) == pytest.approx(0.5)
    assert printed_half_unit(58.25) == pytest.approx(0.005)                      # no quote: the float


def test_closed_form_moments_match_scipy():
    for fam, theta, lo, hi, ref in [
            ("normal", (55.0, np.log(6.0)), None, 60.0, stats.truncnorm(-np.inf, 5 / 6, 55, 6)),
            ("lognormal", (4.0, np.log(0.3)), 60.0, None, None),
            ("gamma", (np.log(9.0), np.log(6.0)), 20.0, 60.0, None)]:
        log_mass, mean, second = truncated_moments(fam, theta, lo, hi)
        if ref is None:
            d = (stats.lognorm(s=0.3, scale=np.exp(4.0)) if fam == "lognormal" else stats.gamma(9.0, scale=6.0))
            a, b = lo or 0.0, hi or np.inf
            mass = d.cdf(b) - d.cdf(a)
            ref_mean = d.expect(lambda t: t, lb=a, ub=b) / mass
            ref_second = d.expect(lambda t: t * t, lb=a, ub=b) / mass
        else:
            mass, ref_mean, ref_second = stats.norm(55, 6).cdf(60.0), ref.mean(), ref.var() + ref.mean() ** 2
        assert np.exp(log_mass) == pytest.approx(mass, rel=1e-9)
        assert mean == pytest.approx(ref_mean, rel=1e-8)
        assert second == pytest.approx(ref_second, rel=1e-8)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mu=st.floats(40, 70), sigma=st.floats(5, 15), cut=st.floats(-1.0, 1.0),
       family=st.sampled_from(["normal", "lognormal"]))
def test_feasible_printed_rows_always_fit(mu, sigma, cut, family):
    """Rows printed from a real distribution (rounded to 0.1, the split as counts of 200)
    always fit: the mean and SD within rounding, the split exact."""
    if family == "normal":
        d = stats.norm(mu, sigma)
    else:
        s2 = np.log1p((sigma / mu) ** 2)
        d = stats.lognorm(s=np.sqrt(s2), scale=mu * np.exp(-s2 / 2))
    c = round(mu + cut * sigma)
    below = int(round(200 * d.cdf(c)))
    counts = [below, 200 - below]
    arms = {"A": {"mean": round(mu, 1), "sd": round(sigma, 1), "counts": counts}}
    v = Variable("x", "continuous", arms, cutpoints=(c,), distribution=family,
                 source=f"{round(mu, 1):.1f} ± {round(sigma, 1):.1f}")
    _, rep = fit_printed_split(v, v.arms["A"], 200, "k", HALF, HALF)
    assert abs(rep["mean"][1] - round(mu, 1)) <= HALF * 1.01
    assert abs(rep["sd"][1] - round(sigma, 1)) <= HALF * 1.01
    assert abs(rep["split"][1][0] - below / 200) < SPLIT_TOL


def test_the_published_table_lists_the_split_and_the_mean_and_sd():
    from tacebench.simulate.table import _published_rows

    rows = [r[:5] for r in _published_rows(_cohort()) if r[3] == "TACE"]
    assert rows == [("age", "< 60", "proportion", "TACE", 0.6875), ("age", ">= 60", "proportion", "TACE", 0.3125),
                    ("age", "", "mean", "TACE", 58.0), ("age", "", "sd", "TACE", 10.0)]

