"""Input validation shared by the public estimators.

Every public function validates once at its edge with these helpers and then calls a
private kernel that trusts its input; Monte Carlo loops call the kernels directly. Each
check raises ``ValueError`` naming the argument and showing the offending value, so that a
user never meets a silent NaN or a numpy traceback; an argument of the wrong type (a
string for a number, a number for a flag) raises :class:`InputTypeError`, which is both a
``TypeError`` and a ``ValueError``.

The checks run at every public call, so each first asks the cheapest question that
proves the input valid (a minimum and a maximum, which are NaN when any entry is); only
when that fails does the exact, entry-by-entry check run, and it alone decides and words
the error.
"""
from __future__ import annotations

import math
import numbers
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


class InputTypeError(TypeError, ValueError):
    """An argument of the wrong type: a string, complex number, date or ``None`` where
    real numbers are expected, a number where a flag is.

    A ``TypeError``, and a ``ValueError`` too: the public functions raised ``ValueError``
    for every bad input before they told wrong types from wrong values, and callers that
    catch it keep working.
    """


#: numpy dtype kinds whose values convert to float64 as numbers: bool, ints, floats
_REAL_KINDS = "biuf"

#: what each other dtype kind holds, and what to do about it, for the error message
_NOT_REAL = {
    "U": "strings", "S": "byte strings", "c": "complex numbers",
    "M": "dates (datetime64): convert them to durations first, e.g. "
         "(date - start) / np.timedelta64(1, 'D') for days",
    "m": "durations (timedelta64): convert them to numbers of a time unit first, e.g. "
         "duration / np.timedelta64(1, 'D') for days",
}


def as_float_array(x, name: str, *, ndim: int = 1) -> np.ndarray:
    """Convert to a float64 array of the given ndim, rejecting what is not real numbers.

    Strings (even ``"5"``), complex numbers, dates and durations raise
    :class:`InputTypeError` naming ``name``, as does a pandas categorical column; a
    missing value of a pandas nullable column (``pd.NA``) or ``None`` raises
    ``ValueError`` saying it is missing. numpy arrays and pandas columns of bool, integer
    or float dtype convert as ``np.asarray(x, dtype=np.float64)``.
    """
    # (asked of the type: a DataFrame has no dtype, and pandas takes microseconds to say so)
    dtype = x.dtype if isinstance(x, np.ndarray) or hasattr(type(x), "dtype") else None
    if isinstance(dtype, np.dtype) and dtype.kind in _REAL_KINDS:  # the common case
        arr = np.asarray(x, dtype=np.float64)
    else:
        arr = _real_values(x, name)
    if ndim == 2 and arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}")
    return arr


def _real_values(x, name: str) -> np.ndarray:
    """:func:`as_float_array`'s conversion of anything but a real-dtype numpy array."""
    if hasattr(x, "isna") and hasattr(x, "to_numpy"):   # a pandas Series or DataFrame
        return _pandas_values(x, name)
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged nesting
        raise InputTypeError(f"{name} must be numeric; got {type(x).__name__}: {exc}") from None
    kind = raw.dtype.kind
    if kind in _REAL_KINDS:
        return raw.astype(np.float64, copy=False)
    if kind == "O":
        return _object_values(raw, name)
    what = _NOT_REAL.get(kind, f"dtype {raw.dtype}")
    example = f", e.g. {raw.flat[0].item()!r}" if raw.size and kind in "USc" else ""
    raise InputTypeError(f"{name} must be numeric (real numbers); got {what}{example}")


def _object_values(raw: np.ndarray, name: str) -> np.ndarray:
    """Python objects as float64: numbers only; ``None`` / ``pd.NA`` are missing values."""
    flat = raw.ravel()
    if all(issubclass(t, numbers.Real) and t is not bool
           for t in set(map(type, flat))):  # one pass in C, a few types to ask about
        return raw.astype(np.float64, copy=False)
    missing = np.array([v is None or type(v).__name__ in ("NAType", "NaTType") for v in flat])
    if missing.any():
        raise ValueError(f"{name} has {int(missing.sum())} missing value(s) at "
                         f"{_positions(raw, missing)}: impute or drop them first")
    wrong = np.array([not isinstance(v, numbers.Real) or isinstance(v, bool) for v in flat])
    i = int(np.flatnonzero(wrong)[0]) if wrong.any() else 0
    raise InputTypeError(f"{name} must be numeric (real numbers); got {flat[i]!r} "
                         f"({type(flat[i]).__name__}) at {_positions(raw, wrong)}")


