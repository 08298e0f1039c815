"""Per-cohort outcome kernel: OS, PFS, censoring, best response, therapy, missingness.

Latent structure (all per patient, given covariates and arm):

- death time ``T_D``: ``S(T_D | x) = Phi(-W_D)`` with ``W_D ~ N(0, 1)``;
- progression time ``T_P``: the same with ``W_P = r_PD W_D + sqrt(1 - r_PD^2) e``
  (``os_correlation`` of the PFS endpoint); ``PFS = min(T_P, T_D)`` so PFS <= OS;
- time to progression (when ``outcomes.ttp`` is declared): the same ``T_P``, with death
  and censoring as competing ends of follow-up: ``ttp_time = min(T_P, T_D, C)`` (equal to
  ``pfs_time``), ``ttp_event = 1`` only if progression comes first, so a death before
  progression censors TTP and is a PFS event;
- best response: latent ``L = r_R W_D + sqrt(1 - r_R^2) e`` cut at per-arm thresholds
  (higher ``L``, better response), so responders live longer; with covariate effects
  (``response.effects``) ``L = x'b + logit(Phi(Z))``, ``Z`` that normal latent: a
  proportional-odds model whose odds ratios are ``exp(b)`` for every cut;
- further response columns (:class:`AssessmentPlan`): each a latent ``L = rho L_parent +
  sqrt(1 - rho^2) e`` (the parent: the overall response, an earlier column, or
  ``W_D``) cut at its own per-arm thresholds; a later assessment keeps the last level
  (progression) of the assessment it follows, so PD at 3 months is PD at 6 months;
- censoring ``C = min(accrual + follow_up - entry, administrative_max, loss)`` with
  ``entry ~ U(0, accrual)`` and ``loss ~ Exp(loss_rate)``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord
from .search import SortedCuts
from .survival import cumulative_at_knots, draw_times, invert_baseline
from .therapy_draw import TherapyPlan


@dataclass(frozen=True, eq=False)
class EndpointPlan(ArrayRecord):
    """A calibrated endpoint: baseline pieces and coefficients.

    Proportional hazards (``treat_log_hr`` is ``None``): the treated arm's hazard is
    ``exp(beta_treat)`` times the baseline. Arm-specific hazards: ``beta_treat`` is 0 and
    the treated arm's hazard is ``rates * exp(treat_log_hr)`` piece by piece (a treatment
    HR that changes at the knots); covariates act proportionally in both arms, each
    effect in every arm or in the one arm it names
    (:func:`~simulate.effect_terms.compile_effects`).
    """

    knots: np.ndarray
    rates: np.ndarray
    effects: tuple  # (column, kind, coef, per_or_threshold, treated value of its arm or None)
    beta_treat: float
    beta_u: float
    treat_log_hr: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "cum", cumulative_at_knots(self.knots, self.rates))
        object.__setattr__(self, "cum_search", SortedCuts.build(self.cum, "right"))
        if self.treat_log_hr is not None:
            rt = self.rates * np.exp(self.treat_log_hr)
            object.__setattr__(self, "rates_treated", rt)
            object.__setattr__(self, "cum_treated", cumulative_at_knots(self.knots, rt))

    def arm_rates(self, treated: bool) -> tuple[np.ndarray, np.ndarray]:
        """``(rates, cumulative hazard at the knots)`` of the treated or control arm's baseline."""
        if treated and self.treat_log_hr is not None:
            return self.rates_treated, self.cum_treated
        return self.rates, self.cum

    def event_times(self, e: np.ndarray, eta: np.ndarray, treated: np.ndarray, tv=None) -> np.ndarray:
        """Event times from unit-exponential draws ``e`` (see :func:`~simulate.survival.draw_times`).

        ``treated`` is per row (last axis); arm-specific hazards invert the treated rows
        with the treated arm's baseline (proportional hazards: one call, as before).
        """
        t = draw_times(e, eta, self.knots, self.rates, self.cum, tv, self.cum_search)
        if self.treat_log_hr is not None:
            m = np.asarray(treated) == 1
            t[..., m] = invert_baseline(e[..., m] * np.exp(-eta[..., m]), self.knots, self.rates_treated,
                                        self.cum_treated)
        return t

    @property
    def arm_effects(self) -> bool:
        """Whether some effect acts in one arm only (the linear predictor needs the arm)."""
        return any(e[4] is not None for e in self.effects)

    def covariate_lp(self, cols: dict[str, np.ndarray], n: "int | tuple[int, ...]",
                     treated=None) -> np.ndarray:
        """Covariate part of the linear predictor (no treatment); ``n``: rows or shape.

        ``treated``: each row's treated indicator (an array broadcasting to ``n``), or one
        value for every row (a potential outcome); needed when an effect acts in one arm
        only, where the other arm's rows get exactly nothing added (so their linear
        predictor is, to the bit, the one without the effect).
        """
        eta = np.zeros(n)
        for col, kind, coef, extra, on in self.effects:
            x = cols[col]
            if kind == "per":  # x / 1.0 is x exactly: the division is skipped then
                term = coef * x if extra == 1.0 else coef * x / extra
            elif kind == "above":
                term = coef * (x >= extra)
            else:  # per level: coef is an array indexed by the level code
                term = coef[x.astype(np.intp)]
            if on is not None:
                if treated is None:
                    raise ValueError(f"the effect of {col!r} acts in one arm: the linear predictor "
                                     "needs each row's arm")
                term = np.where(np.asarray(treated) == on, term, 0.0)
            eta += term
        return eta


