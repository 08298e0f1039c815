"""Compile a cohort specification into a :class:`CovariatePlan` of numpy arrays.

Compilation (fitting marginals, building the correlation matrix, solving the logistic
assignment) happens once per spec; :func:`draw_covariates` is the per-cohort kernel
(pure numpy, no pandas, no validation).
"""
from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from tacebench.records import ArrayRecord

from .assignment import FeatureMap, POPULATION_SIZE, feature_map, solve_logistic, unmeasured_probs
from .cache import LRUCache
from .correlation import build_correlation
from .covariates import (ArmTables, DensityModel, arm_tables, discrete_codes, draw_discrete,
                         interp_tables, latent_of, leading_blocks)
from .derived import LEVELS as DERIVED_LEVELS, check_roles, compute_derived
from .marginals import compile_marginals, pooled_marginal
from .multiselect import compile_multiselect, expand_options
from .spec import SpecError
from .streams import LockstepDraws, each
from .study import CohortSpec

_CAL_SEED = 20240601  # fixed seed of every calibration/population sample


@dataclass(frozen=True, eq=False)
class CovariatePlan(ArrayRecord):
    """Everything the per-cohort covariate kernel needs, as arrays."""

    arm_labels: tuple[str, ...]
    arm_n: np.ndarray
    treated_arm: int                    # index of the treated arm (-1 for one arm)
    names: tuple[str, ...]              # internal order: continuous first
    types: tuple[str, ...]
    n_cont: int
    chol: np.ndarray
    corr: np.ndarray
    tabs: tuple[ArmTables, ...]         # per arm (arm_marginals) or one pooled (logistic)
    density: DensityModel | None
    logistic: tuple[FeatureMap, np.ndarray] | None
    u_name: str | None
    u_probs: tuple[float, ...] | None   # P(U=1) per arm (arm_marginals) or prevalence
    u_logor: float
    levels: dict[str, tuple[str, ...]]
    derived: tuple = ()
    report: dict = field(default_factory=dict)
    multiselect: tuple = ()             # (name, option names, pattern bits, pattern labels)

    @property
    def pi(self) -> np.ndarray:
        return self.arm_n / self.arm_n.sum()

    @property
    def treated_of(self) -> dict[str, int]:
        """Arm label -> its patients' treated indicator (0 in a one-arm cohort)."""
        return {lab: int(a == self.treated_arm) for a, lab in enumerate(self.arm_labels)}


def _shared(parts: LRUCache | None, what: str, inputs: tuple, compute):
    """``compute()``, or its value from ``parts`` (a memo of sub-steps that several cohorts
    share, keyed by the sub-step's name and the pickled bytes of all of its inputs)."""
    if parts is None:
        return compute()
    return parts.get_or_compute((what, hashlib.sha256(pickle.dumps(inputs)).hexdigest()), compute)