def _positions(raw: np.ndarray, bad: np.ndarray, limit: int = 3) -> str:
    idx = np.flatnonzero(bad)[:limit]
    at = ", ".join(f"[{', '.join(map(str, np.unravel_index(i, raw.shape)))}]" for i in idx)
    return at + ("" if bad.sum() <= limit else f" (and {int(bad.sum()) - limit} more)")


def _pandas_values(x, name: str) -> np.ndarray:
    """A Series or DataFrame not of a numpy real dtype: nullable numbers (``Float64``,
    ``Int64``, ``boolean``) without missing values, or object columns of numbers."""
    if hasattr(x, "columns"):                           # a DataFrame
        raw = x.to_numpy()
        # numbers: a NaN is left to the caller's finiteness check unless it may be a
        # nullable column's pd.NA read as NaN (one reduction asks whether there is any)
        if raw.dtype.kind in _REAL_KINDS and (
                not (raw.size and math.isnan(_min(raw, axis=None)))
                or all(isinstance(d, np.dtype) for d in x.dtypes)):
            return raw.astype(np.float64, copy=False)
        for j, label in enumerate(x.columns):  # column by column, to name the culprit
            as_float_array(x.iloc[:, j], f"{name} column {label!r}")
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    dtype = x.dtype
    if getattr(dtype, "name", "") == "category":
        raise InputTypeError(f"{name} must be numeric; it is categorical (dtype category): "
                             "dummy-code it first (design_matrix(..., categorical=[...]))")
    missing = np.asarray(x.isna(), dtype=bool)
    if missing.any():  # (worded as design_matrix words a frame's missing values)
        rows = np.flatnonzero(missing)[:3].tolist()
        raise ValueError(f"{name} has {int(missing.sum())} missing value(s) (rows {rows}...): "
                         "impute or drop them first")
    if getattr(dtype, "kind", "O") in _REAL_KINDS:
        return x.to_numpy(dtype=np.float64)
    return _real_values(x.to_numpy(), name)


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


# --- scalar arguments ----------------------------------------------------------------

def _shown(value) -> str:
    return f"{value!r} ({type(value).__name__})"


def check_flag(value, name: str) -> bool:
    """A flag: ``True`` or ``False`` (a numpy bool too), never a string or a number."""
    if value is True or value is False:
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    raise InputTypeError(f"{name} must be True or False; got {_shown(value)}")


def _real_scalar(value) -> float | None:
    """``value`` as a float when it is one real number (an int, a float, a numpy real
    scalar or 0-d array; not a bool or a string), else None."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        return float(value)
    return None


def check_real(value, name: str) -> float:
    """A real number (see :func:`_real_scalar`) as float."""
    if type(value) is float:
        return value
    v = _real_scalar(value)
    if v is None:
        raise InputTypeError(f"{name} must be a number (int or float); got {_shown(value)}")
    return v


def check_level(value, name: str = "conf_level") -> float:
    """A confidence level: a real number strictly between 0 and 1."""
    if type(value) is float and 0.0 < value < 1.0:  # the common case
        return value
    v = _real_scalar(value)
    if v is None:
        raise InputTypeError(f"{name} must be a number in (0, 1); got {_shown(value)}")
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must lie in (0, 1); got {value!r}")
    return v


def check_positive_int(value, name: str, *, minimum: int = 1) -> int:
    """A whole number (int or numpy integer, not a bool or a float) at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value >= minimum:
            return int(value)
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    raise InputTypeError(f"{name} must be an integer >= {minimum}; got {_shown(value)}")


def check_positive(value, name: str, *, allow_inf: bool = False) -> float:
    """A positive real number, finite unless ``allow_inf``; NaN never."""
    v = check_real(value, name)
    if v > 0.0 and (allow_inf or v < math.inf):
        return v
    span = "positive (or inf)" if allow_inf else "a positive finite number"
    raise ValueError(f"{name} must be {span}; got {value!r}")


def check_n_jobs(value, name: str = "n_jobs") -> int:
    """joblib's worker count: a non-zero integer (-1 = all cores, -2 all but one...)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value != 0:
            return int(value)
        raise ValueError(f"{name} must be a non-zero integer (-1 = all cores); got 0")
    raise InputTypeError(f"{name} must be a non-zero integer (-1 = all cores); got "
                         f"{_shown(value)}")


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """A numpy ``Generator``, or one seeded by a non-negative int."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        if rng >= 0:
            return np.random.default_rng(int(rng))
        raise ValueError(f"{name} must be a numpy Generator or a non-negative int seed; "
                         f"got {rng!r}")
    raise InputTypeError(f"{name} must be a numpy Generator or a non-negative int seed; "
                         f"got {_shown(rng)}")
