"""Input validation shared by the public estimators.

Every public function validates once at its edge with these helpers and then calls a
private kernel that trusts its input; Monte Carlo loops call the kernels directly. Each
check raises ``ValueError`` naming the argument and showing the offending value, so that a
user never meets a silent NaN or a numpy traceback.

The checks run at every public call, so each first asks the cheapest question that
proves the input valid (a minimum and a maximum, which are NaN when any entry is); only
when that fails does the exact, entry-by-entry check run, and it alone decides and words
the error.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

# The fast paths' reductions called as the ufunc methods themselves: ndarray.min/.max/.all
# go through Python wrappers that cost more than the pass over a few hundred entries, and
# these run several times per public call. Same results (NaN propagates through both).
_min, _max, _all = np.minimum.reduce, np.maximum.reduce, np.logical_and.reduce


def _show(values: np.ndarray, bad: np.ndarray, limit: int = 3) -> str:
    """The first offending entries as ``[i]=value`` (``[r, i]=value`` for a 2-D stack)."""
    idx = np.flatnonzero(bad)[:limit]
    if values.ndim > 1:
        shown = ", ".join(f"[{', '.join(map(str, np.unravel_index(i, values.shape)))}]="
                          f"{values.flat[i].item()!r}" for i in idx)
    else:
        shown = ", ".join(f"[{i}]={values.flat[i].item()!r}" for i in idx)
    more = "" if bad.sum() <= limit else f" (and {int(bad.sum()) - limit} more)"
    return shown + more


def as_float_array(x, name: str, *, ndim: int = 1) -> np.ndarray:
    """Convert to a float64 array of the given ndim, rejecting non-numeric input."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; got {type(x).__name__}: {exc}") from None
    if ndim == 2 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}")
    return arr


def check_finite(arr: np.ndarray, name: str) -> np.ndarray:
    if _all(np.isfinite(arr), axis=None):  # the common case, without the negated mask
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite (no NaN or inf); got {_show(arr, bad)}")
    return arr


def check_time(time, name: str = "time", *, allow_zero: bool = True) -> np.ndarray:
    """Survival times: finite, non-negative (strictly positive if ``allow_zero`` is False)."""
    t = as_float_array(time, name)
    if t.size:
        # NaN makes the minimum NaN and fails the comparison; +inf fails the maximum's
        lo = _min(t, axis=None)
        if (lo >= 0.0 if allow_zero else lo > 0.0) and math.isfinite(_max(t, axis=None)):
            return t
    check_finite(t, name)
    bad = t < 0 if allow_zero else t <= 0
    if bad.any():
        sign = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be {sign}; got {_show(t, bad)}")
    return t


def check_binary(x, name: str) -> np.ndarray:
    """A 0/1 indicator (bools accepted); returns int8."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "biu" and x.ndim == 1 and x.size:
        # one-byte integers or bools: 0/1 exactly when the bytes read as unsigned are at
        # most 1 (a negative int8 reads as 128 or more), one reduction instead of two
        if x.dtype.itemsize == 1:
            if _max(x.view(np.uint8)) <= 1:
                return x.astype(np.int8)
        # other integers: 0/1 exactly when the minimum is >= 0 and the maximum <= 1
        elif _min(x) >= 0 and _max(x) <= 1:
            return x.astype(np.int8)
    arr = as_float_array(x, name)
    # two comparisons cost a tenth of np.isin on small arrays, and this runs per call
    bad = (arr != 0.0) & (arr != 1.0)
    if bad.any():
        raise ValueError(f"{name} must be 0/1; got {_show(arr, bad)}")
    return arr.astype(np.int8)


def check_both_arms(z: np.ndarray, name: str = "treated") -> np.ndarray:
    """A 0/1 indicator (already checked) with both values present; returns it."""
    # one comparison pass, not np.unique's sort: this runs at every public edge
    if z.size == 0 or _all(z == z[0], axis=None):
        only = f"only {int(z[0])}" if z.size else "no rows"
        raise ValueError(f"{name} must contain both arms; got {only}")
    return z


def check_weights(weights, n: int, name: str = "weights") -> np.ndarray:
    """Case weights: finite, non-negative, not all zero, length ``n``. ``None`` gives ones."""
    return check_weights_min(weights, n, name)[0]


def check_weights_min(weights, n: int, name: str = "weights") -> tuple[np.ndarray, float]:
    """:func:`check_weights`, and the smallest weight (0 exactly when some row is to be
    dropped): the check's own minimum, which callers would otherwise compute again."""
    if weights is None:
        return np.ones(n), 1.0
    w = as_float_array(weights, name)
    if w.size and len(w) == n:
        # finite, non-negative and not all zero at once (NaN fails the minimum's test)
        lo, hi = _min(w), _max(w)
        if lo >= 0.0 and hi > 0.0 and math.isfinite(hi):
            return w, float(lo)
    check_finite(w, name)
    check_lengths({name: w}, n)
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative; got {_show(w, w < 0)}")
    if not (w > 0).any():
        raise ValueError(f"{name} must not all be zero")
    return w, float(w.min())


def check_lengths(arrays: dict[str, np.ndarray], n: int | None = None) -> int:
    """All arrays share the same first dimension; returns it."""
    sizes = [len(v) for v in arrays.values() if v is not None]
    if sizes:  # the common case first, without the dicts of the message
        m = sizes[0] if n is None else n
        if sizes.count(m) == len(sizes):
            return m
    lengths = {k: len(v) for k, v in arrays.items() if v is not None}
    if n is None:
        n = next(iter(lengths.values()))
    wrong = {k: m for k, m in lengths.items() if m != n}
    if wrong:
        raise ValueError(
            "mismatched lengths: expected "
            f"{n}, got " + ", ".join(f"{k} has {m}" for k, m in wrong.items())
        )
    return n


def check_choice(value, name: str, allowed: Iterable) -> None:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed!r}; got {value!r}")


def check_probability(x, name: str, *, open_interval: bool = True) -> np.ndarray:
    p = as_float_array(x, name)
    if p.size:
        lo, hi = _min(p), _max(p)  # NaN fails both tests
        if (lo > 0.0 and hi < 1.0) if open_interval else (lo >= 0.0 and hi <= 1.0):
            return p
    check_finite(p, name)
    bad = (p <= 0) | (p >= 1) if open_interval else (p < 0) | (p > 1)
    if bad.any():
        span = "(0, 1)" if open_interval else "[0, 1]"
        raise ValueError(f"{name} must lie in {span}; got {_show(p, bad)}")
    return p
