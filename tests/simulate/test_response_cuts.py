"""Response thresholds are the exact quantiles of the latent where the model gives its law.

Without covariate effects, and with assessment missing completely at random within an
arm, a column's latent is standard normal among the assessed, and a later assessment's
latent among the patients not carried is bivariate normal with the followed column's: the
model's level shares (computed here from the normal and bivariate normal CDFs,
independently of the calibration's quadrature) equal the published ones to numerical
precision, not to the calibration sample's Monte Carlo error (about 0.3 points).
"""
from __future__ import annotations

import tomllib

import numpy as np
from scipy import special, stats

from tacebench import simulate

from .conftest import SPECS

SIX_MONTHS = {"Control": [0.02, 0.18, 0.25, 0.55], "Combo": [0.04, 0.26, 0.3, 0.4]}


def _raw() -> dict:
    raw = tomllib.loads((SPECS / "small.toml").read_text())
    raw["cohorts"]["main"]["response"]["missing_mechanism"] = "MCAR"
    return raw


def _normal_shares(cuts) -> np.ndarray:
    """Best-first level shares of a standard normal latent cut at ``cuts`` (worst -> best)."""
    return np.diff(np.concatenate([[0.0], special.ndtr(np.asarray(cuts, float)), [1.0]]))[::-1]


def _later_shares(cuts, rho: float, held_below: float) -> np.ndarray:
    """Best-first shares of a later assessment: the last level where the followed latent
    ``Z <= held_below``, else ``L = rho Z + sqrt(1 - rho^2) e`` cut at ``cuts``."""
    def joint_above(c):   # P(L <= c, Z > held_below)
        if not np.isfinite(c):
            return 0.0 if c < 0 else special.ndtr(-held_below)
        both = stats.multivariate_normal.cdf([c, held_below], mean=[0, 0], cov=[[1, rho], [rho, 1]],
                                             abseps=1e-12, releps=1e-12)
        return special.ndtr(c) - both
    worst_first = np.diff([joint_above(c) for c in np.concatenate([[-np.inf], cuts, [np.inf]])])
    worst_first[0] += special.ndtr(held_below)
    return worst_first[::-1]


def test_a_normal_latent_is_cut_at_its_exact_quantiles():
    plan = simulate.compile_plan(simulate.spec_from_dict(_raw()), cache=None)
    ap = plan.outcomes.responses[0]
    for a, lab in enumerate(plan.covariates.arm_labels):
        published = np.asarray(plan.spec.response.arms[lab].level_probs())
        assert np.abs(_normal_shares(ap.cuts[a]) - published).max() < 1e-12


def test_a_later_assessment_is_cut_at_its_exact_conditional_quantiles():
    """A 6-month assessment following the response (correlation 0.7; PD carried over)."""
    raw = _raw()
    raw["cohorts"]["main"]["response_columns"] = {"response_6m": {
        "follows": "response", "assessment_time": 6.0, "correlation": 0.7, "rationale": "test",
        "arms": {k: {"proportions": v} for k, v in SIX_MONTHS.items()}}}
    plan = simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
    first, later = plan.outcomes.responses
    for a, lab in enumerate(plan.covariates.arm_labels):
        got = _later_shares(np.asarray(later.cuts[a]), 0.7, float(first.cuts[a][0]))
        assert np.abs(got - SIX_MONTHS[lab]).max() < 1e-9

