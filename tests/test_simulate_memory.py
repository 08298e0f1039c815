"""The memory limit at the simulate edge: ``simulate_cohorts`` and ``tacebench simulate``
refuse cohorts that together exceed the limit check/replicate apply, with its message."""
from __future__ import annotations

import pytest

from tacebench import simulate_cohorts
from tacebench.cli import main
from tacebench.simulate import SpecError
from tests.simulate.test_footprint import big  # noqa: F401  (fixture)


def test_simulate_cohorts_refuses_before_drawing(big):
    with pytest.raises(SpecError) as e:
        simulate_cohorts(big, n_cohorts=4)
    msg = str(e.value)
    assert msg.startswith("cohorts.main.arms: 10,000,000 patients with 4 columns: simulate draws 4 cohorts")
    assert "above the limit of 2 GB" in msg and "at most 3 of this size" in msg

def test_the_command_refuses_with_the_message(big, capsys):
    assert main(["simulate", str(big), "--n-cohorts", "4", "--no-ps"]) == 2
    err = capsys.readouterr().err
    assert "10,000,000 patients with 4 columns" in err and "limit of 2 GB" in err
