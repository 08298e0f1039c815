"""A published mean (SD) combined with an explicitly assumed category split (AFP-like)."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tacebench import simulate
from tacebench.simulate import SpecError, Summary, Variable
from tacebench.simulate.marginals import Z_GRID, compile_marginals
from tacebench.simulate.plan import compile_covariates, draw_covariates

AFP = {"TACE": {"mean": 38568.7, "sd": 74259.5}, "TACES": {"mean": 39337.9, "sd": 79707.3}}
SPLIT = {"cutpoints": [400], "proportions": [0.45, 0.55], "rationale": "assumed for the test"}
_W = np.exp(-0.5 * Z_GRID ** 2) / np.exp(-0.5 * Z_GRID ** 2).sum()


def _afp(**kw) -> Variable:
    return Variable("afp", "continuous", kw.pop("arms", AFP), distribution=kw.pop("distribution", "lognormal"),
                    assumed_split=kw.pop("split", SPLIT), **kw)


def _piece_density(theta, lo, hi, share, x):
    """Independent reference: p_k times a lognormal(mu, sigma) truncated to [lo, hi)."""
    d = stats.lognorm(s=np.exp(theta[1]), scale=np.exp(theta[0]))
    return share * d.pdf(x) / (d.cdf(hi) - d.cdf(lo))


def test_fit_matches_published_mean_sd_split_and_is_continuous_at_the_cut():
    m = compile_marginals(_afp(), {"TACE": 294, "TACES": 129}, "k")
    for lab, pub in AFP.items():
        rep, tab = m[lab].report, m[lab].table
        assert abs(rep["mean"][1] / pub["mean"] - 1) < 1e-6 and abs(rep["sd"][1] / pub["sd"] - 1) < 1e-6
        # the generating table (what cohorts are drawn from) keeps the moments and the split
        mean = _W @ tab
        assert abs(mean / pub["mean"] - 1) < 2e-3
        assert abs(np.sqrt(_W @ tab ** 2 - mean ** 2) / pub["sd"] - 1) < 2e-3
        assert abs(_W[tab < 400].sum() - 0.45) < 2e-3
        lo_piece, hi_piece = rep["pieces"]
        assert lo_piece[1] == hi_piece[1]  # shared log-SD
        left = _piece_density(lo_piece, 0.0, 400.0, 0.45, 400.0)
        right = _piece_density(hi_piece, 400.0, np.inf, 0.55, 400.0)
        assert abs(np.log(left / right)) < 1e-5


def _afp_cohort(arms, split, sizes):
    """A two-arm cohort (control first) whose only variable is a lognormal AFP."""
    (c_lab, c_n), (t_lab, t_n) = sizes
    return simulate.spec_from_dict({"study": {"id": "s"}, "cohorts": {"main": {
        "arms": [{"label": c_lab, "n": c_n}, {"label": t_lab, "n": t_n, "treated": True}],
        "variables": [{"name": "afp", "type": "continuous", "distribution": "lognormal", "arms": arms,
                       "assumed_split": split}]}}}).cohort()


def test_cohort_sample_reproduces_targets_within_monte_carlo_error():
    cp = compile_covariates(_afp_cohort(AFP, SPLIT, (("TACE", 294), ("TACES", 129))))
    arm, x, ps, _ = draw_covariates(cp, np.random.default_rng(3), cp.arm_n.astype(int) * 400)
    for a, lab in enumerate(("TACE", "TACES")):
        xa = x[arm == a, 0]
        se = AFP[lab]["sd"] / np.sqrt(len(xa))
        assert abs(xa.mean() - AFP[lab]["mean"]) < 5 * se
        assert abs(np.mean(xa < 400) - 0.45) < 5 * np.sqrt(0.45 * 0.55 / len(xa))


def test_exact_propensity_with_arm_specific_assumed_splits():
    """Per-arm splits differ, so the arms' densities differ sharply around the cut.

    The generating density is each arm's tabulated quantile map (piecewise linear in the
    latent), so the true PS is exact for it: the fraction treated in PS bins must match.
    Where the tables resolve the densities (cells whose values change < 5%), the PS must
    also agree with pi_1 f_1 / sum_a pi_a f_a computed from the analytic two-piece
    densities (scipy lognormals); in the gap between the pieces one latent grid cell spans
    e.g. 30-3500 ng/mL and the table spreads that cell's ~0.2% of mass uniformly.
    """
    from .test_propensity import _calibration_in_bins

    arms = {"C": {"mean": 30000.0, "sd": 60000.0}, "T": {"mean": 45000.0, "sd": 80000.0}}
    split = {"cutpoints": [400], "arms": {"C": [0.6, 0.4], "T": [0.35, 0.65]}, "rationale": "test"}
    cp = compile_covariates(_afp_cohort(arms, split, (("C", 300), ("T", 200))))
    arm, x, ps, _ = draw_covariates(cp, np.random.default_rng(5), cp.arm_n.astype(int) * 100)
    assert np.all(np.abs(_calibration_in_bins(arm, ps, cp.treated_arm, bins=20)) < 4.0)
    xx = x[:, 0]
    f, resolved = [], np.ones(len(xx), bool)
    for a, (lab, shares) in enumerate((("C", (0.6, 0.4)), ("T", (0.35, 0.65)))):
        lo_p, hi_p = cp.report["marginals"]["afp"][lab]["pieces"]
        f.append(np.where(xx < 400, _piece_density(lo_p, 0.0, 400.0, shares[0], xx),
                          _piece_density(hi_p, 400.0, np.inf, shares[1], xx)))
        tab = cp.tabs[a].tables[0]
        j = np.clip(np.searchsorted(tab, xx) - 1, 0, len(tab) - 2)
        resolved &= tab[j + 1] / tab[j] < 1.05
    exact = 0.4 * f[1] / (0.4 * f[1] + 0.6 * f[0])
    err = np.abs(ps - exact)[resolved]
    assert resolved.mean() > 0.9
    assert np.median(err) < 1e-3 and err.max() < 0.03


def test_infeasible_combinations_raise_with_the_numbers():
    with pytest.raises(SpecError, match=r"arms\.TACE\.mean: .*allows a mean only in \(220, 33455\)"):
        compile_marginals(_afp(upper=60500), {"TACE": 294, "TACES": 129}, "variables[0] (afp)")
    albumin = Variable("albumin", "continuous", {"A": {"mean": 38.0, "sd": 5.0}},
                       assumed_split={"cutpoints": [35], "proportions": [0.9, 0.1], "rationale": "x"})
    with pytest.raises(SpecError, match=r"arms\.A: no normal pieces match mean 38 and SD 5 .*negative variance"):
        compile_marginals(albumin, {"A": 200}, "variables[0] (albumin)")


@pytest.mark.parametrize("kw,match", [
    ({"split": {"cutpoints": [400], "proportions": [0.45, 0.55]}}, r"assumed_split\.rationale"),
    ({"split": {"cutpoints": [400], "proportions": [0.3, 0.3, 0.4], "rationale": "x"}},
     r"assumed_split\.proportions: has 3 entries for 2 bins"),
    ({"split": {"cutpoints": [400], "proportions": [0.0, 1.0], "rationale": "x"}}, r"positive share"),
    ({"split": {"cutpoints": [400], "arms": {"TACE": [0.4, 0.6]}, "rationale": "x"}},
     r"assumed_split\.arms: without common proportions every arm"),
    ({"split": {"cutpoints": [400], "arms": {"X": [0.4, 0.6]}, "proportions": [0.5, 0.5], "rationale": "x"}},
     r"assumed_split\.arms\.X: unknown arm"),
    ({"split": {"cutpoints": [400], "proportions": [0.5, 0.5], "rationale": "x", "typo": 1}}, r"unknown key"),
    ({"split": {"cutpoints": [-1], "proportions": [0.5, 0.5], "rationale": "x"}}, r"inside the variable's bounds"),
    ({"arms": {"TACE": {"mean": 10.0, "sd": 5.0, "median": 8.0}, "TACES": {"mean": 10.0, "sd": 5.0}}},
     r"mean and sd only"),
])
def test_invalid_assumed_split_names_the_field(kw, match):
    with pytest.raises(SpecError, match=match):
        _afp(**kw)


def test_only_continuous_variables_take_an_assumed_split():
    with pytest.raises(SpecError, match="assumed_split: only a continuous"):
        Variable("b", "binary", {"A": {"p": 0.3}}, assumed_split=SPLIT)


def test_rationale_is_excluded_from_the_spec_hash_but_proportions_are_not():
    def spec(split):
        return _afp_cohort(AFP, split, (("TACE", 294), ("TACES", 129)))
    h = simulate.spec_hash(spec(SPLIT))
    assert simulate.spec_hash(spec({**SPLIT, "rationale": "reworded"})) == h
    assert simulate.spec_hash(spec({**SPLIT, "proportions": [0.5, 0.5]})) != h
    assert isinstance(spec(SPLIT).variables[0].arms["TACE"], Summary)
