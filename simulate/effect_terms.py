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
from .spec_base import RATIO_RANGE, ratio_beyond

__all__ = ["check_spans", "compile_effects"]

#: Percentiles of a covariate over the calibration sample between which a per-unit effect's
#: ratio is bounded (:func:`check_spans`): a range most patients lie in, so one extreme draw
#: of a long-tailed covariate does not decide it.
SPAN_PERCENTILES = (0.5, 99.5)


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


def check_spans(effects: tuple, cols: dict[str, np.ndarray], key: str, ratio: str = "hr") -> None:
    """Refuse a per-unit effect whose ratio across the patients' range of its covariate
    leaves :data:`~simulate.spec_base.RATIO_RANGE`.

    A continuous covariate's ``hr`` (or ``odds_ratio``) is per ``per`` units, so the ratio
    between two patients grows with the distance between their values: a per-unit HR of
    1.01 on AFP drawn lognormal with mean 3000 and SD 6000 ng/mL is a hazard ratio of about
    ``e^456`` between the patients at its 0.5th and 99.5th percentiles, and with a wider AFP
    the calibration failed on numbers that are not finite. The ratio between the patients at the :data:`SPAN_PERCENTILES` of
    the covariate over the calibration sample must lie in the range every ratio of the
    model is held to (a single effect's own ratio is checked where the file is read).

    Parameters
    ----------
    effects : tuple
        As :func:`compile_effects` returns them, in the order of the ``effects`` entries.
    cols : dict of str to numpy.ndarray
        The calibration sample's covariate columns.
    key : str
        The effects' key inside the cohort (``outcomes.os``, ``response``).
    ratio : str
        The effects' ratio field (``"hr"`` or ``"odds_ratio"``).

    Raises
    ------
    SpecError
        Naming ``{key}.effects[j].{ratio}`` of every effect out of range.
    """
    problems = []
    for j, (col, kind, coef, per, _) in enumerate(effects):
        if kind != "per" or coef == 0.0:
            continue
        lo, hi = np.nanpercentile(np.asarray(cols[col], float), SPAN_PERCENTILES)
        across = ratio_beyond(abs(coef) * (hi - lo) / per)
        if across is not None:
            problems.append((f"{key}.effects[{j}].{ratio}", (
                f"{np.exp(coef):.6g} per {per:g} unit(s) of {col} is a ratio of {across} between the simulated "
                f"patients at its {SPAN_PERCENTILES[0]:g}th and {SPAN_PERCENTILES[1]:g}th percentiles "
                f"({lo:.4g} and {hi:.4g}), outside [{RATIO_RANGE[0]:g}, {RATIO_RANGE[1]:g}]: a ratio "
                f"printed per 10, 100 or 1000 units of a wide covariate needs `per`")))
    if problems:
        raise SpecError(problems)
