"""The input checks at the public edges (estimators' validation helpers) accept exactly the
valid inputs and word each error as before, now that they first try a one-reduction
shortcut (a minimum and a maximum) and fall back to the entry-by-entry check; arrays of
anything but real numbers and scalar arguments of the wrong type are refused by name,
while the numbers of every accepted input stay numpy's doubles.

Observed through public functions (``kaplan_meier`` checks time, event and weights;
``iptw_weights`` the propensity scores and the treatment; ``survival_ate`` strictly
positive horizons): for arrays mixing ordinary values with 0, -0, tiny, huge, infinite and
NaN entries, a call fails exactly when the plain definition says the input is invalid,
with the message of the first violated rule naming the first offending entry.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from tacebench.estimators import InputTypeError, iptw_weights, kaplan_meier

SPECIAL = [0.0, -0.0, 1.0, 0.5, -1.0, 2.0, 1e-320, -1e-320, 1e308, np.inf, -np.inf, np.nan]
floats = st.one_of(st.sampled_from(SPECIAL), st.floats(-3.0, 3.0, allow_nan=False))
arrays = st.lists(floats, min_size=1, max_size=10).map(lambda v: np.array(v, dtype=np.float64))
#: without 1e308, whose square (the Kish size of a KM curve) overflows past the check
moderate = st.lists(st.one_of(st.sampled_from([v for v in SPECIAL if v != 1e308]),
                              st.floats(-3.0, 3.0, allow_nan=False)),
                    min_size=1, max_size=10).map(lambda v: np.array(v, dtype=np.float64))


def _first(mask: np.ndarray) -> str:
    return f"[{int(np.flatnonzero(mask)[0])}]="


def _expected_error(name: str, x: np.ndarray, bad: np.ndarray, wording: str) -> str | None:
    """The message start of the first violated rule (finiteness, then ``bad`` among the
    finite entries, worded ``wording``) with its first offending index, or None."""
    nonfinite = ~np.isfinite(x)
    for mask, says in ((nonfinite, "be finite (no NaN or inf)"), (~nonfinite & bad, wording)):
        if mask.any():
            return f"{name} must {says}; got {_first(mask)}"
    return None


def _outcome(fn, *args, **kw) -> str | None:
    try:
        fn(*args, **kw)
    except ValueError as exc:
        return str(exc)
    return None


def _agrees(got: str | None, expected: str | None) -> None:
    if expected is None:
        assert got is None, got
    else:
        assert got is not None and got.startswith(expected), (got, expected)


@settings(max_examples=300, deadline=None)
@given(t=arrays)
def test_time_is_accepted_exactly_when_finite_and_non_negative(t):
    expected = _expected_error("time", t, t < 0, "be non-negative")
    _agrees(_outcome(kaplan_meier, t, np.ones(t.size, dtype=np.int8)), expected)


@settings(max_examples=300, deadline=None)
@given(w=moderate)
def test_weights_are_accepted_exactly_when_finite_non_negative_and_not_all_zero(w):
    expected = _expected_error("weights", w, w < 0, "be non-negative")
    if expected is None and not (w > 0).any():
        expected = "weights must not all be zero"
    t = np.arange(1.0, w.size + 1.0)
    _agrees(_outcome(kaplan_meier, t, np.ones(w.size), w), expected)


def test_weights_of_another_length_are_refused():
    with pytest.raises(ValueError, match="mismatched lengths: expected 3, got weights has 2"):
        kaplan_meier([1.0, 2.0, 3.0], [1, 0, 1], [1.0, 1.0])


@settings(max_examples=300, deadline=None)
@given(ps=arrays)
def test_scores_are_accepted_exactly_when_inside_the_open_unit_interval(ps):
    expected = _expected_error("ps", ps, (ps <= 0) | (ps >= 1), "lie in (0, 1)")
    z = np.arange(ps.size) % 2
    if expected is None and ps.size < 2:
        expected = "treated must contain both arms"
    if expected is None:  # valid, but a treated 1/ps may overflow (ps = 1e-320): refused
        with np.errstate(over="ignore", divide="ignore"):
            inf = (z == 1) & np.isinf(1.0 / ps)
        if inf.any():
            expected = f"ps{_first(inf)}"
    _agrees(_outcome(iptw_weights, ps, z), expected)


def test_a_score_whose_weight_overflows_is_refused_by_name():
    with pytest.raises(ValueError, match=r"ps\[1\]=1e-320 gives an infinite ATE weight to a treated"):
        iptw_weights([0.5, 1e-320], [0, 1])
    with pytest.raises(ValueError, match=r"ps\[0\]=1e-320 gives an infinite ATC weight"):
        iptw_weights([1e-320, 0.5], [1, 0], estimand="ATC")
    # a control's score near 0 is an ordinary weight near 1, without an overflow warning
    np.testing.assert_array_equal(iptw_weights([1e-320, 0.5], [0, 1]), [1.0, 2.0])
    # huge but finite weights are weights (their sum may overflow; no entry does)
    np.testing.assert_array_equal(iptw_weights([1e-308, 1e-308, 0.5], [1, 1, 0]),
                                  [1e308, 1e308, 2.0])


@settings(max_examples=300, deadline=None)
@given(v=st.lists(st.integers(-2, 3), min_size=1, max_size=10),
       dtype=st.sampled_from([np.int8, np.int64, np.uint8, np.bool_, np.float64]))
def test_events_are_accepted_exactly_when_0_or_1_and_give_the_same_curve(v, dtype):
    e = np.array(v).astype(dtype)
    t = np.arange(1.0, e.size + 1.0)
    ef = e.astype(np.float64)
    bad = (ef != 0) & (ef != 1)
    expected = f"event must be 0/1; got {_first(bad)}" if bad.any() else None
    _agrees(_outcome(kaplan_meier, t, e), expected)
    if expected is None:  # an integer or bool indicator gives the float indicator's curve
        a, b = kaplan_meier(t, e), kaplan_meier(t, ef)
        for field in ("times", "survival", "se_log", "n_risk", "n_event", "n_censor"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_an_event_indicator_is_not_modified_through_the_check():
    """The int8 indicator handed on is a copy, as the float round trip made it."""
    e = np.array([0, 1, 1], dtype=np.int8)
    kaplan_meier([1.0, 2.0, 3.0], e)
    np.testing.assert_array_equal(e, [0, 1, 1])


@settings(max_examples=60, deadline=None)
@given(h=st.lists(floats, min_size=1, max_size=3).map(lambda v: np.array(v, dtype=np.float64)))
def test_positive_times_are_accepted_exactly_when_finite_and_positive(h):
    """The strictly positive variant (``survival_ate``'s horizons) through its own rule."""
    from tacebench.estimators.survival import survival_ate

    expected = _expected_error("horizons", h, h <= 0, "be positive")
    rng = np.random.default_rng(0)
    n = 40
    X = rng.normal(size=(n, 1))
    z = np.arange(n) % 2
    t = rng.uniform(1.0, 10.0, n)
    e = (rng.random(n) < 0.7).astype(np.int8)
    got = _outcome(survival_ate, t, e, z, X, horizons=h)
    if expected is None:  # other rules on horizons (order, range) may still speak
        assert got is None or not got.startswith(("horizons must be finite",
                                                  "horizons must be positive")), got
    else:
        _agrees(got, expected)


# --- real numbers and scalar arguments (the type checks) ------------------------------

DTYPES = [np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_]


@settings(max_examples=200, deadline=None)
@given(v=st.lists(st.one_of(st.floats(0.0, 127.0), st.integers(0, 127), st.booleans()),
                  min_size=1, max_size=8),
       dtype=st.sampled_from(DTYPES), form=st.sampled_from(["list", "array", "series"]))
def test_numbers_give_the_curve_of_their_doubles(v, dtype, form):
    """Every numeric input (a list, a numpy array of any real dtype, a pandas Series)
    gives the curve of ``np.asarray(x, dtype=np.float64)``, to the bit: the type checks
    change which inputs are refused, never the numbers of those accepted."""
    arr = np.array(v, dtype=np.float64).astype(dtype)
    x = {"list": arr.tolist(), "array": arr, "series": pd.Series(arr, dtype=arr.dtype)}[form]
    e = np.ones(arr.size, dtype=np.int8)
    a, b = kaplan_meier(x, e), kaplan_meier(np.asarray(x, dtype=np.float64), e)
    for field in ("times", "survival", "se_log", "n_risk"):
        assert getattr(a, field).tobytes() == getattr(b, field).tobytes()


@pytest.mark.parametrize("time, match", [
    ("5", r"time must be numeric \(real numbers\); got strings, e.g. '5'"),
    ([1.0, "2"], "got strings"),
    (np.array([1 + 2j]), "got complex numbers"),
    (np.array(["2024-01-01"], dtype="datetime64[D]"), "got dates"),
    (np.array([3], dtype="timedelta64[h]"), "got durations"),
    (np.array([1.0, "a"], dtype=object), r"got 'a' \(str\) at \[1\]"),
    (pd.Series(["1", "2"]), r"got '1' \(str\) at \[0\], \[1\]"),
    (pd.Series(pd.Categorical([1, 2])), "it is categorical"),
    (pd.array(["1", "2"], dtype="string"), "got '1'"),
])
def test_what_is_not_real_numbers_is_refused_by_name(time, match):
    with pytest.raises(InputTypeError, match=match) as info:
        kaplan_meier(time, np.ones(np.size(time), dtype=np.int8))
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("time, rows", [
    ([1.0, None, 3.0], r"at \[1\]"),
    (pd.Series(pd.array([1, None, 3], dtype="Int64")), r"\(rows \[1\]"),
    (pd.Series(pd.array([True, None, False], dtype="boolean")), r"\(rows \[1\]"),
    (pd.Series([1.0, pd.NA, 2.0], dtype=object), r"\(rows \[1\]"),
])
def test_a_missing_value_is_called_missing(time, rows):
    with pytest.raises(ValueError, match=r"time has 1 missing value\(s\) " + rows):
        kaplan_meier(time, [1, 0, 1])


scalars = st.one_of(st.booleans(), st.integers(-5, 5), st.floats(allow_nan=True), st.text(max_size=3),
                    st.none(), st.just(np.bool_(True)), st.just(np.int64(3)), st.just(np.float64(0.5)),
                    st.just(np.array(0.25)), st.just([0.5]))
CURVE = dict(time=[1.0, 2.0, 3.0, 4.0], event=[1, 0, 1, 1])


def _accepts(call) -> bool:
    """False when the call refuses its argument's type; True when it takes it (or refuses
    only its value)."""
    try:
        call()
    except InputTypeError:
        return False
    except ValueError:  # the right type, a wrong value
        return True
    return True


@settings(max_examples=300, deadline=None)
@given(value=scalars)
def test_scalar_arguments_are_accepted_exactly_when_of_their_type(value):
    """A flag is a bool (numpy's too); a number is an int, float or numpy real scalar or
    0-d array, never a bool, a string, None or a list; a count is an integer."""
    from tacebench.estimators import chi_square_test, cox_ph

    is_bool = isinstance(value, (bool, np.bool_))
    is_real = (isinstance(value, (int, float, np.integer, np.floating)) and not is_bool) or (
        isinstance(value, np.ndarray) and value.ndim == 0)
    km = kaplan_meier(**CURVE)
    assert _accepts(lambda: chi_square_test([[3, 5], [6, 2]], correct=value)) == is_bool
    assert _accepts(lambda: km.rmst(value)) == is_real
    assert _accepts(lambda: kaplan_meier(**CURVE, conf_level=value)) == is_real
    assert _accepts(lambda: cox_ph(**CURVE, X=[0.0, 1.0, 0.0, 1.0], max_iter=value)) == (
        isinstance(value, (int, np.integer)) and not is_bool)