@dataclass(frozen=True, eq=False)
class AssessmentPlan(ArrayRecord):
    """One calibrated response column: latent, per-arm thresholds and missingness.

    ``parent`` names the latent this one is built on (``"os"``: the death time's normal
    score ``W_D``; else an earlier response column); ``follows``: a later assessment of
    ``parent``, whose last level carries over. ``effects`` (compiled as
    :func:`~simulate.effect_terms.compile_effects`, log odds ratios) add a covariate
    linear predictor on the logistic scale (:func:`response_latent`); the columns built on
    this one then see its latent standardised by ``center`` and ``scale`` (its mean and SD
    over the whole cohort: the calibration sample weighted to the cohort's arm sizes).
    """

    name: str
    parent: str
    rho: float
    follows: bool
    cuts: tuple                    # per arm: thresholds on L (worst -> best), len K-1
    miss: tuple                    # per arm (q_early, q_late)
    assessment_time: float
    effects: tuple = ()            # (column, kind, log OR, per_or_threshold, None: every arm)
    center: float = 0.0
    scale: float = 1.0

    # the same covariate linear predictor as an endpoint's (it reads only ``effects``)
    covariate_lp = EndpointPlan.covariate_lp

    def child_latent(self, lat: np.ndarray) -> np.ndarray:
        """The latent the columns built on this one see (standard normal without effects)."""
        return lat if not self.effects else (lat - self.center) / self.scale


def response_latent(z: np.ndarray, lp: np.ndarray | None) -> np.ndarray:
    """A response column's latent from its normal part ``z`` and covariate predictor ``lp``.

    Without effects (``lp`` ``None``) the latent is ``z`` itself. With them it is
    ``lp + logit(Phi(z))``: ``logit(Phi(z))`` is standard logistic and independent of the
    covariates, so ``P(L > c | x) = expit(lp - c)`` for every threshold ``c`` (proportional
    odds, odds ratios ``exp`` of the coefficients), and ``z`` keeps its correlation with
    the death time's normal score.

    Parameters
    ----------
    z : numpy.ndarray
        Standard normal latent (correlated with ``W_D``).
    lp : numpy.ndarray or None
        Covariate linear predictor (log odds), same shape, or ``None``.

    Returns
    -------
    numpy.ndarray
        The latent the thresholds cut.

    References
    ----------
    McCullagh P. Regression models for ordinal data. J R Stat Soc B. 1980;42:109-142.
    """
    if lp is None:
        return z
    return lp + (special.log_ndtr(z) - special.log_ndtr(-z))


