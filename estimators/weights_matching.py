"""Matching weights (Li & Greene 2013): the weighting analogue of 1:1 pair matching.

With ``e`` the propensity score, ``w = min(e, 1 - e) / e`` for treated units and
``min(e, 1 - e) / (1 - e)`` for controls (WeightIt ``estimand = "ATM"``). Every weight is in
(0, 1]; the target population is the one 1:1 matching without a caliper would keep, with
the largest weights where the arms overlap most.

References
----------
Li L, Greene T (2013). A weighting analogue to pair matching in propensity score analysis.
Int J Biostat 9(2):215-234.
"""
from __future__ import annotations

import numpy as np

from ._checks import check_binary, check_both_arms, check_lengths, check_probability
from .balancing_result import BalancingWeights

__all__ = ["matching_weights", "matching_weights_kernel"]


def matching_weights_kernel(ps: np.ndarray, z: np.ndarray) -> BalancingWeights:
    """Matching weights on trusted input (the kernel of :func:`matching_weights`).

    Parameters
    ----------
    ps : (n,) float array in (0, 1)
    z : (n,) array of 0/1

    Returns
    -------
    BalancingWeights
        ``estimand = "ATM"``, no balanced columns.

    Notes
    -----
    No validation, and never raises on data.
    """
    w = np.minimum(ps, 1.0 - ps) / np.where(z == 1, ps, 1.0 - ps)
    return BalancingWeights(weights=w, treated=z.astype(np.int8), method="matching",
                            estimand="ATM", ps=ps)


def matching_weights(ps, treated) -> BalancingWeights:
    """Matching weights ``min(e, 1 - e) / P(Z = z_i | X)`` from a propensity score.

    Parameters
    ----------
    ps : (n,) array-like
        Propensity scores, each strictly inside (0, 1).
    treated : (n,) array-like of 0/1

    Returns
    -------
    BalancingWeights

    Notes
    -----
    R equivalent: ``WeightIt::get_w_from_ps(ps, treated, estimand = "ATM")``.

    References
    ----------
    Li L, Greene T (2013). Int J Biostat 9(2):215-234.
    """
    p = check_probability(ps, "ps")
    z = check_binary(treated, "treated")
    check_lengths({"ps": p, "treated": z})
    check_both_arms(z)
    return matching_weights_kernel(p, z)
