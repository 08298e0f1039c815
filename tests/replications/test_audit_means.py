"""P-values of two means recomputed from the printed means, SDs and arm sizes (Student's and
Welch's t, against R), the paper's t-test inferred from its own p-values, and the
coverage of the p-values it cannot recompute (medians, weighted means, no SD)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from tacebench.replications.audit import audit_targets
from tacebench.replications.audit.means import (STUDENT, WELCH, ArmSummary, t_test_p,
                                                t_test_p_range)
from tacebench.replications.audit.rounding import Printed
from tacebench.replications.targets import parse_targets
from tests.reference.cases import load_case

DATA, EXPECTED = load_case("two_sample_t")


@pytest.mark.parametrize("name", sorted(k for k in EXPECTED if k != "_meta"))
def test_t_test_p_matches_r(name):
    """R: t.test(a, b, var.equal = TRUE)$p.value and t.test(a, b, var.equal = FALSE)$p.value
    on the raw samples; here from the samples' means, SDs (n - 1) and sizes."""
    s = DATA[DATA["sample"] == name]
    a, b = (s.loc[s["arm"] == arm, "x"] for arm in "ab")
    stats = (a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b))
    want = EXPECTED[name]
    assert t_test_p(*stats, STUDENT) == pytest.approx(want["p_student"], rel=1e-9, abs=1e-14)
    assert t_test_p(*stats, WELCH) == pytest.approx(want["p_welch"], rel=1e-9, abs=1e-14)


def _arm(mean, sd, n, decimals):
    h = 0.5 * 10.0 ** -decimals
    return ArmSummary(Printed(mean, mean - h, mean + h, f"{mean}"),
                      Printed(sd, sd - h, sd + h, f"{sd}"), n)


@pytest.mark.parametrize("test", [STUDENT, WELCH])
def test_the_p_range_holds_every_p_the_printed_digits_allow(test):
    x, y = _arm(57.2, 10.1, 150, 1), _arm(56.8, 9.7, 100, 1)
    lo, hi = t_test_p_range(x, y, test)
    grid = [(m1, s1, m2, s2) for m1 in (57.15, 57.2, 57.25) for s1 in (10.05, 10.15)
            for m2 in (56.75, 56.85) for s2 in (9.65, 9.7, 9.75)]
    ps = [t_test_p(m1, s1, 150, m2, s2, 100, test) for m1, s1, m2, s2 in grid]
    assert lo <= min(ps) + 1e-12 and max(ps) <= hi + 1e-12     # (floating error of the ends)
    assert min(ps) - lo < 1e-3 and hi - max(ps) < 1e-3       # and not much more


# ------------------------------------------------------------------ the rule on a paper

def _n(arm, n):
    return {"id": f"n_{arm.lower()}", "analysis": "a", "quantity": "group_size", "arm": arm,
            "value": n, "role": "reported", "where": "table 1", "source": f"(n = {n})"}


def _row(term, a, b, p, **extra):
    """Two arms' ``mean ± SD`` cells (``(mean text, sd text)``) and the row's p (a float, or
    a bound such as ``"<0.001"``); ``extra`` goes into each cell (``quantity``, ``weighted``)."""
    cells = []
    for arm, (m, s) in zip("AB", (a, b)):
        cell = {"id": f"{term}_mean_{arm.lower()}", "analysis": "a", "quantity": "mean",
                "term": term, "arm": arm, "value": float(m), "role": "reported",
                "where": "table 1", "source": f"{m} ± {s}", **extra}
        if s is not None and cell["quantity"] == "mean":
            cell["sd"] = float(s)
        cells.append(cell)
    p_key = {"p_text": p} if isinstance(p, str) else {"p": p}
    return cells + [{"id": f"p_{term}", "analysis": "a", "quantity": "p_value", "term": term,
                     "compares": [c["id"] for c in cells], "role": "reported",
                     "where": "table 1", "source": f"{term} p {p}", **p_key}]


