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
from .weights_cbps import CBPS_ESTIMANDS, cbps_weights, cbps_weights_checked
from .weights_ebal import EBAL_ESTIMANDS, entropy_balancing, entropy_balancing_checked
from .weights_matching import matching_weights

__all__ = ["METHODS", "BalancingMethod", "balancing_weights", "balancing_weights_checked"]


@dataclass(frozen=True)
class BalancingMethod:
    """What a balancing method supports. ``takes`` is ``"covariates"`` (an (n, p) matrix)
    or ``"ps"`` (a propensity score); the first estimand is the default. ``checked`` (a
    method with a solver only): ``run``'s checks of its kernel's result, see
    :func:`balancing_weights_checked`."""

    estimands: tuple
    takes: str
    moments: bool
    run: Callable
    description: str
    checked: Callable | None = None


METHODS: dict[str, BalancingMethod] = {
    "ebal": BalancingMethod(tuple(EBAL_ESTIMANDS), "covariates", True, entropy_balancing,
                            "entropy balancing (Hainmueller 2012)",
                            entropy_balancing_checked),
    "cbps": BalancingMethod(CBPS_ESTIMANDS, "covariates", False, cbps_weights,
                            "just-identified covariate balancing propensity score",
                            cbps_weights_checked),
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


def balancing_weights_checked(solved: BalancingWeights, x, treated) -> BalancingWeights:
    """What ``balancing_weights(x, treated, method=solved.method, estimand=solved.estimand)``
    returns or raises, given ``solved``, the method's kernel result on these inputs
    (default options and names): the same checks and errors, without solving again.

    Parameters
    ----------
    solved : BalancingWeights
        The result of :func:`estimators.weights_ebal.entropy_balancing_kernel` or
        :func:`estimators.weights_cbps.cbps_weights_kernel` on ``x`` and ``treated``.
    x : (n, p) array-like
    treated : (n,) array-like of 0/1

    Returns
    -------
    BalancingWeights
        ``solved``, where the public function would return it.

    Raises
    ------
    ValueError
        The public function's error: bad input, dependent columns (entropy balancing),
        or a solver that did not converge.

    References
    ----------
    See the module docstring.
    """
    check_choice(solved.method, "method", tuple(m for m, c in METHODS.items() if c.checked))
    return METHODS[solved.method].checked(solved, x, treated)