def compile_covariates(c: CohortSpec, parts: LRUCache | None = None) -> CovariatePlan:
    """The covariate plan of a cohort. ``parts``: a memo of the variables' fitted marginals
    (:attr:`~simulate.cache.PlanCache.parts`): cohorts that differ only elsewhere (the
    outcome model, the assignment, other variables) fit each variable once."""
    labels = c.arm_labels
    arm_n = {a.label: a.n for a in c.arms}
    options = c.option_names  # generated from their multiselect's pattern, not in the copula
    order = [v for v in c.variables if v.type == "continuous"] + \
        [v for v in c.variables if v.type != "continuous" and v.name not in options] + list(c.multiselect)
    n_cont = sum(v.type == "continuous" for v in order)
    problems: list[tuple[str, str]] = []
    margs, multi = {}, []
    for v in order:
        key = c.variable_key(v.name)
        try:
            if v.type == "multiselect":
                opts = [c.variable(o) for o in v.options]
                margs[v.name], ms = _shared(parts, "multiselect", (v, opts, arm_n, key),
                                            lambda: compile_multiselect(v, opts, arm_n, key))
                multi.append(ms)
            else:
                margs[v.name] = _shared(parts, "marginals", (v, arm_n, key), lambda: compile_marginals(v, arm_n, key))
        except SpecError as e:
            problems.extend(e.problems)
    for i, d in enumerate(c.derived):
        try:
            check_roles(d, f"derived[{i}]")
        except SpecError as e:
            problems.extend(e.problems)
    if problems:
        raise SpecError(problems)
    names = [v.name for v in order]
    # a multiselect's pattern is one categorical variable (levels = option subsets)
    types = tuple("categorical" if v.type == "multiselect" else v.type for v in order)
    discrete = [v.type != "continuous" for v in order]
    corr = build_correlation(names, discrete, c.correlation.default, c.correlation.pairs,
                             conditional_discrete=c.assignment == "arm_marginals")
    chol = np.linalg.cholesky(corr) if names else np.zeros((0, 0))
    levels = {v.name: v.levels if v.type == "categorical" else () for v in order}
    for v in c.variables:
        if v.type == "binary":
            levels[v.name] = ("0", "1")
    for name, _opts, _bits, pat_labels in multi:
        levels[name] = pat_labels
    for d in c.derived:
        if d.kind in DERIVED_LEVELS:
            levels[d.name] = DERIVED_LEVELS[d.kind]
    treated = [i for i, a in enumerate(c.arms) if a.treated]
    t_arm = treated[0] if treated and len(c.arms) == 2 else -1
    nvec = np.array([a.n for a in c.arms], float)
    report = {"marginals": {v.name: {lab: margs[v.name][lab].report for lab in labels} for v in order}}
    u = c.unmeasured
    u_logor = float(np.log(u.treatment_or)) if u is not None else 0.0
    if c.assignment == "arm_marginals" or len(c.arms) == 1:
        tabs = tuple(arm_tables([margs[nm][lab] for nm in names], n_cont) for lab in labels)
        density = DensityModel.from_corr(corr, n_cont) if len(c.arms) == 2 else None
        u_probs = None
        if u is not None:
            u_probs = (u.prevalence,) if len(c.arms) == 1 else \
                tuple(unmeasured_probs(u.prevalence, u.treatment_or, nvec[t_arm] / nvec.sum())[::1 if t_arm == 1 else -1])
        return CovariatePlan(labels, nvec, t_arm, tuple(names), types, n_cont, chol, corr,
                             tabs, density, None, u.name if u else None, u_probs, u_logor, levels,
                             tuple(c.derived), report, tuple(multi))
    # logistic route: pooled population + solved assignment model
    pooled = [pooled_marginal([margs[nm][lab] for lab in labels], nvec) for nm in names]
    ptab = arm_tables(pooled, n_cont)
    fm, target = feature_map(list(types), [v.cutpoints for v in order], pooled,
                             [margs[nm][labels[t_arm]] for nm in names])
    rng = np.random.default_rng(_CAL_SEED)
    x, _ = _population(ptab, chol, n_cont, POPULATION_SIZE, rng)
    offset = None
    u_probs = None
    if u is not None:
        uu = rng.random(POPULATION_SIZE) < u.prevalence
        offset = u_logor * uu
        u_probs = (u.prevalence,)
    theta = solve_logistic(fm(x), target, float(nvec[t_arm] / nvec.sum()), offset)
    report["logistic_coef"] = theta.tolist()
    return CovariatePlan(labels, nvec, t_arm, tuple(names), types, n_cont, chol, corr,
                         (ptab,), None, (fm, theta), u.name if u else None, u_probs, u_logor, levels,
                         tuple(c.derived), report, tuple(multi))


