"""The built-in unreported-effects families: every covariate without a published effect
gets a hazard ratio k per SD, in the direction of the arms' imbalance or against it."""
import math
import tomllib
from pathlib import Path

import pytest

from tacebench.replications.check import load_study
from tacebench.replications.reproduce import reproduce
from tacebench.replications.robustness import WorldRun, robustness, run_worlds
from tacebench.replications.verdicts import Z_CRIT
from tacebench.replications.unreported import UNREPORTED_STRENGTHS, unreported_effects
from tacebench.replications.worlds import FAMILY_BASE, apply_world, builtin_worlds

FICTIONAL = Path(__file__).parent / "fictional_study"
OS = "cohorts.main.outcomes.os.effects"


def _raw():
    return tomllib.loads((FICTIONAL / "cohort.toml").read_text())


def _by_name(items):
    return {e["variable"]: e for e in items}


def test_only_covariates_without_a_published_effect_get_one():
    app = unreported_effects(_raw(), 1.5, 1.0)
    # OS publishes pvtt, tumor_size, child_pugh and multiple; PFS only pvtt
    assert set(_by_name(app[OS])) == {"age", "male"}
    pfs = _by_name(app["cohorts.main.outcomes.pfs.effects"])
    assert set(pfs) == {"age", "male", "tumor_size", "multiple", "child_pugh"}


def test_effects_are_k_per_sd_in_the_direction_of_the_imbalance():
    w_t = 110 / 270
    aligned = _by_name(unreported_effects(_raw(), 1.5, 1.0)[OS])
    opposed = _by_name(unreported_effects(_raw(), 1.5, -1.0)[OS])
    # age: the treated arm is younger (55 vs 58), so "aligned" makes youth harmful
    assert aligned["age"]["hr"] == pytest.approx(1 / 1.5)
    assert aligned["age"]["per"] == pytest.approx(math.sqrt(w_t * 9.5 ** 2 + (1 - w_t) * 100))
    assert opposed["age"]["hr"] == pytest.approx(1.5)
    # male: 95/110 treated vs 136/160 control; 1 vs 0 is 1/SD standard deviations
    p = (95 + 136) / 270
    assert math.log(aligned["male"]["hr"]) == pytest.approx(math.log(1.5) / math.sqrt(p * (1 - p)))
    assert aligned["male"]["hr"] * opposed["male"]["hr"] == pytest.approx(1.0)
    pfs = _by_name(unreported_effects(_raw(), 1.5, 1.0)["cohorts.main.outcomes.pfs.effects"])
    # child_pugh B: 9/110 treated vs 20/160 control, so "aligned" makes B protective
    assert len(pfs["child_pugh"]["hr"]) == 1 and pfs["child_pugh"]["hr"][0] < 1


def test_builtin_members_apply_their_values_unscaled():
    ws = [w for w in builtin_worlds(_raw()) if w.family == "unreported_effects_aligned"]
    assert [w.strength for w in ws] == list(UNREPORTED_STRENGTHS)
    applied = apply_world(_raw(), ws[-1])["cohorts"]["main"]["outcomes"]["os"]["effects"]
    assert _by_name(applied)["age"]["hr"] == pytest.approx(1 / UNREPORTED_STRENGTHS[-1])
    assert FAMILY_BASE["unreported_effects_opposed"] == 1.0


def test_no_family_when_every_covariate_has_an_effect():
    raw = _raw()
    c = raw["cohorts"]["main"]
    names = [v["name"] for v in c["variables"]]
    for o in ("os", "pfs"):
        c["outcomes"][o]["effects"] = [{"variable": n, "hr": 1.1} for n in names
                                       if n != "child_pugh"] + [{"variable": "child_pugh",
                                                                 "hr": [1.1]}]
    assert unreported_effects(raw, 1.5, 1.0) == {}
    assert {w.family for w in builtin_worlds(raw)} == {"unmeasured_confounder"}


def test_tipping_point_of_the_family_starts_at_one():
    run = WorldRun("unreported_effects_aligned_k1.2", "unreported_effects_aligned k=1.2", "why",
                   "unreported_effects_aligned", 1.2, True, {"s": ("not reproduced", -2.5, 0)}, {})
    (tip,) = robustness({"s": ("reproduced", -1.5, 0.0)}, [run])["s"].tipping
    assert tip.between == (1.0, 1.2)
    assert tip.k == pytest.approx(1.0 + 0.2 * (Z_CRIT - 1.5) / 1.0)


def test_aligned_effects_move_the_adjustment_shift_down_and_opposed_up():
    """On the same seeds, harmful covariates concentrated in the treated arm make the crude
    HR worse than the adjusted one (a negative crude -> IPTW shift), and the opposite
    direction a positive one: the families span what unreported effects can do."""
    study = load_study(FICTIONAL)
    worlds = [w for w in builtin_worlds(study.cohort_raw)
              if w.family and w.family.startswith("unreported") and w.strength == 1.5]
    base = reproduce(study, reps=40, seed=5, decompose_reps=0)
    shift = {w.family: {s.id: s.median for s in r.shifts}["os_hr_crude_to_iptw"]
             for w, r in run_worlds(study, reproduce, worlds, reps=40, seed=5)}
    own = {s.id: s.median for s in base.shifts}["os_hr_crude_to_iptw"]
    assert shift["unreported_effects_aligned"] < own < shift["unreported_effects_opposed"]
