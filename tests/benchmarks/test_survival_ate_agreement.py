"""benchmarks.speed.survival_ate_agreement: before/after comparison of the survival_ate fits."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.benchmarks.speed.survival_ate_agreement import largest_differences, main


def test_same_install_agrees_and_a_change_is_reported(tmp_path, capsys):
    path = tmp_path / "a.npz"
    assert main(["dump", str(path), "--reps", "1", "--scenario", "9"]) == 0
    a = dict(np.load(path))
    assert any(k.endswith("|rmst") for k in a) and any(k.endswith("|risk") for k in a)
    assert main(["compare", str(path), str(path)]) == 0
    assert "largest: 0.0e+00" in capsys.readouterr().out
    b = dict(a)
    key = next(k for k in a if k.endswith("|difference"))
    b[key] = a[key] * (1 + 1e-6)
    worst = largest_differences(a, b)
    fit, field = key.split("|")[1:]
    assert worst[(fit, field)][0] == pytest.approx(1e-6, rel=1e-3)


def test_different_fits_are_an_error():
    with pytest.raises(ValueError, match="different fits"):
        largest_differences({"0:0|f|risk": np.zeros(1)}, {"0:0|g|risk": np.zeros(1)})
