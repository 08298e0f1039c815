"""Checks of a public function's options: scalar options (a caliper width, a tolerance),
and options that pool within-arm statistics.

A scalar option is used in arithmetic and comparisons deep inside a kernel, where a
string, a list or a boolean fails with a numpy traceback or, worse, is broadcast.
:func:`check_number` accepts exactly a finite real number (a Python or numpy scalar, or a
0-d array). An option that averages the arms' SDs needs two units in each arm, or the
pooled value is NaN and the kernel's result silently wrong (:func:`check_two_per_arm`).
Both raise ``ValueError`` naming the option (a wrong type as
:class:`~estimators._checks.InputTypeError`, which is one too).
"""
from __future__ import annotations

import math

import numpy as np

from ._checks import InputTypeError, _real_scalar

__all__ = ["check_number", "check_two_per_arm"]


def check_number(value, name: str, *, positive: bool = True,
                 none_ok: bool = False) -> float | None:
    """``value`` as a float: a finite real number, above 0 (``positive``) or at least 0;
    ``None`` passes through when ``none_ok``.

    Parameters
    ----------
    value : object
    name : str
        The option's name, for the message.
    positive : bool
        Require ``value > 0``; else ``value >= 0``.
    none_ok : bool
        ``None`` is a valid value (the option switched off).

    Returns
    -------
    float or None

    Raises
    ------
    InputTypeError
        A string, boolean, sequence, array of more than one entry or non-real value (a
        ``TypeError`` and a ``ValueError``, as every public check's).
    ValueError
        NaN, an infinity, or a value out of range.
    """
    if value is None and none_ok:
        return None
    # one rule for what a number is, the public functions' (estimators._checks): a bool, a
    # string or a one-entry list is refused as a type, a number out of range as a value
    number = _real_scalar(value)
    sign = "positive" if positive else "non-negative"
    message = (f"{name} must be {sign} (a finite number{', or None' if none_ok else ''}); "
               f"got {value!r}")
    if number is None:
        raise InputTypeError(message)
    if not math.isfinite(number) or not (number > 0.0 if positive else number >= 0.0):
        raise ValueError(message)
    return number


def check_two_per_arm(z: np.ndarray, option: str, what: str, instead: str) -> None:
    """Raise unless each arm of the 0/1 indicator ``z`` has at least 2 units.

    Parameters
    ----------
    z : (n,) array of 0/1
    option : str
        The option that pools within-arm statistics, as the caller wrote it
        (``"caliper_sd='pooled'"``).
    what : str
        What it pools (``"SDs"``), for the message.
    instead : str
        The options that need no within-arm statistic, for the message.
    """
    n1 = int(np.count_nonzero(z))
    small = {arm: k for arm, k in (("treated", n1), ("control", z.size - n1)) if k < 2}
    if small:
        arms = " and ".join(f"{k} {arm} unit" for arm, k in small.items())
        raise ValueError(f"{option} pools the within-arm {what}, and an arm with fewer than "
                         f"2 units has none; got {arms}. Use {instead}")
