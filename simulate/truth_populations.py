"""True OS estimands in a population tilted by the true propensity score (ATE, ATT, ATC, ATO, ATM).

A balancing weight targets the population whose covariate density is ``h(x) f(x)``, with
``f`` the cohort's covariate density (the arm-size-weighted mixture of the arms) and ``e(x)
= P(A = 1 | x)`` the true propensity score (Li, Morgan & Zaslavsky 2018, Table 1):

========== =========================== ==============================================
population ``h(x)``                    weights that target it
========== =========================== ==============================================
ATE        1                           IPTW ``1/e``, ``1/(1-e)``; CBPS (ATE)
ATT        ``e``                       ``1``, ``e/(1-e)``; entropy balancing (ATT)
ATC        ``1 - e``                   ``(1-e)/e``, ``1``
ATO        ``e (1 - e)``               overlap weights ``1 - e``, ``e``
ATM        ``min(e, 1 - e)``           matching weights (Li & Greene 2013)
========== =========================== ==============================================

The potential-outcome survival curves of the tilted population are
``S^a_h(t) = sum_i h_i exp(-H_a(t | x_i)) / sum_i h_i`` over the same large fixed covariate
sample as :func:`simulate.truth.true_estimands` (:data:`simulate.truth.N_TRUTH` subjects,
exact conditional survival, no Monte Carlo in the outcome). ``e`` is the true propensity
score given every confounder, the hidden ``u`` included (the causal definition; with ``u``
unrelated to treatment it equals the PS of the measured covariates). From the curves:

* the marginal HR: the population Cox estimand of a Cox model fitted to both potential
  outcomes of every subject of the tilted population, followed to ``horizon`` (``None``:
  until everyone dies) (Struthers & Kalbfleisch 1986; for weighted populations Austin
  2013 and Li, Morgan & Zaslavsky 2018, who define the ATO HR this way);
* the survival (and risk) difference at each ``landmark`` and the RMST difference to each
  ``tau``, treated minus control.

For ``ATE`` and ``ATT`` these are the estimands of :func:`simulate.truth.true_estimands`
by a different route (its ATT draws the treated arm; here the mixture is tilted by ``e``):
the two agree to their covariate-sampling error, a check of both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cohort import DEFAULT_CACHE, SimulationPlan, compile_plan
from .plan import _CAL_SEED, add_derived, draw_covariates
from .survival import cox_estimand
from .survival_sweep import survival_sweep
from .potential_curves import potential_curves, potential_curves_tilted
from .truth import N_TRUTH, _grid, _true_estimands, follow_up_weight

__all__ = ["POPULATIONS", "PopulationEstimands", "estimands_with_populations",
           "population_estimands", "population_estimands_many", "population_tilt",
           "tilt_refusal"]

#: population -> h(e), the density tilt of the target population.
POPULATIONS = {
    "ATE": lambda e: np.ones_like(e),
    "ATT": lambda e: e,
    "ATC": lambda e: 1.0 - e,
    "ATO": lambda e: e * (1.0 - e),
    "ATM": lambda e: np.minimum(e, 1.0 - e),
}
_STEP = 0.05
#: :func:`_curves` evaluates exp on the distinct risks when they number at most
#: 1/_SPREAD_BELOW of the subjects (a gather costs about a tenth of an exp per element)
_SPREAD_BELOW = 2


@dataclass(frozen=True)
class PopulationEstimands:
    """True OS estimands (treated vs control) of one target population.

    Attributes
    ----------
    population : one of :data:`POPULATIONS`.
    marginal_hr : population Cox estimand to ``horizon`` (under the cohort's censoring when
        asked for).
    landmarks, survival_difference : ``S^1(t) - S^0(t)`` at each landmark (risk difference
        is its negative).
    taus, rmst_difference : ``RMST^1(tau) - RMST^0(tau)`` at each tau.
    horizon : follow-up of the HR (None: none).
    effective_n : Kish effective sample size of the tilt over the covariate sample.
    """

    population: str
    marginal_hr: float
    landmarks: tuple
    survival_difference: tuple
    taus: tuple
    rmst_difference: tuple
    horizon: float | None
    effective_n: float

    def survival_difference_at(self, t: float) -> float:
        return self.survival_difference[self.landmarks.index(float(t))]

    def rmst_difference_at(self, tau: float) -> float:
        return self.rmst_difference[self.taus.index(float(tau))]


def population_tilt(plan: SimulationPlan, population: str, n: int, treated: bool | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(arm, eta, h)``: the covariate sample of the ATE population (arm sizes
    proportional to the cohort's), each subject's OS linear predictor without treatment and
    its tilt ``h(e)`` (normalised to sum 1). ``treated``: the potential arm whose linear
    predictor ``eta`` is (``None``: both arms', refused when an effect acts in one arm)."""
    arm, eta, tilts = _tilts(plan, (population,), n)
    if treated is None and plan.outcomes.os.arm_effects:
        raise ValueError("population_tilt: an effect acts in one arm only, so each arm has its own "
                         "linear predictor: give treated = True or False")
    return arm, eta[bool(treated)], tilts[0]


