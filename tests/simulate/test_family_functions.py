"""The families' cdf, sf, ppf and isf equal scipy.stats's bit for bit."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from tacebench.simulate.family_functions import family_functions

#: family -> (scipy distribution, its parameters from (shape, loc, scale))
SCIPY = {
    "normal": lambda shape, loc, scale: stats.norm(loc=loc, scale=scale),
    "lognormal": lambda shape, loc, scale: stats.lognorm(s=shape, loc=loc, scale=scale),
    "gamma": lambda shape, loc, scale: stats.gamma(a=shape, loc=loc, scale=scale),
}
METHODS = ("cdf", "sf", "ppf", "isf")
#: arguments scipy treats apart: the support's ends, the probability ends, infinities, NaN
SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, np.inf, -np.inf, np.nan, 1e-300, 1 - 1e-16, 5e-324]


def _same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


finite = st.floats(-50.0, 50.0, allow_nan=False)
positive = st.floats(1e-3, 1e3, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(family=st.sampled_from(sorted(SCIPY)), shape=positive, loc=finite, scale=positive,
       xs=st.lists(st.one_of(st.floats(-1e3, 1e3), st.sampled_from(SPECIAL),
                             st.floats(0.0, 1.0)), min_size=1, max_size=12),
       scalar=st.booleans())
def test_functions_equal_scipy_bit_for_bit(family, shape, loc, scale, xs, scalar):
    fast = family_functions(family, shape, loc, scale)
    ref = SCIPY[family](shape, loc, scale)
    arg = np.float64(xs[0]) if scalar else np.array(xs)
    with np.errstate(all="ignore"):
        for name in METHODS:
            got, want = getattr(fast, name)(arg), getattr(ref, name)(arg)
            assert _same(got, want), (name, arg, got, want)
            assert type(got) is type(want), name


@settings(max_examples=50, deadline=None)
@given(family=st.sampled_from(sorted(SCIPY)), shape=positive, loc=finite, scale=positive,
       n=st.integers(1, 3))
def test_two_dimensional_and_integer_arguments_equal_scipy(family, shape, loc, scale, n):
    fast, ref = family_functions(family, shape, loc, scale), SCIPY[family](shape, loc, scale)
    grid = np.linspace(-3.0, 3.0, 2 * n * 3).reshape(2 * n, 3)
    with np.errstate(all="ignore"):
        for name in METHODS:
            for arg in (grid, np.abs(grid) / 3.5, np.array([0, 1, 2])):
                assert _same(getattr(fast, name)(arg), getattr(ref, name)(arg)), name


@pytest.mark.parametrize("family, shape, loc, scale", [
    ("lognormal", 0.0, 0.0, 1.0), ("gamma", -1.0, 0.0, 1.0), ("normal", 1.0, 0.0, 0.0),
    ("normal", 1.0, np.nan, 1.0), ("normal", 1.0, 0.0, -2.0), ("weibull", 1.0, 0.0, 1.0)])
def test_parameters_scipy_rejects_are_left_to_scipy(family, shape, loc, scale):
    assert family_functions(family, shape, loc, scale) is None
