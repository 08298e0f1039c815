"""Entropy balancing names malformed ``moments`` and empty input."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.estimators import entropy_balancing


@pytest.mark.parametrize("moments", [2.0, "2", True, None])
def test_moments_must_be_an_integer_choice(moments):
    rng = np.random.default_rng(1)
    X, z = rng.normal(size=(40, 2)), np.r_[np.ones(15), np.zeros(25)]
    with pytest.raises(ValueError, match=r"moments must be one of \(1, 2, 3\); got "):
        entropy_balancing(X, z, moments=moments)   # 2.0 was a TypeError from range()
    assert entropy_balancing(X, z, moments=np.int64(2)).names == ("x0", "x1", "x0^2", "x1^2")


def test_empty_input_names_the_arms():
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        entropy_balancing(np.empty((0, 2)), [])
