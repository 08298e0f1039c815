"""The true value of every estimand a scenario's methods target, from the scenario's own
generator, with seeds fixed apart from the run's: same scenario, same truth."""
from __future__ import annotations

import math

import numpy as np

from tacebench.engine import name_key, single_threaded_blas, stream_seed

from .dgm import prepared
from .study import Study

#: root seed of the true values: fixed, so a scenario's truth never depends on the run's seed
_TRUTH_ROOT = name_key("truth")


class TruthFailed(ValueError):
    """A generator's true values could not be had (its own error, or not one number per
    estimand)."""


@single_threaded_blas()  # as in the runner's workers (engine.blas), whoever calls it
def scenario_truths(study: Study, scenario_index: int) -> list[dict]:
    """True value of every estimand that a scenario's methods target; :class:`TruthFailed`
    when the generator cannot give them. Computed with one BLAS thread (the scenario's
    plan and its truths are then the same numbers called from a study run's worker or
    from a process whose BLAS runs several threads)."""
    scenario = study.scenarios[scenario_index]
    try:
        dgm = prepared(study.fingerprint, scenario)
    except ValueError as exc:  # (the generator's own: told as it is, with how to go on)
        raise TruthFailed(str(exc)) from exc
    wanted = sorted({m.estimand for m in study.methods if m.name in scenario.methods})
    estimands = [study.estimand(name) for name in wanted]
    # The truth does not depend on the run's seed: same scenario, same truth.
    seeds = [stream_seed(_TRUTH_ROOT, scenario.name, name) for name in wanted]
    where = f"scenario {scenario.name!r}: the generator's true value of {wanted}"
    try:
        values = (dgm.truths(estimands, seeds) if dgm.truths is not None
                  else [dgm.truth(e, s) for e, s in zip(estimands, seeds)])
    except Exception as exc:  # (a study's own generator: its traceback was the message)
        raise TruthFailed(f"{where} failed: {type(exc).__name__}: {exc}") from exc
    values = list(values)
    bad = [f"{name} = {v!r}" for name, v in zip(wanted, values)
           if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating))]
    if bad or len(values) != len(wanted):
        raise TruthFailed(f"{where} must be one number per estimand; got "
                         f"{', '.join(bad) if bad else f'{len(values)} value(s)'}")
    # the value without censoring (NaN where the generator does not give it): HR methods
    # are judged against the truth under the scenario's censoring, which they target
    free = (list(dgm.uncensored_truths(estimands, seeds)) if dgm.uncensored_truths is not None
            else [math.nan] * len(wanted))
    return [{"scenario_index": scenario_index, "scenario": scenario.name, "estimand": name,
             "truth": float(v), "truth_uncensored": float(u)}
            for name, v, u in zip(wanted, values, free)]
