"""Matching weights name empty input."""
from __future__ import annotations

import pytest

from tacebench.estimators import matching_weights


def test_empty_input_names_the_arms():
    with pytest.raises(ValueError, match="treated must contain both arms; got no rows"):
        matching_weights([], [])   # was: IndexError
    with pytest.raises(ValueError, match="treated must contain both arms; got only 1"):
        matching_weights([0.3, 0.6], [1, 1])
