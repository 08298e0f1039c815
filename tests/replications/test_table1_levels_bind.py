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
    """Seed 003's weighted Table 1: all 110 cells are simulated (the liver-diameter rows
    "<5cm" and "<10cm" are the bands [3, 5) and [5, 10) cm, spelt as band terms)."""
    terms = level_terms(load_study("tace_mtt_pd1_lung"))
    n = sum(len(levels) for (analysis, _, _), t in terms.items() if analysis == "stabilized_iptw"
            for levels in t.values())
    assert n == 110


def test_a_label_alias_to_one_condition_does_not_serve_every_level(tmp_path):
    """Without its "age:<60" and "age:≥60" aliases, seed 003's age cells would bind both
    levels to ``age = "age>=60"``: check now says so for each cell and leaves them
    unbound, instead of computing the "<60" share as the ">=60" one."""
    import shutil

    from tacebench.replications.check import check_folder
    from tacebench.simulate.studies import resolve_study

    folder = tmp_path / "s"
    shutil.copytree(resolve_study("tace_mtt_pd1_lung"), folder)
    plan = folder / "analysis.toml"
    text = plan.read_text("utf-8")
    for line in ('"age:<60" = "age<60"\n', '"age:≥60" = "age>=60"\n'):
        assert line in text
        text = text.replace(line, "")
    plan.write_text(text, "utf-8")
    found = [str(p) for p in check_folder(folder).problems if "names one share" in str(p)]
    assert found and all("age" in f for f in found)
    assert any("bl_age_lt_60" in f and '"age:<60"' in f for f in found), found[:2]