def _paper(rows, sizes=(150, 100)):
    targets = [_n("A", sizes[0]), _n("B", sizes[1])]
    for row in rows:
        targets += _row(*row)
    return parse_targets({"study": {"id": "s"}, "targets": targets})


def _printed_p(a, b, test, sizes=(150, 100)):
    return round(t_test_p(float(a[0]), float(a[1]), sizes[0], float(b[0]), float(b[1]),
                          sizes[1], test), 3)


def test_a_planted_wrong_p_is_an_error_with_both_tests_recomputed():
    rep = audit_targets(_paper([("age", ("57.2", "10.1"), ("56.8", "9.7"), 0.01)]))
    (f,) = rep.select(rule="two_mean_p")
    assert f.severity == "error" and f.targets == ("p_age", "age_mean_a", "age_mean_b")
    assert "57.2 ± 10.1 (n = 150) vs 56.8 ± 9.7 (n = 100)" in f.message
    assert "Student's t 0.756 (0.696-0.816 under rounding)" in f.message
    assert "Welch's t 0.754" in f.message and "no test agrees on significance" in f.message
    (row,) = [r for r in rep.coverage.rules if r.rule == "two_mean_p"]
    assert (row.ran, row.passed, row.failed) == (1, 0, 1)


def test_a_wrong_p_on_the_same_side_of_0_05_is_a_warning():
    rep = audit_targets(_paper([("age", ("57.2", "10.1"), ("56.8", "9.7"), 0.40)]))
    (f,) = rep.select(rule="two_mean_p")
    assert f.severity == "warning" and "no test agrees" not in f.message


# unequal arms and SDs: Student's and Welch's t print differently at three decimals
UNEQUAL = [("v0", ("57.0", "12.0"), ("54.0", "5.0")), ("v1", ("20.0", "8.0"), ("18.0", "3.0")),
           ("v2", ("3.10", "2.50"), ("2.60", "1.00"))]


@pytest.mark.parametrize("test", [STUDENT, WELCH])
def test_consistent_p_values_under_either_test_are_not_flagged(test):
    rows = [(term, a, b, _printed_p(a, b, test)) for term, a, b in UNEQUAL]
    assert all(_printed_p(a, b, STUDENT) != _printed_p(a, b, WELCH)
               for _, a, b in UNEQUAL)                # every row tells the tests apart
    rep = audit_targets(_paper(rows))
    assert not rep.select(rule="two_mean_p")
    (info,) = [f for f in rep.select(rule="conventions_inferred") if "two means" in f.message]
    assert f"p-values of two means: {test}" in info.message


def test_a_p_by_the_other_test_than_the_papers_is_a_warning():
    rows = [(term, a, b, _printed_p(a, b, WELCH)) for term, a, b in UNEQUAL]
    rows.append(("v3", ("40.0", "11.0"), ("37.0", "4.0"),
                 _printed_p(("40.0", "11.0"), ("37.0", "4.0"), STUDENT)))
    (f,) = audit_targets(_paper(rows)).select(rule="two_mean_p")
    assert f.severity == "warning" and f.targets[0] == "p_v3"
    assert "only Student's t gives it, while the paper uses Welch's t" in f.message


def test_a_paper_mixing_the_tests_has_no_convention_and_no_warning():
    """Two rows by Student's t, two by Welch's (as a choice by Levene's test gives)."""
    extra = [("v3", ("40.0", "11.0"), ("37.0", "4.0"))]
    rows = [(t, a, b, _printed_p(a, b, STUDENT)) for t, a, b in UNEQUAL[:2]]
    rows += [(t, a, b, _printed_p(a, b, WELCH)) for t, a, b in UNEQUAL[2:] + extra]
    rep = audit_targets(_paper(rows))
    assert not rep.select(rule="two_mean_p")
    assert not [f for f in rep.select(rule="conventions_inferred") if "two means" in f.message]


