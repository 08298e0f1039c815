"""Conditional covariate effects solved from the paper's whole Cox table.

A paper's Cox table prints, per covariate, a univariable HR (the covariate alone) and,
for some, a multivariable HR (the selected covariates together). Neither is the
conditional effect of the data-generating model: a univariable HR also carries the
effects of every correlated covariate (and of the confounded treatment), and a
multivariable HR those of the covariates left out of the model. :func:`solve_effects`
finds the conditional log-HRs ``beta`` (one per term of ``outcomes.os.associations``)
such that, on the study's calibration sample (its covariate distribution, correlations,
confounded treatment, calibrated baseline and censoring), the univariable Cox HR of each
term and the multivariable model's HRs are the printed ones: a Gauss-Newton iteration
on the residuals in units of the printed SEs, with the Jacobian of the linear-regression
approximation (the coefficient of ``x_j`` in the regression of the linear predictor on
the model's terms), corrected by the exact Cox fits at every step. With more printed
HRs than terms the fit is a weighted least-squares compromise; the achieved HRs are in
the report and in :func:`association_checks`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from tacebench.records import ArrayRecord

from .calibrate import fit_endpoint
from .calibration_cohort import draw_death_times
from .censoring_cal import solve_censoring
from .plan import _CAL_SEED, CovariatePlan
from .spec_associations import log_effect
from .spec_outcomes import Effect
from .study import CohortSpec

#: Gauss-Newton steps at most; the iteration stops once no step moves a term by more
#: than :data:`STEP_TOL` printed SEs (well inside the calibration sample's Monte Carlo
#: error, about 0.1 printed SE at 20,000 patients per arm for a cohort of a few hundred)
MAX_STEPS = 12
STEP_TOL = 0.01
#: weight of the squared distance of the conditional effects from their starting values
#: (the multivariable HR where printed, else the univariable one), in printed SEs: among
#: effects that fit equally well, the closest to the printed ones
DAMPING = 0.05


@dataclass(frozen=True)
class Term:
    """One design column: its association entry and, per level of a categorical, its code."""

    name: str
    variable: str
    kind: str            # "binary" | "per" | "above" | "level"
    value: float         # per (per), threshold (above), level code (level), reference (binary)

    def column(self, cols: dict[str, np.ndarray]) -> np.ndarray:
        x = cols[self.variable]
        if self.kind == "per":
            return x / self.value
        if self.kind == "above":
            return (x >= self.value).astype(float)
        if self.kind == "level":
            return (x == self.value).astype(float)
        return 1.0 - x if self.value == 1 else x


@dataclass(frozen=True, eq=False)
class Fit(ArrayRecord):
    """Published vs achieved log-HRs of the printed associations (one row each)."""

    model: tuple[str, ...]        # "univariable" | "multivariable"
    term: tuple[str, ...]
    target_id: tuple[str, ...]
    published: np.ndarray         # log-HR (recovered where printed as 1)
    se: np.ndarray                # the printed SE (log scale)
    achieved: np.ndarray          # log-HR on the calibration sample
    how: tuple[str, ...]


def terms_of(assocs, types: dict[str, str], levels: dict[str, tuple[str, ...]]) -> list[Term]:
    """The design terms of the associations that are not assumptions."""
    out = []
    for a in assocs:
        if a.assume is not None:
            continue
        if a.level is not None:
            out.append(Term(a.term, a.variable, "level", float(levels[a.variable].index(a.level))))
        elif a.above is not None:
            out.append(Term(a.term, a.variable, "above", a.above))
        elif types[a.variable] == "binary":
            out.append(Term(a.term, a.variable, "binary", float(a.reference)))
        else:
            out.append(Term(a.term, a.variable, "per", a.per))
    return out


def effects_of(terms: list[Term], beta: np.ndarray, levels: dict[str, tuple[str, ...]]) -> tuple[Effect, ...]:
    """Conditional effects (:class:`Effect`) of the terms' log-HRs ``beta``."""
    out, by_level = [], {}
    for t, b in zip(terms, beta):
        if t.kind == "level":
            by_level.setdefault(t.variable, np.zeros(len(levels[t.variable])))[int(t.value)] = b
        elif t.kind == "above":
            out.append(Effect(t.variable, float(np.exp(b)), above=t.value))
        elif t.kind == "binary":  # the paper's 0-vs-1 HR is the inverse effect of presence
            out.append(Effect(t.variable, float(np.exp(-b if t.value == 1 else b))))
        else:
            out.append(Effect(t.variable, float(np.exp(b)), per=t.value))
    for var, lb in by_level.items():
        out.append(Effect(var, tuple(float(v) for v in np.exp(lb))))
    return tuple(out)