@dataclass(frozen=True)
class OutcomePlan:
    os: EndpointPlan | None
    pfs: EndpointPlan | None
    r_pd: float
    accrual: float
    follow_up: float
    admin_max: float
    loss_rate: float
    tv: TherapyPlan | None
    missing: tuple = ()            # (column, intercept, slope, depends column, center, scale)
    responses: tuple[AssessmentPlan, ...] = ()   # ``response`` first when the cohort has it
    ttp: bool = False              # write ttp_time / ttp_event

    @property
    def response_dependence(self) -> dict[str, bool]:
        """Response column -> whether it depends on covariates (its own ``effects``, or a
        parent that does, through a non-zero correlation); else it is independent of every
        covariate given the arm, by construction."""
        dep = {"os": False}
        for ap in self.responses:
            dep[ap.name] = bool(ap.effects) or (dep.get(ap.parent, False) and ap.rho != 0.0)
        del dep["os"]
        return dep


def linear_predictors(ep: EndpointPlan, cols, treated, u, n):
    eta = ep.covariate_lp(cols, n, treated) + ep.beta_treat * treated
    if u is not None:
        eta = eta + ep.beta_u * u
    return eta


def censor_times(op: OutcomePlan, n: int, rng) -> np.ndarray:
    entry = rng.random(n) * op.accrual
    c = np.minimum(op.accrual + op.follow_up - entry, op.admin_max)
    if op.loss_rate > 0:
        c = np.minimum(c, rng.exponential(1.0 / op.loss_rate, n))
    return c


def draw_outcomes(op: OutcomePlan, cols: dict, arm: np.ndarray, treated: np.ndarray, u, rng,
                  tv=None) -> dict[str, np.ndarray]:
    """OS, PFS, censoring and response for one cohort (columns dict).

    ``arm`` and ``treated`` are per row; ``cols``, ``u`` and the draws of ``rng`` (a
    :class:`~simulate.streams.LockstepDraws`) may carry a leading replicate axis.
    """
    n = len(arm)
    out: dict[str, np.ndarray] = {}
    w_d = rng.standard_normal(n)
    shape = w_d.shape
    eta = linear_predictors(op.os, cols, treated, u, shape)
    t_d = op.os.event_times(-special.log_ndtr(-w_d), eta, treated, tv)
    c = censor_times(op, n, rng)
    out["os_time"] = np.minimum(t_d, c)
    out["os_event"] = (t_d <= c).astype(np.int8)
    if op.pfs is not None:
        w_p = op.r_pd * w_d + np.sqrt(1 - op.r_pd ** 2) * rng.standard_normal(n)
        eta_p = linear_predictors(op.pfs, cols, treated, u, shape)
        t_prog = op.pfs.event_times(-special.log_ndtr(-w_p), eta_p, treated)
        t_p = np.minimum(t_prog, t_d)
        out["pfs_time"] = np.minimum(t_p, c)
        out["pfs_event"] = (t_p <= c).astype(np.int8)
        if op.ttp:  # the same progression time; death, like censoring, ends its follow-up
            out["ttp_time"] = out["pfs_time"].copy()
            out["ttp_event"] = (t_prog <= np.minimum(t_d, c)).astype(np.int8)
    out.update(draw_responses(op.responses, out["os_time"], arm, w_d, rng, cols))
    if tv is not None:
        mask, start, dur = tv.mask, tv.start, tv.dur
        end = out["os_time"]
        started = mask & (start < end)
        out["systemic_start"] = np.where(started, start, np.inf)
        out["systemic_duration"] = np.where(started, np.minimum(dur, end - np.where(started, start, 0.0)), 0.0)
    return out


