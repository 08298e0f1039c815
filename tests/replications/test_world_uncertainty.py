"""Calibration inputs drawn from their sampling distributions (replications.world_uncertainty)."""
import math
import tomllib
from pathlib import Path

import numpy as np
from hypothesis import given, settings, strategies as st

from tacebench.replications.verdicts import Z_CRIT
from tacebench.replications.world_uncertainty import (BLOCK_SIZE, block_of, ci_se, describe,
                                                      draw_inputs, n_blocks, survival_path,
                                                      world_seed)
from tacebench.simulate.io import spec_from_dict

FICTIONAL = Path(__file__).parent / "fictional_study" / "cohort.toml"
EHS = Path(__file__).resolve().parents[2] / "tacebench" / "studies" / "tace_sorafenib_ehs"


def test_ci_se_reads_the_ci_printed_with_the_estimate():
    src = "Tumor Size, per 1 cm increased\t1.05 (1.02\u20131.08)\t0.001\t1.02 (0.99\u20131.05)"
    assert math.isclose(ci_se(1.02, src), (math.log(1.05) - math.log(0.99)) / (2 * Z_CRIT))
    # an effect recoded to the other level: hr = 1/0.63
    src = "Absence of other sites involvement\t0.54 (0.34\u20130.86)\t0.009\t0.63 (0.39\u20131.00)"
    assert math.isclose(ci_se(1.587, src), (math.log(1.00) - math.log(0.39)) / (2 * Z_CRIT))
    assert math.isnan(ci_se(1.3, "no interval here"))
    assert math.isnan(ci_se(1.00, "1.00 (1.00\u20131.00)"))      # a degenerate interval


def test_median_alone_is_lognormal_with_its_se():
    z = np.random.default_rng(1).standard_normal((20000, 1))
    m = np.array([survival_path([("median", 0.0, 10.0, 1.5)], zi)[0] for zi in z])
    assert abs(np.std(np.log(m)) - 0.15) < 0.005 and abs(np.median(m) - 10.0) < 0.05


def test_rates_and_median_of_one_arm_move_together():
    items = [("rate", 6.0, 0.8, 0.03), ("median", 0.0, 13.0, 1.0), ("rate", 24.0, 0.2, 0.04)]
    z = np.random.default_rng(2).standard_normal((5000, 3))
    d = np.array([survival_path(items, zi) for zi in z])
    # the 6-month rate keeps its Greenwood SE (delta method on H = -log S)
    assert abs(d[:, 0].std() - 0.03) < 0.003
    # a lower early survival comes with an earlier median: independent increments of H
    # give corr = sqrt(Var H(6) / Var H(13)), Var H(13) interpolated between 6 and 24
    v6, v24 = (0.03 / 0.8) ** 2, (0.04 / 0.2) ** 2
    rho = math.sqrt(v6 / (v6 + (v24 - v6) * 7 / 18))
    assert abs(np.corrcoef(d[:, 0], d[:, 1])[0, 1] - rho) < 0.03
    assert np.all(d[:, 0] > d[:, 2])                     # rates stay ordered in time


def test_draws_are_seeded_and_keep_the_table_consistent():
    raw = tomllib.loads(FICTIONAL.read_text())
    a, kinds = draw_inputs(raw, {}, np.random.default_rng(world_seed(3, "s", 0)))
    b, _ = draw_inputs(raw, {}, np.random.default_rng(world_seed(3, "s", 0)))
    c, _ = draw_inputs(raw, {}, np.random.default_rng(world_seed(3, "s", 1)))
    assert a == b and a != c and raw == tomllib.loads(FICTIONAL.read_text())
    assert {"Table 1 counts", "Table 1 means/SDs", "response counts"} <= set(kinds)
    main = a["cohorts"]["main"]
    cp = next(v for v in main["variables"] if v["name"] == "child_pugh")
    assert sum(cp["arms"]["TACE"]["counts"]) == 160
    assert sum(main["response"]["arms"]["TACE"]["counts"]) == 150
    spec_from_dict(a, source="drawn")                   # simulate's loader accepts it


def test_binomial_spread_of_a_table1_count():
    raw = tomllib.loads(FICTIONAL.read_text())
    rng = np.random.default_rng(4)
    counts = [next(v for v in draw_inputs(raw, {}, rng)[0]["cohorts"]["main"]["variables"]
                   if v["name"] == "male")["arms"]["TACE"]["count"] for _ in range(600)]
    p = 136 / 160
    assert abs(np.mean(counts) - 136) < 0.5
    assert abs(np.std(counts) / math.sqrt(160 * p * (1 - p)) - 1) < 0.1


def test_multiselect_options_stay_as_published():
    raw = tomllib.loads((EHS / "cohort.toml").read_text())
    a, kinds = draw_inputs(raw, {}, np.random.default_rng(5))
    byname = {v["name"]: v for v in a["cohorts"]["main"]["variables"]}
    orig = {v["name"]: v for v in raw["cohorts"]["main"]["variables"]}
    for name in byname["ehs_sites"]["options"]:
        assert byname[name] == orig[name]
    # seed 000's OS effects are solved from its whole Cox table (outcomes.os.associations),
    # which the draws leave as published; a study with plain `effects` draws them
    assert "event counts" in kinds and "covariate HRs" not in kinds
    matched = tomllib.loads((EHS.parent / "tace_sorafenib_matched" / "cohort.toml").read_text())
    assert "covariate HRs" in draw_inputs(matched, {}, np.random.default_rng(5))[1]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 60), min_size=2, max_size=5), st.integers(0, 2 ** 32 - 1))
def test_multinomial_counts_keep_their_total_and_observed_levels(counts, seed):
    if sum(counts) == 0:
        return
    raw = {"cohorts": {"main": {"arms": [{"label": "A", "n": sum(counts)}], "variables": [
        {"name": "x", "type": "categorical", "levels": [str(i) for i in range(len(counts))],
         "arms": {"A": {"counts": list(counts)}}}]}}}
    out, _ = draw_inputs(raw, {}, np.random.default_rng(seed))
    got = out["cohorts"]["main"]["variables"][0]["arms"]["A"]["counts"]
    assert sum(got) == sum(counts)
    assert all(g >= 1 for g, c in zip(got, counts) if c > 0)
    assert all(g == 0 for g, c in zip(got, counts) if c == 0)


def test_blocks_do_not_depend_on_r():
    assert [block_of(r) for r in (0, BLOCK_SIZE - 1, BLOCK_SIZE, 7 * BLOCK_SIZE)] == [0, 0, 1, 7]
    assert n_blocks(200) == 200 // BLOCK_SIZE and n_blocks(201) == 200 // BLOCK_SIZE + 1
    assert "8 drawn worlds" in describe(["KM medians"], 8)
