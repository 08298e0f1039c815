"""A reproduction run with the estimates of an analysed sample computed together (the
univariable Cox models of 0/1 terms, the SMDs) draws what it draws with every estimate
computed one at a time, to 1e-10, whatever the batch size."""
import numpy as np
import pytest

from tacebench.replications.analysis import estimates
from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce


def _one_at_a_time(monkeypatch, used):
    """Turn the batched paths off (recording that the run would have used them)."""
    cox, smd = estimates.univariable_cox_many, estimates._balances

    def no_cox(ctx, reqs):
        used["cox"] += len(cox(ctx, reqs))
        return {}

    def no_smd(ctx):
        used["smd"] += len(smd(ctx))
        return {}

    monkeypatch.setattr(estimates, "univariable_cox_many", no_cox)
    monkeypatch.setattr(estimates, "_balances", no_smd)


@pytest.mark.slow
def test_batched_draws_are_the_one_at_a_time_draws(monkeypatch):
    """tace_sorafenib_ehs: univariable HRs of 0/1 and continuous terms, IPTW, LOCO reruns
    and readings (the fictional study has neither univariable HRs nor SMD targets)."""
    study = load_study("tace_sorafenib_ehs")
    kw = dict(reps=4, seed=5, n_jobs=1, decompose_reps=2, max_reps=4)
    batched = {b: reproduce(study, batch_size=b, **kw).draws for b in (1, 3)}
    np.testing.assert_array_equal(batched[1], batched[3])
    used = {"cox": 0, "smd": 0}
    _one_at_a_time(monkeypatch, used)
    alone = reproduce(study, batch_size=3, **kw).draws
    assert used["cox"] > 0, "the run fits some univariable Cox models together"
    np.testing.assert_allclose(batched[3], alone, rtol=1e-10, atol=0, equal_nan=True)


@pytest.mark.slow
def test_prefitted_propensity_models_draw_what_each_analysis_fits_alone(monkeypatch):
    """tace_mtt_pd1_lung: the batch's glm propensity models (the analyses', the readings'
    and the LOCO reruns', many of them separated) fitted together before the analyses run
    give the draws of every analysis fitting its own, to 1e-10, whatever the batch size."""
    from tacebench.replications import reproduce as rp

    study = load_study("tace_mtt_pd1_lung")
    kw = dict(reps=4, seed=3, n_jobs=1, decompose_reps=3, max_reps=4)
    batched = {b: reproduce(study, batch_size=b, **kw).draws for b in (1, 4)}
    np.testing.assert_allclose(batched[1], batched[4], rtol=1e-10, atol=0, equal_nan=True)
    fitted = []
    real = rp.prefit_propensity
    monkeypatch.setattr(rp, "prefit_propensity",
                        lambda entries, cohorts, caches: fitted.append(
                            real(entries, cohorts, [{c: {} for c in x} for x in caches])))
    alone = reproduce(study, batch_size=4, **kw).draws
    assert sum(fitted) > 3 * 20, "the LOCO reruns' propensity models are prefitted"
    np.testing.assert_allclose(batched[4], alone, rtol=1e-10, atol=0, equal_nan=True)
