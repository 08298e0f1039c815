"""The calibration sample: one large fixed-seed cohort that every calibration of a spec uses.

:data:`CAL_PER_ARM` patients per arm, drawn from the compiled covariate plan with a fixed
seed (and the time-varying therapy's start and duration), plus the latent normals of the
outcome models. The same plan always gives the same sample, so what is computed from it
(the calibrations, and the calibration checks when they are asked for,
:func:`simulate.calibration_quality.calibration_checks`) can be computed again from the
plan alone.

The sample's arms are equal, a cohort's rarely are. A calibration to a per-arm target
reads one arm's rows and is not affected; one to a whole-cohort target (pooled over the
arms: a covariate's missing share, the response's HR of PD vs non-PD, a median follow-up,
an event count, the printed Cox table) weights every sampled patient by
:func:`cohort_weights`, the cohort's share of the patient's arm over the sample's, so the
weighted sample is the cohort's population: its arms in the cohort's proportions, the
draws unchanged.
"""
from __future__ import annotations

import numpy as np
from scipy import special

from .outcomes import EndpointPlan
from .plan import _CAL_SEED, CovariatePlan, add_derived, draw_covariates
from .therapy_draw import therapy

CAL_PER_ARM = 20_000


def calibration_sample(cp: CovariatePlan, c, op_tv) -> dict:
    """The calibration sample of covariate plan ``cp`` with therapy ``op_tv`` (``c``, the
    cohort, is not read: the plan holds what the draws need)."""
    rng = np.random.default_rng(_CAL_SEED + 1)
    counts = np.full(len(cp.arm_labels), CAL_PER_ARM)
    arm, x, _, u = draw_covariates(cp, rng, counts, with_ps=False)  # no rng draws in the PS
    cols = {nm: x[:, j] for j, nm in enumerate(cp.names)}
    add_derived(cp, cols, len(arm))
    treated = (arm == cp.treated_arm).astype(float)
    tv = therapy(op_tv, arm, rng)
    return {"arm": arm, "cols": cols, "treated": treated, "u": u, "tv": tv, "rng": rng,
            "w_d": rng.standard_normal(len(arm)), "w_p": rng.standard_normal(len(arm)),
            "w_r": rng.standard_normal(len(arm)), "n": len(arm)}


def cohort_weights(sample: dict, arm_n) -> np.ndarray:
    """Importance weights taking the calibration sample to the cohort's arm proportions.

    Parameters
    ----------
    sample : dict
        The calibration sample (its ``arm`` codes and size ``n``).
    arm_n : array_like
        The cohort's arm sizes, in arm-code order.

    Returns
    -------
    numpy.ndarray
        Per sampled patient, ``(n_a / N) / (m_a / M)``: the cohort's share of the patient's
        arm ``a`` over the sample's (``m_a`` of ``M``; ``1 / K`` for ``K`` equal arms). The
        weights average 1, and are exactly 1 when the cohort's arms are equal (or one), so
        a weighted mean is then the plain mean.
    """
    arm, arm_n = sample["arm"], np.asarray(arm_n, float)
    w = np.empty(sample["n"])
    for a, n_a in enumerate(arm_n):
        m = arm == a
        w[m] = (n_a / arm_n.sum()) / (m.sum() / sample["n"])
    return w


def draw_death_times(op_os: EndpointPlan, sample: dict, tv) -> np.ndarray:
    """Death times of the calibration sample under OS model ``op_os`` (its latent ``w_d``)."""
    eta = op_os.covariate_lp(sample["cols"], sample["n"], sample["treated"]) + op_os.beta_treat * sample["treated"]
    if sample["u"] is not None:
        eta = eta + op_os.beta_u * sample["u"]
    return op_os.event_times(-special.log_ndtr(-sample["w_d"]), eta, sample["treated"], tv)


__all__ = ["CAL_PER_ARM", "calibration_sample", "cohort_weights", "draw_death_times"]
