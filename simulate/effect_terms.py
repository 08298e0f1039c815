"""Covariate effects compiled to the terms of a linear predictor.

An outcome's ``effects`` entries (:class:`~simulate.spec_outcomes.Effect`, or the
response's :class:`~simulate.spec_outcomes.ResponseEffect`) become ``(column, kind, log
ratio, per / threshold, arm)`` tuples, which
:meth:`~simulate.outcomes.EndpointPlan.covariate_lp` sums; the checks only the fitted
covariate plan allows (a list of ratios needs a categorical variable with that many
levels) are made here.
"""
from __future__ import annotations

import numpy as np

from .spec import SpecError

__all__ = ["compile_effects"]


def compile_effects(effects, types: dict[str, str], n_levels: dict[str, int], key: str,
                    ratio: str = "hr", treated_of: dict[str, int] | None = None) -> tuple:
    """``(column, kind, log ratio, per / threshold, arm)`` per effect; ``ratio`` names the
    effect's ratio field (``"hr"``, or ``"odds_ratio"`` for response effects). ``arm`` is
    ``None`` (every arm) or the treated indicator (0 or 1) of the arm the effect names,
    looked up in ``treated_of`` (arm label -> 0/1)."""
    out = []
    word = {"hr": "HRs"}.get(ratio, "odds ratios")
    for j, e in enumerate(effects):
        on = None if getattr(e, "arm", None) is None else treated_of[e.arm]
        t = types[e.variable]
        r = getattr(e, ratio)
        if isinstance(r, tuple):
            k = n_levels.get(e.variable, 0)
            if k < 2:
                raise SpecError(f"{key}.effects[{j}].{ratio}", f"a list of {word} needs a categorical variable, "
                                f"{e.variable!r} is {t}")
            hrs = r if len(r) == k else (1.0,) + r if len(r) == k - 1 else None
            if hrs is None or hrs[0] != 1.0:
                raise SpecError(f"{key}.effects[{j}].{ratio}", f"needs {k - 1} {word} (levels after the first) "
                                f"or {k} starting with 1.0, got {list(r)}")
            out.append((e.variable, "level", np.log(np.asarray(hrs)), None, on))
        elif e.above is not None:
            out.append((e.variable, "above", float(np.log(r)), e.above, on))
        else:
            if t == "categorical" and n_levels.get(e.variable, 0) > 2:
                raise SpecError(f"{key}.effects[{j}].{ratio}", f"{e.variable!r} has several levels: give a "
                                f"list of {word}")
            out.append((e.variable, "per", float(np.log(r)), e.per, on))
    return tuple(out)
