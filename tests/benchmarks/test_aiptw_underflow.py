"""AIPTW on a replicate whose survival product underflows to 0 after some follow-up ends.

Seed 003 with 26 controls, replicate 47 of the default study: the product G(s-) S(s-) of
the censoring and outcome survival underflows to 0 at censoring times after some patients'
own follow-up times, where the at-risk indicator is 0. The term is 0 there; computed as 0/0 it
made every AIPTW risk and RMST of the replicate NaN while the fit reported success.
"""
import math

import numpy as np

from tacebench.benchmarks.dgm import prepared
from tacebench.benchmarks.methods import survival_ate, validate_method
from tacebench.benchmarks.runner import replicate_seed
from tacebench.benchmarks.study import load_study


def test_aiptw_is_finite_where_the_survival_product_underflows_after_death():
    study = load_study("default")
    sc = next(s for s in study.scenarios
              if s.name == "s003_small_control[control_n=26,true_hr=1.0]")
    data = prepared(study.fingerprint, sc).generate(
        np.random.default_rng(replicate_seed(study.seed, sc.name, 47)))
    for name in ("aiptw_risk6", "aiptw_risk24", "aiptw_rmst6", "aiptw_rmst24"):
        m = next(m for m in study.methods if m.name == name)
        out = survival_ate.fit(dict(data), validate_method(m.family, m.config, where=name), None)
        assert math.isfinite(out.estimate) and math.isfinite(out.se) and out.se > 0, name