def tilt_refusal(plan: SimulationPlan) -> str | None:
    """Why ``plan`` has no tilted populations' curves, or None when it has them: they need
    two arms and an OS model, and do not integrate a time-varying therapy.

    The one test of both the functions here (which raise with its words) and a caller that
    chooses :func:`estimands_with_populations` (whose tilts share the ATE curves'
    evaluation) by it.
    """
    if plan.covariates.treated_arm < 0 or plan.outcomes.os is None:
        return (f"population estimands need two arms and an OS model "
                f"({plan.study_id}/{plan.cohort_name})")
    tv = plan.outcomes.tv
    if tv is not None and tv.changes_survival:
        return (f"population estimands: {plan.study_id}/{plan.cohort_name} has a "
                "time-varying therapy, which these curves do not integrate")
    return None


def _tilts(plan: SimulationPlan, populations: tuple[str, ...], n: int
           ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """:func:`population_tilt` of several populations: one covariate sample (the same
    draws whether or not the PS is computed: it is a function of them), a tilt each; the
    linear predictors by potential arm (``{True: treated, False: control}``)."""
    for population in populations:
        if population not in POPULATIONS:
            raise ValueError(f"population must be one of {sorted(POPULATIONS)}; got {population!r}")
    problem = tilt_refusal(plan)
    if problem is not None:
        raise ValueError(problem)
    cp, ep = plan.covariates, plan.outcomes.os
    with_ps = any(population != "ATE" for population in populations)
    rng = np.random.default_rng(_CAL_SEED + 7)  # the covariate sample of true_estimands' ATE
    counts = np.maximum(np.round(cp.pi * n).astype(int), 1)
    arm, x, ps, u = draw_covariates(cp, rng, counts, with_ps=with_ps)
    if with_ps and not np.isfinite(ps).all():
        bad = next(population for population in populations if population != "ATE")
        raise ValueError(f"population {bad}: the cohort model has no true propensity "
                         f"score ({plan.study_id}/{plan.cohort_name})")
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    # the covariate part of each potential outcome (an effect of one arm acts in it only)
    eta = {a: ep.covariate_lp(cols, len(arm), a) + (ep.beta_u * u if u is not None else 0.0)
           for a in (True, False)}
    tilts = []
    for population in populations:
        h = POPULATIONS[population](ps if population != "ATE" else np.ones(len(arm)))
        tilts.append(h / h.sum())
    return arm, eta, tilts


def _curves(grid, ep, treated: bool, eta, tilts) -> list[np.ndarray]:
    """The potential-outcome curve of each tilt: each subject's conditional survival at a
    time is computed once and averaged under every tilt."""
    rates, cum = ep.arm_rates(treated)  # arm-specific hazards: the arm's own baseline
    risk = np.exp(eta[treated] + ep.beta_treat * treated)
    # Subjects of equal risk have equal survival at every time. With few distinct risks
    # (discrete covariates), the survival runs on those and its values are spread back to
    # the subjects: survival_sweep (exp only every few times, the values of
    # potential_curves' own sweep) is elementwise, so ``s`` holds the same doubles in the
    # same order and the weighted sums below are those of every subject's survival, at a
    # gather's cost.
    values, inverse = np.unique(risk, return_inverse=True)
    spread = len(values) <= len(risk) // _SPREAD_BELOW
    out = np.empty((len(tilts), len(grid)))
    for j, s in enumerate(survival_sweep(grid, ep.knots, rates, cum,
                                         values if spread else risk)):
        if spread:
            s = s.take(inverse)
        # einsum, not ``h @ ...``: a BLAS dot product may start threads, ten times slower
        # on a busy machine
        for k, h in enumerate(tilts):
            out[k, j] = np.einsum("i,i->", h, s)
    return list(out)


def population_estimands(spec, population: str, cohort: str | None = None, *,
                         landmarks=(6.0, 12.0, 24.0), taus=(6.0, 12.0, 24.0),
                         horizon: float | None = None, censoring: bool = False,
                         n_subjects: int = N_TRUTH, plan_cache=DEFAULT_CACHE
                         ) -> PopulationEstimands:
    """True OS estimands of a two-arm cohort model in a target population.

    Parameters
    ----------
    spec : StudySpec or SimulationPlan
    population : {"ATE", "ATT", "ATC", "ATO", "ATM"}
        The target population (module docstring).
    cohort : str, optional
        Cohort of ``spec`` (its only one by default).
    landmarks, taus : sequences of float
        Times (months) of the survival differences and RMST horizons.
    horizon : float, optional
        Follow-up of the marginal-HR estimand; ``None`` = until everyone dies.
    censoring : bool
        The marginal HR with every subject followed as the cohort's censoring does
        (:func:`simulate.truth.true_estimands`); the other estimands do not depend on it.
    n_subjects : int
        Size of the covariate sample.
    plan_cache : PlanCache or None
        Passed to :func:`~simulate.cohort.compile_plan` when ``spec`` is not a plan.

    Returns
    -------
    PopulationEstimands

    References
    ----------
    Struthers CA, Kalbfleisch JD (1986). Misspecified proportional hazards models.
    Biometrika 73:363-369.
    Li F, Morgan KL, Zaslavsky AM (2018). Balancing covariates via propensity score
    weighting. JASA 113:390-400.
    Li L, Greene T (2013). A weighting analogue to pair matching in propensity score
    analysis. Int J Biostat 9(2):215-234.
    """
    return population_estimands_many(spec, (population,), cohort, landmarks=landmarks,
                                     taus=taus, horizon=horizon, censoring=censoring,
                                     n_subjects=n_subjects, plan_cache=plan_cache)[0]


def population_estimands_many(spec, populations, cohort: str | None = None, *,
                              landmarks=(6.0, 12.0, 24.0), taus=(6.0, 12.0, 24.0),
                              horizon: float | None = None, censoring: bool = False,
                              n_subjects: int = N_TRUTH, plan_cache=DEFAULT_CACHE
                              ) -> tuple[PopulationEstimands, ...]:
    """:func:`population_estimands` of several populations, from one covariate sample and
    one evaluation of every subject's conditional survival (each population's numbers
    are those of its own call: the same sample, survival values and weighted sums).

    Parameters
    ----------
    spec, cohort, landmarks, taus, horizon, censoring, n_subjects, plan_cache
        As :func:`population_estimands`.
    populations : sequence of str
        Each one of :data:`POPULATIONS`.

    Returns
    -------
    tuple of PopulationEstimands
        One per population, in order.
    """
    return population_estimands_followed(spec, populations, cohort, (censoring,),
                                         landmarks=landmarks, taus=taus, horizon=horizon,
                                         n_subjects=n_subjects, plan_cache=plan_cache)[censoring]


def population_estimands_followed(spec, populations, cohort: str | None = None,
                                  censorings=(True, False), *, landmarks=(6.0, 12.0, 24.0),
                                  taus=(6.0, 12.0, 24.0), horizon: float | None = None,
                                  n_subjects: int = N_TRUTH, plan_cache=DEFAULT_CACHE
                                  ) -> dict[bool, tuple[PopulationEstimands, ...]]:
    """:func:`population_estimands_many` under each of ``censorings`` (the HR under the
    cohort's censoring and without it) from one evaluation of the curves: ``{censoring:
    estimands}``, each equal to ``population_estimands_many(..., censoring=censoring)``."""
    plan = compile_plan(spec, cohort, cache=plan_cache)
    landmarks = tuple(float(t) for t in landmarks)
    taus = tuple(float(t) for t in taus)
    populations = tuple(populations)
    _, eta, tilts = _tilts(plan, populations, n_subjects)
    ep = plan.outcomes.os
    grid = _population_grid(horizon, landmarks, taus)
    treated, control = _curves(grid, ep, True, eta, tilts), _curves(grid, ep, False, eta, tilts)
    return _from_curves(plan, populations, tilts, grid, treated, control, landmarks, taus,
                        horizon, censorings)


def _population_grid(horizon: float | None, landmarks: tuple, taus: tuple) -> np.ndarray:
    """The time grid of the tilted curves: every ``_STEP`` to 60 months, then every half
    month to the last time needed, with the landmarks and taus themselves."""
    top = max((horizon if horizon is not None else 600.0, *landmarks, *taus))
    fine = np.arange(0.0, min(top, 60.0) + _STEP / 2, _STEP)
    return np.unique(np.concatenate([fine, np.arange(fine[-1], top + 0.5, 0.5),
                                     landmarks, taus]))


def _from_curves(plan, populations, tilts, grid, treated, control, landmarks, taus, horizon,
                 censorings) -> dict[bool, tuple[PopulationEstimands, ...]]:
    """Each population's estimands from its curves on ``grid``, under each censoring."""
    end = horizon if horizon is not None else 600.0
    g = grid <= end
    out: dict[bool, list] = {}
    for censoring in dict.fromkeys(bool(c) for c in censorings):
        weight = follow_up_weight(plan, grid[g], censoring)
        out[censoring] = []
        for population, h, s1, s0 in zip(populations, tilts, treated, control):
            hr = cox_estimand(grid[g], s1[g], s0[g], weight=weight).hr
            surv = tuple(float(np.interp(t, grid, s1 - s0)) for t in landmarks)
            rmst = tuple(float(np.trapezoid((s1 - s0)[grid <= tau], grid[grid <= tau]))
                         for tau in taus)
            out[censoring].append(PopulationEstimands(population, float(hr), landmarks, surv,
                                                      taus, rmst, horizon,
                                                      float(1.0 / (h**2).sum())))
    return {c: tuple(v) for c, v in out.items()}


def estimands_with_populations(plan: SimulationPlan, pairs, tilted, *,
                               horizon: float | None = None, n_subjects: int = N_TRUTH,
                               censorings=(True, False)) -> tuple[dict, dict]:
    """The OS estimands of :func:`simulate.truth.true_estimands_followed` at ``pairs`` and
    those of :func:`population_estimands_followed` at each tilted horizon, the same
    numbers, with the ATE curves and the tilted curves from one evaluation of the
    covariate sample's survival (:func:`~simulate.potential_curves.potential_curves_tilted`:
    the tilted populations are tilts of the ATE population's sample).

    Parameters
    ----------
    plan : SimulationPlan
        Two arms, an OS model, no time-varying therapy.
    pairs : sequence of (rmst_tau, landmark)
        Floats (months), as :func:`~simulate.truth.true_estimands_followed` takes them.
    tilted : mapping of (tau, landmark) to a sequence of population names
        Each entry's estimands are ``population_estimands_followed(plan, populations,
        landmarks=(landmark,), taus=(tau,))``'s.
    horizon, n_subjects, censorings
        As those functions take them.

    Returns
    -------
    (truths, populations)
        ``{censoring: TrueEstimands per pair}`` and ``{(tau, landmark): {censoring:
        PopulationEstimands per population}}``.
    """
    censorings = tuple(dict.fromkeys(bool(c) for c in censorings))
    tilted = {(float(tau), float(at)): tuple(pops) for (tau, at), pops in tilted.items()}
    if not pairs and not tilted:
        return {c: () for c in censorings}, {}
    names = tuple(dict.fromkeys(p for pops in tilted.values() for p in pops))
    _, _, tilts = _tilts(plan, names, n_subjects)
    end = horizon if horizon is not None else 600.0
    grids = [_grid(end, float(tau), float(at), "os") for tau, at in pairs]
    own = {h: _population_grid(horizon, (h[1],), (h[0],)) for h in tilted}
    union = np.unique(np.concatenate(grids + list(own.values())))
    (s1, s0), t1, t0 = potential_curves_tilted(plan, n_subjects, union, tilts)
    truths: dict[bool, list] = {c: [] for c in censorings}
    if pairs:  # the ATT's own sample, on the pairs' grids only
        ate_union = np.unique(np.concatenate(grids))
        att = potential_curves(plan, "att", n_subjects, ate_union, "os")
    for (tau, at), grid in zip(pairs, grids):
        i, k = np.searchsorted(union, grid), np.searchsorted(ate_union, grid)
        curves = {"ate": (s1[i], s0[i]), "att": (att[0][k], att[1][k])}
        for c in censorings:
            truths[c].append(_true_estimands(plan, horizon, float(tau), float(at), n_subjects,
                                             "os", grid, curves, c))
    populations = {}
    for (tau, at), pops in tilted.items():
        grid, j = own[(tau, at)], [names.index(p) for p in pops]
        i = np.searchsorted(union, grid)
        populations[(tau, at)] = _from_curves(
            plan, pops, [tilts[q] for q in j], grid, [t1[q][i] for q in j],
            [t0[q][i] for q in j], (at,), (tau,), horizon, censorings)
    return {c: tuple(v) for c, v in truths.items()}, populations
