"""Generated cohorts: shape, types, determinism, exact arm sizes, invariants."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tacebench import simulate
from tacebench.simulate import generate_cohort, generate_cohorts


def test_columns_follow_the_contract(small_plan):
    c = generate_cohort(small_plan, seed=3)
    cols = c.columns
    assert c.arm_labels == ("Control", "Combo")
    assert np.bincount(cols["arm"]).tolist() == [150, 100]
    assert cols["arm"].dtype == np.int8 and cols["treated"].dtype == np.int8
    assert np.array_equal(cols["treated"], (cols["arm"] == 1).astype(np.int8))
    for k in ("os_event", "pfs_event", "response"):
        assert cols[k].dtype == np.int8
    assert np.all(cols["pfs_time"] <= cols["os_time"] + 1e-12)
    assert np.all((cols["response"] >= -1) & (cols["response"] <= 3))
    assert c.levels["response"] == ("CR", "PR", "SD", "PD")
    assert set(np.unique(cols["child_pugh"])) <= {0.0, 1.0, 2.0}
    assert np.all(cols["n_nodules"] >= 1) and np.all(cols["n_nodules"] == np.round(cols["n_nodules"]))
    ps = cols["true_ps"]
    assert np.all((ps > 0) & (ps < 1))
    started = np.isfinite(cols["systemic_start"])
    assert np.all(cols["arm"][started] == 1) and np.all(cols["systemic_duration"][~started] == 0)
    df = c.to_frame()
    assert list(df["arm"].cat.categories) == ["Control", "Combo"] and len(df) == 250


def test_missingness_only_where_asked(small_plan):
    cols = generate_cohort(small_plan, seed=5).columns
    nan_cols = {k for k, v in cols.items() if v.dtype.kind == "f" and np.isnan(v).any()}
    assert nan_cols <= {"afp", "albumin", "albi_grade"}
    rates = np.mean([np.isnan(generate_cohort(small_plan, seed=s).columns["albumin"]).mean() for s in range(40)])
    assert abs(rates - 0.2) < 0.03


@pytest.mark.parametrize("order", [("b", "a"), ("a", "b")])
def test_a_mar_rule_reads_the_true_value_of_a_variable_blanked_by_another_rule(order):
    """``a`` is MAR on ``b``, itself MCAR: whichever rule comes first, ``a``'s rule reads
    ``b`` as generated (not the blank, nor the centre standing in for it)."""
    from types import SimpleNamespace

    from scipy import special

    from tacebench.simulate.outcomes import apply_missing
    n = 4000
    gen = np.random.default_rng(1)
    b = (gen.random(n) < 0.4).astype(float)
    a = gen.normal(size=n)
    rules = {"b": ("b", 0.0, 0.0, None, 0.0, 1.0), "a": ("a", -1.0, 3.0, "b", 0.4, 0.49)}
    cols = {"a": a.copy(), "b": b.copy()}
    apply_missing(SimpleNamespace(missing=tuple(rules[k] for k in order)), cols,
                  np.random.default_rng(7), n)
    draws = np.random.default_rng(7)
    u = {k: draws.random(n) for k in order}             # one draw per rule, in their order
    assert np.array_equal(np.isnan(cols["b"]), u["b"] < 0.5)
    assert np.array_equal(np.isnan(cols["a"]), u["a"] < special.expit(-1.0 + 3.0 * (b - 0.4) / 0.49))


def test_a_cohorts_mar_missingness_does_not_see_the_blanks_of_its_variable(small_spec_path):
    """albumin is MAR on pvtt; a rule blanking pvtt (listed first) leaves albumin's
    missingness as it is when the same rule blanks nothing."""
    def plan(rate):
        raw = tomllib.loads(small_spec_path.read_text())
        raw["cohorts"]["main"]["missing"] = {"pvtt": {"rate": rate},
                                             **raw["cohorts"]["main"]["missing"]}
        return simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)

    blanking, keeping = plan(0.4), plan(0.0)
    for seed in range(3):
        a, b = generate_cohort(blanking, seed=seed).columns, generate_cohort(keeping, seed=seed).columns
        assert np.isnan(a["pvtt"]).any() and not np.isnan(b["pvtt"]).any()
        assert np.array_equal(np.isnan(a["albumin"]), np.isnan(b["albumin"]))


def test_derived_columns_are_missing_where_an_input_is(small_plan):
    """A blanked lab cannot be read back from the ALBI grade computed from it."""
    for seed in range(5):
        cols = generate_cohort(small_plan, seed=seed).columns
        absent = np.isnan(cols["albumin"]) | np.isnan(cols["total_bilirubin"])
        assert absent.any()
        assert np.array_equal(np.isnan(cols["albi_grade"]), absent)
    batch = simulate.generate_cohort_batch(small_plan, range(4))
    absent = np.isnan(batch.columns["albumin"]) | np.isnan(batch.columns["total_bilirubin"])
    assert np.array_equal(np.isnan(batch.columns["albi_grade"]), absent)


def test_every_derived_kind_follows_its_inputs(small_spec_path):
    raw = tomllib.loads(small_spec_path.read_text())
    c = raw["cohorts"]["main"]
    c["derived"] = c["derived"] + [
        {"name": "albi_score", "kind": "albi_score", "inputs": {"albumin": "albumin", "bilirubin": "total_bilirubin"}},
        {"name": "cp_points", "kind": "child_pugh_points", "inputs": {"albumin": "albumin", "bilirubin": "total_bilirubin"}},
        {"name": "cp_class", "kind": "child_pugh_class", "inputs": {"albumin": "albumin", "bilirubin": "total_bilirubin"}}]
    c["missing"] = {"total_bilirubin": {"rate": 0.15}, "albumin": {"rate": 0.2}}
    plan = simulate.compile_plan(simulate.spec_from_dict(raw), cache=None)
    cols = generate_cohort(plan, seed=2).columns
    absent = np.isnan(cols["albumin"]) | np.isnan(cols["total_bilirubin"])
    assert np.isnan(cols["albumin"]).any() and np.isnan(cols["total_bilirubin"]).any()
    for k in ("albi_grade", "albi_score", "cp_points", "cp_class"):
        assert np.array_equal(np.isnan(cols[k]), absent), k
    # the variables' own missing shares are the declared rates (derived ones: their union)
    rates = np.mean([np.isnan(generate_cohort(plan, seed=s).columns["albumin"]).mean() for s in range(40)])
    assert abs(rates - 0.2) < 0.03


def test_same_seed_same_cohort_bit_for_bit(small_plan):
    a, b = generate_cohort(small_plan, seed=11), generate_cohort(small_plan, seed=11)
    assert a.columns.keys() == b.columns.keys()
    for k in a.columns:
        assert np.array_equal(a.columns[k], b.columns[k], equal_nan=True), k
    c = generate_cohort(small_plan, seed=12)
    assert not np.array_equal(a.columns["os_time"], c.columns["os_time"])
    assert not np.array_equal(a.columns["tumor_size"], c.columns["tumor_size"])


def test_generate_cohorts_spawns_independent_streams(small_plan):
    many = generate_cohorts(small_plan, 3, seed=7)
    again = generate_cohorts(small_plan, 3, seed=7)
    assert all(np.array_equal(x.columns["os_time"], y.columns["os_time"]) for x, y in zip(many, again))
    assert not np.array_equal(many[0].columns["os_time"], many[1].columns["os_time"])
    with pytest.raises(ValueError, match="n_cohorts"):
        generate_cohorts(small_plan, 0, seed=1)
    with pytest.raises(ValueError, match="seed"):
        generate_cohort(small_plan, seed=None)


def test_plan_pickles_and_is_cached(small_plan, small_spec_path):
    import pickle
    assert simulate.compile_plan(small_spec_path) is small_plan
    back = pickle.loads(pickle.dumps(small_plan))
    assert np.array_equal(generate_cohort(back, seed=2).columns["os_time"],
                          generate_cohort(small_plan, seed=2).columns["os_time"])


# ---- property test: any valid random spec -------------------------------------------------
@st.composite
def random_spec(draw):
    n = [draw(st.integers(3, 60)), draw(st.integers(3, 60))]
    variables = []
    for i in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["normal", "lognormal", "binary", "categorical", "count", "split"]))
        arms = {}
        var = {"name": f"v{i}"}
        for lab, k in zip(("A", "B"), n):
            if kind in ("normal", "lognormal"):
                m = draw(st.floats(1.0, 100.0))
                arms[lab] = {"mean": m, "sd": m * draw(st.floats(0.05, 1.5 if kind == "lognormal" else 0.4))}
            elif kind == "count":
                m = draw(st.floats(1.5, 8.0))
                arms[lab] = {"mean": m, "sd": draw(st.floats(0.6, 3.0)) * np.sqrt(m - 1)}
            elif kind == "binary":
                arms[lab] = {"count": draw(st.integers(0, k))}
            else:
                levels = 3 if kind == "categorical" else 2
                cuts = sorted(draw(st.lists(st.integers(0, k), min_size=levels - 1, max_size=levels - 1)))
                edges = [0] + cuts + [k]
                arms[lab] = {"counts": [edges[j + 1] - edges[j] for j in range(levels)]}
        if kind in ("normal", "lognormal"):
            var.update(type="continuous", distribution=kind)
        elif kind == "split":
            var.update(type="continuous", cutpoints=[50.0])
        elif kind == "categorical":
            var.update(type="categorical", levels=["a", "b", "c"])
        else:
            var.update(type=kind)
        var["arms"] = arms
        variables.append(var)
    return {"study": {"id": "random"}, "cohorts": {"main": {
        "arms": [{"label": "A", "n": n[0]}, {"label": "B", "n": n[1], "treated": True}],
        "variables": variables, "correlation": {"default": "independent"},
        "outcomes": {"os": {"knots": [0, 6], "baseline_hazard": [0.05, 0.04], "treatment_hr": 0.8}}}}}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=random_spec(), seed=st.integers(0, 2**31 - 1))
def test_any_valid_spec_generates_a_clean_cohort(raw, seed):
    spec = simulate.spec_from_dict(raw)
    c = generate_cohort(simulate.compile_plan(spec, cache=None), seed=seed)
    n = sum(a["n"] for a in raw["cohorts"]["main"]["arms"])
    for k, v in c.columns.items():
        assert v.shape == (n,), k
        if v.dtype.kind == "f" and k not in ("true_ps",):
            assert not np.isnan(v).any(), k
    assert not np.isnan(c.columns["true_ps"]).any()
    assert np.all((c.columns["true_ps"] >= 0) & (c.columns["true_ps"] <= 1))
    assert np.all(c.columns["os_time"] > 0)
