"""Balancing weights: one entry point and the capability table that validates and dispatches.

:data:`METHODS` says, per method, what it takes (covariates or a propensity score), which
estimands it defines and whether ``moments`` applies, as WeightIt's method table does;
:func:`balancing_weights` checks a call against it and calls the method's public function.
IPTW weights from a fitted propensity score stay in :mod:`estimators.weights`.

========== ================================ ============= ===============================
method     what                             estimands     module
========== ================================ ============= ===============================
ebal       entropy balancing                ATT ATC ATE   :mod:`estimators.weights_ebal`
cbps       just-identified CBPS             ATE ATT ATC   :mod:`estimators.weights_cbps`
matching   matching weights (Li & Greene)   ATM           :mod:`estimators.weights_matching`
========== ================================ ============= ===============================

References
----------
Hainmueller J (2012). Political Analysis 20:25-46.
Imai K, Ratkovic M (2014). JRSS B 76:243-263.
Li L, Greene T (2013). Int J Biostat 9(2):215-234.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._checks import check_choice
from .balancing_result import BalancingWeights
from .weights_cbps import CBPS_ESTIMANDS, cbps_weights
from .weights_ebal import EBAL_ESTIMANDS, entropy_balancing
from .weights_matching import matching_weights

__all__ = ["METHODS", "BalancingMethod", "balancing_weights"]


@dataclass(frozen=True)
class BalancingMethod:
    """What a balancing method supports. ``takes`` is ``"covariates"`` (an (n, p) matrix)
    or ``"ps"`` (a propensity score); the first estimand is the default."""

    estimands: tuple
    takes: str
    moments: bool
    run: Callable
    description: str


METHODS: dict[str, BalancingMethod] = {
    "ebal": BalancingMethod(tuple(EBAL_ESTIMANDS), "covariates", True, entropy_balancing,
                            "entropy balancing (Hainmueller 2012)"),
    "cbps": BalancingMethod(CBPS_ESTIMANDS, "covariates", False, cbps_weights,
                            "just-identified covariate balancing propensity score"),
    "matching": BalancingMethod(("ATM",), "ps", False, matching_weights,
                                "matching weights (Li & Greene 2013)"),
}


def balancing_weights(x, treated, *, method: str, estimand: str | None = None,
                      moments: int = 1, names=None) -> BalancingWeights:
    """Balancing weights by ``method``, validated against :data:`METHODS`.

    Parameters
    ----------
    x : (n, p) array-like / DataFrame of covariates, or (n,) propensity scores
        What ``METHODS[method].takes``.
    treated : (n,) array-like of 0/1
    method : {"ebal", "cbps", "matching"}
    estimand : str, optional
        One of the method's estimands (default its first: ATT, ATE, ATM).
    moments : int
        Entropy balancing only (1, 2 or 3).
    names : sequence of str, optional
        Covariate names (covariate methods only).

    Returns
    -------
    BalancingWeights

    Raises
    ------
    ValueError
        An unknown method, an estimand or option the method does not define, or the
        method's own input errors.

    References
    ----------
    See the module docstring.
    """
    check_choice(method, "method", tuple(METHODS))
    cap = METHODS[method]
    estimand = cap.estimands[0] if estimand is None else estimand
    if estimand not in cap.estimands:
        raise ValueError(f"estimand={estimand!r} is not defined for method={method!r} "
                         f"(it supports {list(cap.estimands)})")
    if moments != 1 and not cap.moments:
        raise ValueError(f"moments={moments!r} is not supported by method={method!r}; "
                         f"only {[k for k, c in METHODS.items() if c.moments]} take moments")
    if cap.takes == "ps":
        if names is not None:
            raise ValueError(f"names does not apply to method={method!r} (it takes a "
                             "propensity score)")
        return cap.run(x, treated)
    kw = {"moments": moments} if cap.moments else {}
    return cap.run(x, treated, estimand=estimand, names=names, **kw)