def test_a_p_bound_is_read_as_its_interval():
    rows = [("cr", ("68.0", "16.3"), ("75.9", "15.8"), "<0.001"),
            ("x", ("10.8", "3.9"), ("11.0", "3.7"), "<0.001")]
    (f,) = audit_targets(_paper(rows, (294, 129))).select(rule="two_mean_p")
    assert f.targets[0] == "p_x" and f.severity == "error"


def test_p_values_it_cannot_recompute_carry_their_reason():
    rows = [("los", ("7.0", "3.0"), ("9.0", "4.0"), 0.02, {"quantity": "median"}),
            ("bmi", ("24.0", "3.0"), ("23.0", "3.0"), 0.3, {"weighted": True}),
            ("alb", ("39.1", None), ("38.3", None), 0.136, {})]
    targets = [_n("A", 150), _n("B", 100)]
    for term, a, b, p, extra in rows:
        targets += _row(term, a, b, p, **extra)
    for t in targets:                    # no SD printed: a quote without one
        if t["id"].startswith("alb_mean"):
            t["source"] = t["source"].split(" ± ")[0]
    rep = audit_targets(parse_targets({"study": {"id": "s"}, "targets": targets}))
    reasons = {u.target: u.reason for u in rep.coverage.unchecked}
    assert "two_mean_p" in reasons["p_los"] and "rank test (Mann-Whitney)" in reasons["p_los"]
    assert "weighted means" in reasons["p_bmi"]
    assert "no SD printed" in reasons["p_alb"]
    assert not rep.select(rule="two_mean_p")
    rep = audit_targets(parse_targets({"study": {"id": "s"}, "targets": targets}),
                        rules=["same_as_agree"])
    reasons = {u.target: u.reason for u in rep.coverage.unchecked}
    assert "a p-value of two medians: a rank test" in reasons["p_los"]
    assert "a p-value of two means without the SDs" in reasons["p_alb"]


def test_an_sd_is_only_for_a_mean():
    bad = _row("x", ("7.0", "3.0"), ("9.0", "4.0"), 0.02)
    bad[0] = {**bad[0], "quantity": "median", "id": "x_median_a"}
    bad[2]["compares"] = ["x_median_a", bad[1]["id"]]
    with pytest.raises(ValueError, match="only a mean takes an sd"):
        parse_targets({"study": {"id": "s"}, "targets": [_n("A", 9), _n("B", 9), *bad]})


# ------------------------------------------------------------------ never a false alarm

@settings(max_examples=150, deadline=None)
@given(n1=st.integers(2, 400), n2=st.integers(2, 400),
       m1=st.floats(0.5, 500.0), shift=st.floats(-3.0, 3.0), s1=st.floats(0.1, 200.0),
       ratio=st.floats(0.25, 4.0), decimals=st.integers(0, 2), p_decimals=st.integers(2, 3),
       test=st.sampled_from([STUDENT, WELCH]))
def test_an_exact_p_printed_with_rounding_is_never_flagged(n1, n2, m1, shift, s1, ratio,
                                                           decimals, p_decimals, test):
    """Means, SDs and p of exact numbers, each printed rounded (a p below the last digit as
    ``<0.001`` / ``<0.01``): no finding, whatever the test, sizes and rounding."""
    s2 = s1 * ratio
    m2 = max(m1 + shift * s1, 0.0)
    p = t_test_p(m1, s1, n1, m2, s2, n2, test)
    floor = 10.0 ** -p_decimals
    shown = f"<{floor:.{p_decimals}f}" if p < floor / 2 else round(p, p_decimals)
    a = (f"{m1:.{decimals}f}", f"{s1:.{decimals}f}")
    b = (f"{m2:.{decimals}f}", f"{s2:.{decimals}f}")
    rep = audit_targets(_paper([("x", a, b, shown)], (n1, n2)), rules=["two_mean_p"])
    assert not rep.select(rule="two_mean_p"), rep.select(rule="two_mean_p")[0].message
