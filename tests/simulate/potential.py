"""Both potential outcomes of a large cohort drawn by the generator's own route (for
checking true estimands against direct fits)."""
from __future__ import annotations

import numpy as np

from tacebench.simulate.plan import add_derived, draw_covariates


def potential_outcomes(plan, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(t1, t0, eta)``: OS times of ``n`` subjects (ATE population) treated and untreated,
    uncensored, and their covariate linear predictor (unmeasured confounder included)."""
    cp, ep = plan.covariates, plan.outcomes.os
    rng = np.random.default_rng(seed)
    arm, x, _, u = draw_covariates(cp, rng, np.round(cp.pi * n).astype(int), with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    eta = ep.covariate_lp(cols, len(arm)) + (ep.beta_u * u if u is not None else 0.0)
    ones, zeros = np.ones(len(arm)), np.zeros(len(arm))
    t1 = ep.event_times(rng.exponential(size=len(arm)), eta + ep.beta_treat, ones)
    t0 = ep.event_times(rng.exponential(size=len(arm)), eta, zeros)
    return t1, t0, eta
