"""The samples of a replicate analysed on the same rows (an analysis's leave-one-covariate-
out reruns) share what depends on the rows alone (times, treatment, designs, population
membership, the Cox models' sorted data), and every sample's Cox design is gathered from
the cohort's: the draws are those of every sample computing its own, bit for bit."""
import pytest

from tacebench.replications.analysis import adjustments, compile as compiled, estimates
from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce


def _unshared(monkeypatch, asked):
    """Every sample computes its own: no replicate cache reaches its Context (recording
    how many samples would have had one)."""
    in_population = adjustments._in_population

    def own_context(*args, shared=None, **kwargs):
        asked["samples"] += shared is not None
        return estimates.Context(*args, **kwargs)

    monkeypatch.setattr(compiled, "Context", own_context)
    monkeypatch.setattr(adjustments, "_in_population",
                        lambda rows, subset, cache=None: in_population(rows, subset))


@pytest.mark.slow
@pytest.mark.parametrize("study_id", ["tace_sorafenib_ehs", "len_sora_pd1_ehm"])
def test_shared_rows_draw_what_each_sample_computes_alone(monkeypatch, study_id):
    """tace_sorafenib_ehs: IPTW LOCO reruns of multivariable Cox models and response odds
    ratios, weights fitted on the cohort; len_sora_pd1_ehm: matched samples."""
    study = load_study(study_id)
    kw = dict(reps=4, seed=5, n_jobs=1, decompose_reps=3, max_reps=4, batch_size=2)
    shared = reproduce(study, **kw)
    asked = {"samples": 0}
    _unshared(monkeypatch, asked)
    alone = reproduce(study, **kw)
    assert asked["samples"] > 3 * 20, "the LOCO reruns' samples have the replicate's cache"
    assert shared.draws.tobytes() == alone.draws.tobytes()
    assert shared.notes == alone.notes
