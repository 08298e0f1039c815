"""Each simulated Table 1 cell of the shipped studies is computed on its own level: two
levels of one row never bind to the same term (a label alias such as ``age = "age>=60"``
would otherwise serve both the "<60" and the ">=60" cell, and compute one as the other)."""
from collections import defaultdict

import pytest

from tacebench.replications.binding import bind_study
from tacebench.replications.check import load_study

SEED_IDS = ("tace_sorafenib_ehs", "tace_regorafenib", "tace_sorafenib_matched",
            "tace_mtt_pd1_lung", "len_sora_pd1_ehm")


def level_terms(study):
    """(analysis, arm, printed term) -> {bound term: [levels]} of the simulated cells."""
    _, requests, _ = bind_study(study.cohort_raw, study.targets, study.plan, study.schemas())
    out = defaultdict(lambda: defaultdict(list))
    for t in study.targets.targets:
        if t.quantity == "proportion" and t.level is not None and t.id in requests:
            out[(t.analysis, t.arm, t.term)][requests[t.id][1].term].append(t.level)
    return out


@pytest.mark.parametrize("sid", SEED_IDS)
def test_levels_of_a_row_bind_to_different_terms(sid):
    for key, terms in level_terms(load_study(sid)).items():
        shared = {term: levels for term, levels in terms.items() if len(set(levels)) > 1}
        assert not shared, (key, shared)


def test_seed_003_weighted_cells_bind():
    """Seed 003's weighted Table 1: 106 of its 110 cells are simulated (the two liver-diameter
    bands between two cut points have no one-term spelling)."""
    terms = level_terms(load_study("tace_mtt_pd1_lung"))
    n = sum(len(levels) for (analysis, _, _), t in terms.items() if analysis == "stabilized_iptw"
            for levels in t.values())
    assert n == 106
