"""The seed-000 IPTW replicate through tacebench's public DataFrame API, and the same
analysis in statsmodels + lifelines, both starting from the same cohort DataFrame.

Where :mod:`pipelines` times the array kernels that Monte Carlo loops call, this times
what a user writes: a DataFrame in, :func:`estimators.propensity_score` (design matrix
built and validated from the frame), :func:`estimators.iptw_weights`,
:func:`estimators.cox_ph` with the robust SE and :func:`estimators.kaplan_meier` per arm,
every input validated at each public edge. Both sides receive the frame built by
:func:`frame` (``Cohort.to_frame()`` plus the two indicator columns of the paper's
propensity model); building it is not timed on either side, so the ratio is that of the
analyses.
"""
from __future__ import annotations

import numpy as np

from . import pipelines as P

#: The paper's propensity model as frame columns: ``child_pugh`` is a pandas Categorical
#: (A5/A6, coded against A5), the rest numeric, then the two derived indicators.
COVARIATES = (*P.PS_COLUMNS, "age_gt_60", "afp_ge_400")


def frame(plan_, seed: int):
    """The cohort of ``seed`` as a DataFrame (``Cohort.to_frame()``), with ``age_gt_60``
    and ``afp_ge_400`` (0/1) added."""
    from tacebench import simulate

    f = simulate.generate_cohort(plan_, seed=seed, with_ps=False).to_frame()
    f["age_gt_60"] = (f["age"] > 60.0).astype(np.float64)
    f["afp_ge_400"] = (f["afp"] >= 400.0).astype(np.float64)
    return f


def ours_iptw_public(f) -> P.Replicate:
    """Steps 2-5 of the replicate through the public API, from a DataFrame."""
    from tacebench.estimators import cox_ph, iptw_weights, kaplan_meier, propensity_score

    pm = propensity_score(f, "treated", COVARIATES)
    z = pm.treated
    w = iptw_weights(pm.ps, z, estimand="ATE", truncate=P.TRUNCATE)
    t, e = f["os_time"].to_numpy(), f["os_event"].to_numpy()
    cox = cox_ph(t, e, z, weights=w, robust=True, names=["treated"])
    ctl = z == 0
    trt = ~ctl
    m0 = kaplan_meier(t[ctl], e[ctl], w[ctl]).median()
    m1 = kaplan_meier(t[trt], e[trt], w[trt]).median()
    return P.Replicate(float(cox.coef[0]), float(cox.robust_se[0]), m0.estimate, m1.estimate)


def columns(f) -> dict[str, np.ndarray]:
    """The arrays :func:`pipelines.reference_iptw` reads, from the frame (``child_pugh``
    by its codes, the generator's own 0/1 coding)."""
    cols = {k: f[k].to_numpy() for k in (*P.PS_COLUMNS, "age", "afp", "treated", "os_time",
                                         "os_event") if k != "child_pugh"}
    cols["child_pugh"] = f["child_pugh"].cat.codes.to_numpy().astype(np.float64)
    return cols


def reference_iptw_public(f, opts: dict = P.DEFAULT) -> P.Replicate:
    """The same analysis in statsmodels ``Logit`` + lifelines (:func:`pipelines.reference_iptw`)
    from the same DataFrame."""
    return P.reference_iptw(columns(f), opts)