def cox_fit(time: np.ndarray, event: np.ndarray, x: np.ndarray, weights: np.ndarray,
            start: np.ndarray | None = None) -> np.ndarray:
    """Log-HRs of a weighted Cox model (Breslow partial likelihood), Newton-Raphson.

    Parameters
    ----------
    time, event : (n,) arrays; event 1 = event, 0 = censored (continuous times: no ties).
    x : (n, p) covariates.
    weights : (n,) case weights (the study's arm shares over the sample's).
    start : optional starting log-HRs.

    Returns
    -------
    (p,) array of log-HRs.

    References
    ----------
    Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
    """
    return RiskSets.of(time, event, weights).fit(x, start)


@dataclass(frozen=True, eq=False)
class RiskSets(ArrayRecord):
    """The risk-set order of one sample (descending time), shared by the Cox models fitted
    to it: one sort serves all the models of a step of :func:`solve_effects`."""

    order: np.ndarray
    d: np.ndarray        # event, in risk-set order
    w: np.ndarray        # weights, in risk-set order

    @classmethod
    def of(cls, time: np.ndarray, event: np.ndarray, weights: np.ndarray) -> "RiskSets":
        order = np.argsort(-time, kind="stable")
        return cls(order, event[order].astype(bool), weights[order])

    def fit(self, x: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
        """:func:`cox_fit` of covariates ``x`` (rows in the sample's order)."""
        z, w = x[self.order], self.w
        z = z - np.average(z, axis=0, weights=w)  # centring changes no log-HR, only the scale of exp
        p = z.shape[1]
        beta = np.zeros(p) if start is None else np.asarray(start, float).copy()
        events = np.flatnonzero(self.d)
        zd, wd = z[events], w[events]
        # The running sums over the risk sets run along the last axis (contiguous) and over
        # the upper triangle of z z' only (the lower one holds the same products); the
        # information sums the triangle over the events with the events as the outer
        # (row) axis, the same einsum reduction as over the direct (n, p, p) form, whose
        # (j, k) and (k, j) entries are the same sums, then fills the square from it
        # (tests/simulate/test_compile_speed.py holds it to the direct form bit for bit). The
        # products and running sums go into buffers made once per fit (arrays of p (p+1)/2
        # x n, rewritten every iteration), and the triangle's centring runs pair by pair
        # (each a vector over the events) rather than through two gathered copies of it.
        j, k = np.triu_indices(p)
        pair = np.empty((p, p), int)
        pair[j, k] = pair[k, j] = np.arange(len(j))
        zt = np.ascontiguousarray(z.T)
        zzt = zt[j] * zt[k]
        sums1, sums2 = np.empty_like(zt), np.empty_like(zzt)
        prod = np.empty(events.size)
        for _ in range(30):
            r = w * np.exp(z @ beta)
            s0 = np.cumsum(r)[events]
            np.cumsum(np.multiply(r, zt, out=sums1), axis=1, out=sums1)
            m = sums1.take(events, axis=1)
            m /= s0
            np.cumsum(np.multiply(r, zzt, out=sums2), axis=1, out=sums2)
            cov = sums2.take(events, axis=1)
            cov /= s0
            for q, (a, b) in enumerate(zip(j, k)):
                cov[q] -= np.multiply(m[a], m[b], out=prod)
            score = wd @ (zd - m.T)
            info = np.einsum("i,iq->q", wd, np.ascontiguousarray(cov.T))[pair]
            step = np.linalg.solve(info, score)
            beta += step
            if np.max(np.abs(step)) < 1e-9:
                break
        return beta


def _rows(c: CohortSpec, terms: list[Term]):
    """(model, term index, target id, LogEffect) of every printed HR, univariable first."""
    by_name = {t.name: i for i, t in enumerate(terms)}
    rows = []
    for model in ("univariable", "multivariable"):
        for j, a in enumerate(c.os.associations):
            r = getattr(a, model)
            if r is not None:
                rows.append((model, by_name[a.term], r.target,
                             log_effect(r, a.sign, f"outcomes.os.associations[{j}].{model}")))
    return rows


def _regression_jacobian(d: np.ndarray, w: np.ndarray, models: list[np.ndarray], extras: list
                         ) -> list[np.ndarray]:
    """Per model (term indices; ``extras``: its further column or None), d(model
    coefficients)/d(beta) of the linear approximation."""
    dc = d - np.average(d, axis=0, weights=w)
    out = []
    for idx, extra in zip(models, extras):
        xm = dc[:, idx] if extra is None else np.column_stack([dc[:, idx], extra - np.average(extra, weights=w)])
        a = (xm * w[:, None]).T @ xm
        b = (xm * w[:, None]).T @ dc
        out.append(np.linalg.solve(a, b)[:len(idx)])
    return out


def solve_effects(c: CohortSpec, cp: CovariatePlan, sample: dict, types: dict[str, str]
                  ) -> tuple[tuple[Effect, ...], dict, tuple]:
    """Conditional effects reproducing the printed univariable and multivariable HRs.

    Parameters
    ----------
    c : the cohort (its ``outcomes.os.associations``).
    cp : its covariate plan; ``sample`` its calibration sample.
    types : the type of every column (``binary`` for the options of a multiselect).

    Returns
    -------
    ``(effects, report, os_fit)``: the solved :class:`Effect` entries, the fit (per
    printed HR: published and achieved HR, residual in printed SEs; the solved
    conditional HRs) and ``os_fit``, the ``(plan, report)`` of
    :func:`~simulate.calibrate.fit_endpoint` for the OS model with the solved effects
    (the last step's fit, so the caller need not repeat it).
    """
    ep = c.os
    terms = terms_of(ep.associations, types, cp.levels)
    rows = _rows(c, terms)
    d = np.column_stack([t.column(sample["cols"]) for t in terms])
    arm = sample["arm"]
    w = np.empty(sample["n"])
    for a, n_a in enumerate(cp.arm_n):  # the study's arm shares, not the sample's equal ones
        m = arm == a
        w[m] = n_a / m.sum()
    w /= w.mean()
    treat = sample["treated"] if ep.multivariable_treatment and cp.treated_arm >= 0 else None
    uni = sorted({(terms[i].variable,) for m, i, *_ in rows if m == "univariable"})
    models = [np.array([i for i, t in enumerate(terms) if t.variable == v[0]]) for v in uni]
    multi = np.array(sorted({i for m, i, *_ in rows if m == "multivariable"}), int)
    if len(multi):
        models.append(multi)
    # the univariable models never hold the treatment; the multivariable one may
    extras = [None] * len(uni) + [treat] * (len(models) - len(uni))
    jac_m = _regression_jacobian(d, w, models, extras)
    # each printed HR: (model index, position in that model)
    where = []
    for m, i, *_ in rows:
        if m == "univariable":
            k = next(q for q, idx in enumerate(models[:len(uni)]) if i in idx)
        else:
            k = len(models) - 1
        where.append((k, int(np.flatnonzero(models[k] == i)[0])))
    goal = np.array([e.beta for *_, e in rows])
    se = np.array([e.se for *_, e in rows])
    jac = np.array([jac_m[k][pos] for k, pos in where]) / se[:, None]
    beta = np.zeros(len(terms))
    for (m, i, _, e) in rows[::-1]:  # multivariable first where printed: the better start
        beta[i] = e.beta if m == "multivariable" or beta[i] == 0 else beta[i]
    beta_fixed = tuple(ep.effects)
    rng = np.random.default_rng(_CAL_SEED + 3)
    entry = rng.random(sample["n"])
    loss_e = rng.standard_exponential(sample["n"])
    history = []
    term_se = _term_se(rows, len(terms))
    beta0, prev = beta.copy(), None
    for step in range(MAX_STEPS + 1):
        spec_ep = replace(ep, effects=beta_fixed + effects_of(terms, beta, cp.levels), associations=())
        os_fit = fit_endpoint(spec_ep, "os", sample, cp, c, tv=sample["tv"])
        os_plan = os_fit[0]
        t_d = draw_death_times(os_plan, sample, sample["tv"])
        time, event = _censor(c, cp, sample, t_d, entry, loss_e)
        risk_sets = RiskSets.of(time, event, w)
        fits = [risk_sets.fit(d[:, idx] if ex is None else np.column_stack([d[:, idx], ex]))[:len(idx)]
                for idx, ex in zip(models, extras)]
        achieved = np.array([fits[k][pos] for k, pos in where])
        resid = (goal - achieved) / se
        prior = np.sqrt(DAMPING) * (beta - beta0) / term_se
        history.append(float(resid @ resid + prior @ prior))
        if prev is not None and history[-1] > prev[0] and step < MAX_STEPS:
            beta = 0.5 * (beta + prev[1])  # overshoot: back to halfway
            continue
        if step == MAX_STEPS:
            break
        delta = _regularised_step(jac, resid, prior, term_se)
        if np.max(np.abs(delta) / term_se) < STEP_TOL:
            break
        prev = (history[-1], beta, achieved)
        beta = beta + delta
    fit = Fit(tuple(m for m, *_ in rows), tuple(terms[i].name for _, i, *_ in rows),
              tuple(t for _, _, t, _ in rows), goal, se, achieved, tuple(e.how for *_, e in rows))
    report = {"terms": {t.name: float(np.exp(b)) for t, b in zip(terms, beta)},
              "steps": step, "objective": history, "fit": fit,
              "assumed": {a.variable: a.assume for a in ep.associations if a.assume is not None}}
    # every exit follows the fit of the current beta: os_fit is the solved effects' fit
    return beta_fixed + effects_of(terms, beta, cp.levels), report, os_fit


def _regularised_step(jac: np.ndarray, resid: np.ndarray, prior: np.ndarray, term_se: np.ndarray) -> np.ndarray:
    """Gauss-Newton step of the residuals plus the prior rows ``sqrt(DAMPING) (beta -
    beta0) / se``. Covariates that nearly add up to a constant (the sites of a
    multiselect with at least one option) leave a direction the printed HRs hardly
    determine; the prior keeps the effects there near the printed ones instead of
    drifting along it."""
    a = np.vstack([jac, np.sqrt(DAMPING) * np.diag(1.0 / term_se)])
    return np.linalg.lstsq(a, np.concatenate([resid, -prior]), rcond=None)[0]


def _term_se(rows, p: int) -> np.ndarray:
    """Per term, the smallest printed SE among its rows (the scale of a step)."""
    out = np.full(p, np.inf)
    for _, i, _, e in rows:
        out[i] = min(out[i], e.se)
    return out


def _censor(c: CohortSpec, cp: CovariatePlan, sample: dict, t_d: np.ndarray, entry: np.ndarray,
            loss_e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observed OS of the calibration sample under the study's censoring.

    Censoring calibrated to OS deaths or a median follow-up is solved here for the current
    death times; a loss rate calibrated to PFS events is not known yet and is taken as 0
    (only the administrative censoring applies during the association fit).
    """
    cen = c.censoring
    if cen is None:
        return t_d, np.ones(len(t_d))
    design = solve_censoring(cen, sample, cp, {"os": t_d})[0]
    loss = design.loss_rate
    admin = np.minimum(cen.accrual * (1 - entry) + design.follow_up, design.admin_max)
    cens = admin if loss == 0 else np.minimum(admin, loss_e / loss)
    return np.minimum(t_d, cens), (t_d <= cens).astype(float)


def association_checks(report: dict) -> list[dict]:
    """Rows of the association fit: published and achieved HR, residual in printed SEs."""
    f: Fit = report["fit"]
    return [{"model": m, "term": t, "target": tid, "published": float(np.exp(g)), "achieved": float(np.exp(a)),
             "residual_se": float((g - a) / s), "how": h}
            for m, t, tid, g, s, a, h in zip(f.model, f.term, f.target_id, f.published, f.se, f.achieved, f.how)]


def fit_table(report: dict) -> str:
    """A plain-text table of :func:`association_checks` (for reports and docs)."""
    lines = [f"{'term':32s} {'model':13s} {'published':>9s} {'achieved':>9s} {'resid/SE':>8s}"]
    for r in association_checks(report):
        lines.append(f"{r['term']:32s} {r['model']:13s} {r['published']:9.4f} {r['achieved']:9.4f} "
                     f"{r['residual_se']:8.2f}")
    return "\n".join(lines)
