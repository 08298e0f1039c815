"""Potential-outcome survival curves of a calibrated cohort model, computed exactly.

``S^a(t) = E_x[exp(-H(t | x, a))]`` averaged over a fixed-seed covariate sample, for the
ATE population (the arm-size-weighted mixture) or the ATT population (the treated arm);
PFS through the bivariate normal CDF of the latent progression and death times. The
estimands of :mod:`simulate.truth` are computed from these curves. ("Exactly": by
integration over the fixed sample, not by simulated event times; OS survival along the grid
is :func:`simulate.survival_sweep.survival_sweep`'s, exp to a relative ~1e-14.)
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .bivariate_normal import bivariate_normal_cdf
from .cohort import SimulationPlan
from .plan import _CAL_SEED, add_derived, draw_covariates
from .survival import baseline_cumhaz, prepared_therapy
from .survival_sweep import survival_sweep, therapy_cumhaz_along
from .therapy_draw import therapy


def potential_curves(plan: SimulationPlan, population: str, n: int, grid: np.ndarray, endpoint: str = "os"
            ) -> tuple[np.ndarray, np.ndarray]:
    """Potential-outcome survival curves (treated, control) of ``endpoint`` on ``grid``.

    PFS: ``S(t | x) = P(T_P > t, T_D > t | x) = Phi2(Phi^-1(S_P(t | x)), Phi^-1(S_D(t | x));
    r)`` with ``r`` the latent correlation of progression and death (see
    :mod:`simulate.outcomes`), computed exactly; the curve is set to 0 from the first
    time at which the bound ``mean_x min(S_P, S_D)`` falls below 1e-12.
    """
    return _sweep(plan, population, n, grid, endpoint, None)[0]


def potential_curves_tilted(plan: SimulationPlan, n: int, grid: np.ndarray, tilts
                            ) -> tuple[tuple[np.ndarray, np.ndarray], list, list]:
    """The OS curves of the ATE population (``potential_curves(plan, "ate", n, grid)``)
    and, from the same survival values, the curve of each tilt of that covariate sample.

    Each subject's conditional survival at a time, computed once for the ATE curve (on
    the distinct linear predictors), is spread back to the subjects and averaged under
    every tilt: the numbers of
    :func:`simulate.truth_populations.population_estimands_followed`'s own curves
    (its covariate sample is this one), without exp on the sample a second time.

    Parameters
    ----------
    plan : SimulationPlan
        Without time-varying therapy (whose curves the tilted populations do not
        integrate).
    n : int
        Size of the ATE covariate sample.
    grid : (g,) float array
    tilts : sequence of (m,) float arrays
        Weights of the ``m`` subjects of that sample, in the order it is drawn.

    Returns
    -------
    ((treated, control), tilted_treated, tilted_control)
        The ATE curves, then per tilt its treated and its control curve.
    """
    (s1, s0), (t1, t0) = _sweep(plan, "ate", n, grid, "os", list(tilts))
    return (s1, s0), t1, t0


def _sweep(plan: SimulationPlan, population: str, n: int, grid: np.ndarray, endpoint: str, tilts):
    """``((treated, control), tilted)`` of :func:`potential_curves` and, when ``tilts``
    (OS, collapsed linear predictors) is a list, its tilts' curves (``(treated,
    control)``, each a list per tilt; else ``None``)."""
    cp, op = plan.covariates, plan.outcomes
    rng = np.random.default_rng(_CAL_SEED + 7)
    if population == "ate":
        counts = np.maximum(np.round(cp.pi * n).astype(int), 1)
    else:
        counts = np.zeros(len(cp.arm_n), int)
        counts[cp.treated_arm] = n
    arm, x, _, u = draw_covariates(cp, rng, counts, with_ps=False)
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    ep = op.os
    pp = op.pfs if endpoint == "pfs" else None
    collapsed = pp is None and (op.tv is None or not op.tv.changes_survival)
    one_lp = not ep.arm_effects and (pp is None or not pp.arm_effects)
    if tilts is not None and not collapsed:
        raise ValueError("tilted curves need OS without time-varying therapy")
    spread = tilts is not None  # (the inverse of the collapse, to spread values back)
    if one_lp:  # the same linear predictors in both potential arms
        base, base_p, weights, inverse = _linear_predictors(op, pp, cols, u, len(arm), None,
                                                            collapsed, spread)
    out, tilted = [], []
    for a in (cp.treated_arm, 1 - cp.treated_arm):
        if not one_lp:  # an effect of one arm acts in that potential outcome only
            base, base_p, weights, inverse = _linear_predictors(
                op, pp, cols, u, len(arm), a == cp.treated_arm, collapsed, spread)
        rates, cum = ep.arm_rates(a == cp.treated_arm)  # arm-specific hazards: the arm's own baseline
        h0 = baseline_cumhaz(grid, ep.knots, rates, cum)
        if pp is not None:
            h0_p = baseline_cumhaz(grid, pp.knots, *pp.arm_rates(a == cp.treated_arm))
        risk = np.exp(base + ep.beta_treat * (a == cp.treated_arm))
        tv = therapy(op.tv, np.full(len(risk), a), rng) if op.tv is not None and op.tv.changes_survival else None
        prepared = prepared_therapy(ep.knots, tv) if tv is not None and tv.mask.any() else None
        segments = None if prepared is None else prepared[1]
        if pp is not None:
            risk_p = np.exp(base_p + pp.beta_treat * (a == cp.treated_arm))
        s = np.zeros(len(grid))
        t = None if tilts is None else np.empty((len(tilts), len(grid)))
        if segments is not None:
            alive = (np.exp(-h * risk) for h in therapy_cumhaz_along(segments, grid, rates, tv.b))
        elif pp is None:  # OS: exp only every few points (survival_sweep, to ~1e-14)
            alive = survival_sweep(grid, ep.knots, rates, cum, risk)
        else:
            alive = (np.exp(-h * risk) for h in h0)
        for j, s_d in enumerate(alive):
            if pp is None:
                s[j] = weights @ s_d if collapsed else np.mean(s_d)
                if t is not None:  # every subject's survival, in the sample's order
                    every = s_d.take(inverse)
                    for k, tilt in enumerate(tilts):  # einsum: see truth_populations._curves
                        t[k, j] = np.einsum("i,i->", tilt, every)
                continue
            s_p = np.exp(-h0_p[j] * risk_p)
            low = np.minimum(s_d, s_p)  # PFS <= min(progression-free, alive)
            if weights @ low < 1e-12:
                break  # the rest of the curve is 0 (to 1e-12)
            live = low > 1e-15  # the others add < 1e-15 each
            q = special.ndtri(np.clip(np.stack([s_p[live], s_d[live]]), 1e-300, 1.0 - 1e-16))
            s[j] = weights[live] @ bivariate_normal_cdf(q[0], q[1], op.r_pd)
        out.append(s)
        tilted.append(None if t is None else list(t))
    return (out[0], out[1]), (None if tilts is None else (tilted[0], tilted[1]))


def _linear_predictors(op, pp, cols: dict, u, n: int, treated, collapsed: bool,
                       spread: bool = False):
    """``(base, base_p, weights, inverse)``: the OS and (``pp``, else None) PFS covariate
    linear predictors of potential arm ``treated`` (None: an arm the effects do not depend
    on), identical subjects merged with their multiplicity as weights where the curves
    allow it (``weights`` None: every subject once); ``inverse`` (``spread`` and OS
    collapsed, else None): each subject's position in ``base``."""
    ep = op.os
    base = ep.covariate_lp(cols, n, treated) + (ep.beta_u * u if u is not None else 0.0)
    base_p = weights = inverse = None
    if pp is not None:
        base_p = pp.covariate_lp(cols, n, treated) + (pp.beta_u * u if u is not None else np.zeros(n))
        weights = np.full(n, 1.0 / n)
        if op.tv is None or not op.tv.changes_survival:
            # subjects enter only through their two linear predictors: identical pairs
            # (discrete covariates) are evaluated once, with their multiplicity (exact)
            pairs, mult = np.unique(np.column_stack([np.broadcast_to(base, base_p.shape), base_p]), axis=0,
                                    return_counts=True)
            base, base_p, weights = pairs[:, 0], pairs[:, 1], mult / n
    if collapsed:  # OS likewise through one linear predictor (the same curve to rounding)
        if spread:  # (the same values and counts)
            base, inverse, mult = np.unique(base, return_inverse=True, return_counts=True)
        else:
            base, mult = np.unique(base, return_counts=True)
        weights = mult / n
    return base, base_p, weights, inverse
