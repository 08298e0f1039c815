"""The built-in sensitivity dimension for effects a paper does not report.

A covariate the paper gives no outcome association for (no ``effects`` entry, no row of
its Cox table) has, in the study's own world, no effect on survival: "not reported" read
as "no effect". That is the assumption most likely to decide an adjustment shift, since
a covariate without effect cannot confound. This module varies it as two families of
worlds indexed by a strength ``k``, the **hazard ratio per standard deviation** of every
such covariate (``k = 1`` is the study's own world):

- ``unreported_effects_aligned``: each covariate is harmful in the direction in which the
  treated arm has more of it (the crude treatment HR is then biased upwards, and
  adjustment moves it down);
- ``unreported_effects_opposed``: each covariate is harmful in the direction the control
  arm has more of it (adjustment moves the HR up).

So, for a verdict that depends on confounding, the tipping point reads "the verdict flips
once every covariate without a published effect carries a hazard ratio of ``k`` per SD,
all pointing the same way": the two directions are the extremes of what unreported effects
of a common size can do to an adjusted estimate. The imbalance direction and the SD come
from the published per-arm summaries:

- binary: ``P(1)`` per arm, SD ``sqrt(p(1 - p))`` at the pooled ``p``; the effect is for
  1 vs 0;
- categorical: each non-reference level as an indicator against the first level, its own
  direction and SD;
- continuous / count: the arm means (medians where no mean is printed), SD from ``sd``,
  else ``(q3 - q1) / 1.349``, else ``(max - min) / 4``; the effect is per SD;
- a continuous variable printed as a category split: a threshold effect at the cut point
  whose pooled share above is nearest one half.

Multiselect pattern variables are skipped (their options are binary variables of their
own); so are outcomes given by a Cox table (``associations``), where every covariate
needs an entry or an explicit ``assume``. Each member is recalibrated like every world, so
the medians and rates the paper printed still hold.
"""
from __future__ import annotations

import math
from typing import Any, Mapping

from tacebench.simulate.io import spec_from_dict

__all__ = ["UNREPORTED_STRENGTHS", "UNREPORTED_FAMILIES", "unreported_effects",
           "unreported_sets"]

#: Hazard ratios per SD of the unreported-effects families (1 = the study's own world).
UNREPORTED_STRENGTHS = (1.2, 1.5)
#: family name -> sign of the effect relative to the treated arm's excess
UNREPORTED_FAMILIES = {"unreported_effects_aligned": 1.0, "unreported_effects_opposed": -1.0}
_SURVIVAL = ("os", "pfs")


def _direction(d: float) -> float:
    # a covariate balanced to the printed digits still gets an effect: positive by convention
    return -1.0 if d < 0 else 1.0


def _pair(v, arms) -> tuple[Any, Any] | None:
    t = [a.label for a in arms if a.treated]
    c = [a.label for a in arms if not a.treated]
    if len(t) != 1 or len(c) != 1 or t[0] not in v.arms or c[0] not in v.arms:
        return None
    n = {a.label: a.n for a in arms}
    return (t[0], n[t[0]]), (c[0], n[c[0]])


def _indicator_effect(p_t: float, p_c: float, w_t: float) -> tuple[float, float] | None:
    """(sign, 1 / SD) of an indicator with shares ``p_t`` / ``p_c``."""
    p = w_t * p_t + (1.0 - w_t) * p_c
    if not 0.0 < p < 1.0:
        return None
    return _direction(p_t - p_c), 1.0 / math.sqrt(p * (1.0 - p))


def _location_spread(s) -> tuple[float | None, float | None]:
    return (s.mean if s.mean is not None else s.median), s.spread()


def _effect(v, arms, k: float, sign: float) -> dict | None:
    """The override item (``{variable, hr, per | above}``) of one covariate, or None."""
    pair = _pair(v, arms)
    if pair is None:
        return None
    (lt, nt), (lc, nc) = pair
    w_t = nt / (nt + nc)
    log_k = sign * math.log(k)
    why = {"source": f"assumed: HR {k:g} per SD, not reported by the paper"}
    if v.type in ("binary", "categorical") or v.is_split:
        pt, pc = v.arm_probs(lt, nt), v.arm_probs(lc, nc)
        if v.is_split:
            above = [sum(pt[i:]) * w_t + sum(pc[i:]) * (1 - w_t) for i in range(1, len(pt))]
            i = min(range(len(above)), key=lambda j: abs(above[j] - 0.5))
            e = _indicator_effect(sum(pt[i + 1:]), sum(pc[i + 1:]), w_t)
            return None if e is None else {"variable": v.name, "hr": math.exp(e[0] * e[1] * log_k),
                                            "above": v.cutpoints[i], **why}
        if v.type == "binary":
            e = _indicator_effect(pt[1], pc[1], w_t)
            return None if e is None else {"variable": v.name, "hr": math.exp(e[0] * e[1] * log_k),
                                            **why}
        hrs = []
        for j in range(1, len(pt)):
            e = _indicator_effect(pt[j], pc[j], w_t)
            hrs.append(1.0 if e is None else math.exp(e[0] * e[1] * log_k))
        return {"variable": v.name, "hr": hrs, **why}
    (mt, st), (mc, sc) = _location_spread(v.arms[lt]), _location_spread(v.arms[lc])
    if None in (mt, mc) or st is None or sc is None:
        return None
    sd = math.sqrt(w_t * st ** 2 + (1 - w_t) * sc ** 2)
    return {"variable": v.name, "hr": math.exp(_direction(mt - mc) * log_k), "per": sd, **why}


def unreported_effects(cohort_raw: Mapping, k: float, sign: float) -> dict[str, list]:
    """Override paths -> the effects appended for strength ``k`` in direction ``sign``.

    Parameters
    ----------
    cohort_raw : the parsed ``cohort.toml``.
    k : hazard ratio per SD (> 0).
    sign : +1 harmful where the treated arm has more, -1 where the control arm has more.

    Returns
    -------
    ``{"cohorts.<name>.outcomes.<os|pfs>.effects": [item, ...]}`` for every two-arm cohort
    and survival outcome with covariates that have no reported effect (empty when none).
    """
    return _effects(spec_from_dict(cohort_raw, source="<unreported effects>"), k, sign)


def _effects(spec, k: float, sign: float) -> dict[str, list]:
    out: dict[str, list] = {}
    for cname, c in spec.cohorts.items():
        if len(c.arms) != 2:
            continue
        for o in _SURVIVAL:
            ep = getattr(c, o)
            if ep is None or ep.associations:
                continue
            # an effect of one arm reports the variable too (one of every arm beside it
            # would be refused, and the paper gave its effect where it fitted one)
            reported = {e.variable for e in ep.effects}
            items = [e for v in c.variables if v.name not in reported and v.type != "multiselect"
                     for e in [_effect(v, c.arms, k, sign)] if e is not None]
            if items:
                out[f"cohorts.{cname}.outcomes.{o}.effects"] = items
    return out


def unreported_sets(cohort_raw: Mapping) -> list[tuple[str, float, dict[str, list]]]:
    """(family, k, appended effects) of every member of both families, or [] when no
    covariate lacks a reported effect."""
    spec = spec_from_dict(cohort_raw, source="<unreported effects>")
    out = []
    for family, sign in UNREPORTED_FAMILIES.items():
        for k in UNREPORTED_STRENGTHS:
            app = _effects(spec, k, sign)
            if app:
                out.append((family, k, app))
    return out