def assessment_codes(ap: AssessmentPlan, lat: np.ndarray, arm: np.ndarray,
                     parent_codes: np.ndarray | None = None) -> np.ndarray:
    """Level codes (0 = best) of one assessment from its latent, before missingness.

    Parameters
    ----------
    ap : AssessmentPlan
        The column's per-arm thresholds (worst -> best).
    lat : numpy.ndarray
        Its latent, one value per patient (a leading replicate axis allowed).
    arm : numpy.ndarray
        Arm code per patient (last axis of ``lat``).
    parent_codes : numpy.ndarray, optional
        Codes of the followed assessment; where it has the last level (progression), a
        later assessment (``ap.follows``) keeps it.

    Returns
    -------
    numpy.ndarray
        int8 codes, shape of ``lat``.
    """
    code = np.empty(lat.shape, np.int8)
    for a, cuts in enumerate(ap.cuts):
        m = arm == a
        code[..., m] = len(cuts) - np.searchsorted(cuts, lat[..., m])
    if ap.follows:
        last = len(ap.cuts[0])
        code[parent_codes == last] = last
    return code


def draw_responses(plans: tuple[AssessmentPlan, ...], os_time: np.ndarray, arm: np.ndarray,
                   w_d: np.ndarray, rng, cols: dict | None = None) -> dict[str, np.ndarray]:
    """Every response column (int8 codes, -1 = not assessed), in the order of ``plans``.

    Per column, one normal draw (its latent's own part) then one uniform draw (its
    missingness), so a cohort without further columns draws exactly as before them.

    Parameters
    ----------
    plans : tuple of AssessmentPlan
        ``response`` first when the cohort has it; a parent precedes its children.
    os_time : numpy.ndarray
        Observed OS time (an assessment after it may be missing, ``early_death``).
    arm : numpy.ndarray
        Arm code per patient.
    w_d : numpy.ndarray
        Normal score of each patient's death time (the root latent, ``"os"``).
    rng : numpy.random.Generator or simulate.streams.LockstepDraws
        The cohort's draws.
    cols : dict, optional
        Covariate columns (needed when a plan has ``effects``).

    Returns
    -------
    dict of str to numpy.ndarray
        Column name -> codes.
    """
    n = len(arm)
    latent, codes, out = {"os": w_d}, {}, {}
    for ap in plans:
        z = ap.rho * latent[ap.parent] + np.sqrt(1 - ap.rho ** 2) * rng.standard_normal(n)
        lat = response_latent(z, ap.covariate_lp(cols, z.shape) if ap.effects else None)
        code = assessment_codes(ap, lat, arm, codes.get(ap.parent))
        latent[ap.name], codes[ap.name] = ap.child_latent(lat), code.copy()
        miss_p = np.empty(lat.shape)
        early = os_time < ap.assessment_time
        for a, (qe, ql) in enumerate(ap.miss):
            m = arm == a
            miss_p[..., m] = np.where(early[..., m], qe, ql)
        code[rng.random(n) < miss_p] = -1
        out[ap.name] = code
    return out


def apply_missing(op: OutcomePlan, cols: dict, rng, n: int) -> None:
    """Set covariates to NaN by the compiled MCAR/MAR rules (in place).

    A MAR rule reads the true value of its ``depends_on`` variable, the one generated
    before any missingness, also where that variable is itself blanked by another rule and
    whatever the order of the rules: in a simulation the variable is fully observed at
    generation, and missingness at random given it means given that value (its intercept
    is calibrated on the true values: :func:`.response_cal.calibrate_missing`). What the
    analyst sees of a blanked ``depends_on`` plays no part.
    """
    true = dict(cols)   # each rule replaces a column (np.where), never writes into one
    draws = [(col, rng.random(n), icpt, slope, dep, ctr, scl) for col, icpt, slope, dep, ctr, scl in op.missing]
    for col, r, icpt, slope, dep, ctr, scl in draws:
        lp = np.full(n, icpt)
        if dep is not None:
            lp = lp + slope * (np.nan_to_num(true[dep], nan=ctr) - ctr) / scl
        cols[col] = np.where(r < special.expit(lp), np.nan, cols[col])
