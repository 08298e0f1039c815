"""The propensity prefit's stack sizes (MAX_STACK_CELLS) decide only how the batch's glm
models are grouped: a run with stacks of one or two designs draws, bit for bit, what a run
with the default stacks draws."""
import numpy as np
import pytest

from tacebench.replications.analysis import prefit
from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce


@pytest.mark.slow
def test_stack_size_does_not_move_a_draw(monkeypatch):
    study = load_study("tace_mtt_pd1_lung")
    kw = dict(reps=3, seed=11, n_jobs=1, decompose_reps=2, max_reps=3, batch_size=3)
    sizes = []
    real = prefit._fit_stack
    monkeypatch.setattr(prefit, "_fit_stack", lambda jobs: sizes.append(len(jobs))
                        or real(jobs))
    default = reproduce(study, **kw).draws
    assert max(sizes) > 2
    sizes.clear()
    # one design of 167 x 30 is 5,010 cells: a budget of 8,000 stacks them one by one
    monkeypatch.setattr(prefit, "MAX_STACK_CELLS", 8_000)
    small = reproduce(study, **kw).draws
    assert max(sizes) <= 2
    np.testing.assert_array_equal(default, small)