def _population(tab: ArmTables, chol: np.ndarray, n_cont: int, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    z = rng.standard_normal((n, chol.shape[0])) @ chol.T
    x = np.empty_like(z)
    interp_tables(tab.tables, z[:, :n_cont].T, tab.steps, out=x[:, :n_cont].T)
    draw_discrete(tab, z[:, n_cont:].T, out=x[:, n_cont:].T)
    return x, z


def draw_covariates(plan: CovariatePlan, rng: "np.random.Generator | LockstepDraws",
                    arm_n: np.ndarray | None = None, with_ps: bool = True
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """One cohort's covariates: ``(arm, x, true_ps, u)`` with rows grouped by arm.

    ``true_ps`` is ``P(A = 1 | x, u)`` (``NaN`` for a one-arm cohort or without
    ``with_ps``; the logistic route always has it). With a
    :class:`~simulate.streams.LockstepDraws` of R generators, ``x``, ``true_ps`` and
    ``u`` get a leading replicate axis (``arm`` is the same for all replicates).
    ``x`` is ``(..., n, p)``, stored variables first (each column ``x[..., j]`` is
    contiguous) except in the logistic route.
    """
    counts = plan.arm_n.astype(int) if arm_n is None else np.asarray(arm_n, int)
    if plan.logistic is not None:  # a rejection loop: data-dependent draw sizes
        arm, x, ps, u = each(rng, lambda g: _draw_logistic(plan, g, counts))
        return (arm if arm.ndim == 1 else arm[0]), x, ps, u
    p = len(plan.names)
    n = int(counts.sum())
    arm = np.repeat(np.arange(len(counts)), counts)
    zt = _latents(rng.standard_normal((n, p)), plan.chol)  # zt[j]: variable j, contiguous
    nc = plan.n_cont
    want_ps = plan.density is not None and with_ps
    xt = np.empty(zt.shape) if want_ps else zt  # each block is read before it is written
    u = None
    if plan.u_probs is not None:
        u = (rng.random(n) < np.asarray(plan.u_probs)[arm]).astype(float)
    own_codes = []
    bounds = np.concatenate(([0], np.cumsum(counts)))
    for a in range(len(counts)):
        sl = slice(bounds[a], bounds[a + 1])
        tab = plan.tabs[a]
        interp_tables(tab.tables, zt[:nc, ..., sl], tab.steps, out=xt[:nc, ..., sl])
        own_codes.append(draw_discrete(tab, zt[nc:, ..., sl], out=xt[nc:, ..., sl], codes=want_ps)[1])
    x = _rows_first(xt)  # (..., n, p) with contiguous columns x[..., j]
    if not want_ps:
        return arm, x, np.full(x.shape[:-1], np.nan), u
    # log f_b(x) for every row under each arm b's density: rows of arm b use their own
    # latents and codes, the other arm's rows are mapped back through b's marginals; one
    # density evaluation per arm over all rows (the density is row by row)
    logf = np.empty(x.shape[:-1] + (2,))
    for b in (0, 1):
        tab = plan.tabs[b]
        zc = np.empty(x.shape[:-1] + (nc,))
        codes = np.empty(x.shape[:-1] + (p - nc,), dtype=np.intp)
        for a in (0, 1):
            sl = slice(bounds[a], bounds[a + 1])
            if a == b:
                zc[..., sl, :] = np.clip(_rows_first(zt[:nc, ..., sl]), -8.0, 8.0)
                codes[..., sl, :] = _rows_first(own_codes[a])
            else:
                zc[..., sl, :] = latent_of(tab, x[..., sl, :nc])
                codes[..., sl, :] = discrete_codes(tab, x[..., sl, nc:])
        logf[..., b] = plan.density.log_density(tab, zc, codes)
    t, c = plan.treated_arm, 1 - plan.treated_arm
    lp = np.log(plan.pi[t]) - np.log(plan.pi[c]) + logf[..., t] - logf[..., c]
    if u is not None:
        pu = np.asarray(plan.u_probs)
        lp += np.where(u == 1, np.log(pu[t] / pu[c]), np.log((1 - pu[t]) / (1 - pu[c])))
    with np.errstate(invalid="ignore"):
        ps = special.expit(lp)
    return arm, x, ps, u


def _rows_first(a: np.ndarray) -> np.ndarray:
    """View of a variables-first array with the variables last (``np.moveaxis(a, 0, -1)``)."""
    return a.transpose(tuple(range(1, a.ndim)) + (0,))


def _variables_first(a: np.ndarray) -> np.ndarray:
    """View with the last axis first (``np.moveaxis(a, -1, 0)``)."""
    return a.transpose((a.ndim - 1,) + tuple(range(a.ndim - 1)))


def _latents(e: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """Correlated latents ``e @ chol.T`` stored variables first (``zt[j]`` contiguous).

    Each replicate's product is the one-cohort product ``(n, p) @ (p, p)`` (stacked
    replicates go to BLAS one by one, in blocks); only the storage order changes.
    """
    zt = np.empty((e.shape[-1],) + e.shape[:-1])
    if e.ndim == 2:
        zt[...] = (e @ chol.T).T
        return zt
    for blk in leading_blocks(e.shape):
        zt[:, blk] = _variables_first(e[blk] @ chol.T)
    return zt


def _draw_logistic(plan: CovariatePlan, rng, counts: np.ndarray):
    fm, theta = plan.logistic
    t = plan.treated_arm
    need = counts.copy()
    xs, ps, us, arms = [], [], [], []
    while need.max() > 0:
        m = int(1.25 * counts.sum()) + 32
        x, _ = _population(plan.tabs[0], plan.chol, plan.n_cont, m, rng)
        lp = theta[0] + fm(x) @ theta[1:]
        u = None
        if plan.u_probs is not None:
            u = (rng.random(m) < plan.u_probs[0]).astype(float)
            lp = lp + plan.u_logor * u
        e = special.expit(lp)
        a = np.where(rng.random(m) < e, t, 1 - t)
        for arm_i in (0, 1):
            idx = np.flatnonzero(a == arm_i)[: need[arm_i]]
            need[arm_i] -= len(idx)
            xs.append(x[idx]); ps.append(e[idx]); arms.append(np.full(len(idx), arm_i))
            us.append(u[idx] if u is not None else None)
    arm = np.concatenate(arms)
    order = np.argsort(arm, kind="stable")
    u = np.concatenate(us)[order] if plan.u_probs is not None else None
    return arm[order], np.concatenate(xs)[order], np.concatenate(ps)[order], u


def add_derived(plan: CovariatePlan, columns: dict[str, np.ndarray], n: int) -> None:
    """Option columns of multiselect variables, then the derived variables (in place)."""
    expand_options(columns, plan.multiselect)
    memo: dict = {}
    for d in plan.derived:
        columns[d.name] = compute_derived(d, columns, n, memo)


def propagate_missing(plan: CovariatePlan, columns: dict[str, np.ndarray]) -> None:
    """Blank what is computed from a blanked value (in place), after the missingness rules.

    A missing multiselect pattern hides its options and a missing option hides the
    pattern (the other options stay observed); a derived variable (ALBI, Child-Pugh) is
    missing wherever one of its inputs is, in the order they are defined, so a derived
    variable built on another follows it. Otherwise a "missing" value could be read back
    exactly from the columns computed from it (albumin from the ALBI score and bilirubin).
    """
    for name, opts, _bits, _labels in plan.multiselect:
        absent = np.isnan(columns[name])   # the pattern's own rule, before options hide it
        for o in opts:
            columns[o] = np.where(absent, np.nan, columns[o])
        hidden = np.any([np.isnan(columns[o]) for o in opts], axis=0)
        columns[name] = np.where(hidden, np.nan, columns[name])
    for d in plan.derived:
        hidden = np.any([np.isnan(columns[nm]) for nm in d.inputs.values()], axis=0)
        columns[d.name] = np.where(hidden, np.nan, columns[d.name])
