"""Scenario factors that change arm sizes keep a study's multiselect variable valid."""
import numpy as np
import pytest

from tacebench.benchmarks.cohort_dgm import prepare
from tacebench.benchmarks.study import Scenario

SITES = ["lymph_node_metastasis", "lung_metastasis", "bone_metastasis",
         "adrenal_metastasis", "other_metastasis"]


@pytest.mark.parametrize("factors", [(("n", 100),), (("n", 300),), (("control_n", 60),)])
def test_seed000_scaled_keeps_every_patient_with_an_extrahepatic_site(factors):
    """Seed 000's pooled count of site types was published for its 294/129 arm mix; a
    scenario with another mix drops that constraint (it would contradict the per-arm site
    shares) but keeps at_least_one."""
    scenario = Scenario(index=0, name="s", dgm="d", generator="cohort",
                        base="tace_sorafenib_ehs", cohort="main", factors=factors, methods=())
    data = prepare(scenario).generate(np.random.default_rng(0))
    n_sites = sum(data[c] for c in SITES)
    assert n_sites.min() >= 1
