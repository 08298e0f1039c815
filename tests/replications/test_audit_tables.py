"""2 x k and k x 2 p-values against R, the paper's inferred test for them, direction claims,
and the audit's coverage (checks run, passed, failed; numbers left unchecked)."""
from __future__ import annotations

import numpy as np
import pytest

from tacebench.replications.audit import audit_targets
from tacebench.replications.audit.counts import two_by_two_p_values
from tacebench.replications.audit.coverage import NO_RULE
from tacebench.replications.audit.tables import COCHRAN, sparse, two_by_k_p_values
from tacebench.replications.targets import parse_targets
from tests.reference.cases import load_case

DATA, EXPECTED = load_case("contingency_rxc")
TABLES = {name: g.pivot(index="row", columns="col", values="count").to_numpy()
          for name, g in DATA.groupby("table")}


@pytest.mark.parametrize("name", sorted(n for n, t in TABLES.items() if t.shape != (2, 2)))
def test_two_by_k_p_values_match_r(name):
    """R: chisq.test(tab, correct = FALSE)$p.value and fisher.test(tab,
    simulate.p.value = FALSE)$p.value, on the table with empty categories dropped."""
    ps = two_by_k_p_values(TABLES[name])
    want = EXPECTED[name]
    assert ps["chi-square"] == pytest.approx(want["p_chisq"], rel=1e-9)
    assert ps["Fisher-Freeman-Halton"] == pytest.approx(want["p_fisher"], rel=1e-8)


@pytest.mark.parametrize("name", sorted(n for n, t in TABLES.items() if t.shape == (2, 2)))
def test_two_by_two_p_values_match_r(name):
    """R: chisq.test(tab, correct = TRUE / FALSE)$p.value and fisher.test(tab)$p.value."""
    t = TABLES[name]
    ps = two_by_two_p_values((int(t[0, 1]), int(t[0].sum())), (int(t[1, 1]), int(t[1].sum())))
    want = EXPECTED[name]
    assert ps["chi-square"] == pytest.approx(want["p_chisq"], rel=1e-9)
    assert ps["chi-square (Yates)"] == pytest.approx(want["p_chisq_correct"], rel=1e-9)
    assert ps["Fisher exact"] == pytest.approx(want["p_fisher"], rel=1e-8)


def test_k_by_2_is_the_transposed_test():
    k2 = two_by_k_p_values(TABLES["lung_liver_diameter_k_by_2"])
    assert k2 == pytest.approx(two_by_k_p_values(TABLES["lung_liver_diameter_crude"]))


def test_cochran_reading_switches_on_sparse_tables():
    dense, thin = TABLES["ehm_pvtt_type_crude"], TABLES["lung_albi_crude"]
    assert not sparse(dense) and sparse(thin)
    assert two_by_k_p_values(dense)[COCHRAN] == two_by_k_p_values(dense)["chi-square"]
    assert two_by_k_p_values(thin)[COCHRAN] == two_by_k_p_values(thin)["Fisher-Freeman-Halton"]


def _n(arm, n):
    return {"id": f"n_{arm.lower()}", "analysis": "a", "quantity": "group_size", "arm": arm,
            "value": n, "role": "reported", "where": "table 1", "source": f"n = {n}"}


def _row(term, table, p):
    """A k-level Table 1 row of arms A and B and its printed p."""
    out, cells = [], []
    for arm, counts in zip("AB", table):
        for lvl, c in enumerate(counts):
            pct = round(100 * c / sum(counts), 1)
            cells.append(f"{c} ({pct:.1f})")
            out.append({"id": f"bl_{term}_l{lvl}_{arm.lower()}", "analysis": "a",
                        "quantity": "proportion", "arm": arm, "term": term, "level": f"L{lvl}",
                        "partition": term, "count": int(c), "percent": pct,
                        "role": "reported", "where": "table 1"})
    source = f"{term} " + " ".join(cells) + f" {p:.3f}"
    out.append({"id": f"p_{term}", "analysis": "a", "quantity": "p_value", "term": term,
                "p": p, "role": "reported", "where": "table 1"})
    return [{**t, "source": source} for t in out]


def _paper(rows, claims=()):
    targets = [_n("A", 100), _n("B", 100)]
    for term, table, p in rows:
        targets += _row(term, table, p)
    return parse_targets({"study": {"id": "s"}, "targets": targets, "claims": list(claims)})


def _p(table, test):
    return round(two_by_k_p_values(np.array(table))[test], 3)


ROWS = [[[20, 50, 30], [35, 40, 25]], [[10, 60, 30], [25, 45, 30]],
        [[40, 40, 20], [30, 50, 20]]]


def test_the_papers_test_is_inferred_and_a_switch_is_a_warning():
    rows = [(f"v{i}", t, _p(t, "Fisher-Freeman-Halton")) for i, t in enumerate(ROWS)]
    rep = audit_targets(_paper(rows))
    assert not rep.select(rule="two_by_k_p")
    assert any("2 x k tables: Fisher-Freeman-Halton" in f.message
               for f in rep.select(rule="conventions_inferred"))
    chi = _p(ROWS[2], "chi-square")
    assert chi != _p(ROWS[2], "Fisher-Freeman-Halton")
    rep = audit_targets(_paper(rows[:2] + [("v2", ROWS[2], chi)]))
    (f,) = rep.select(rule="two_by_k_p")
    assert f.severity == "warning" and "p_v2" in f.targets and "it is the chi-square" in f.message


def test_a_wrong_p_is_an_error_and_coverage_counts_it():
    rows = [(f"v{i}", t, _p(t, "chi-square")) for i, t in enumerate(ROWS)]
    rows[0] = ("v0", ROWS[0], 0.001)
    rep = audit_targets(_paper(rows))
    (f,) = rep.select(rule="two_by_k_p")
    assert f.severity == "error" and "no test agrees" in f.message
    (row,) = [r for r in rep.coverage.rules if r.rule == "two_by_k_p"]
    assert (row.ran, row.passed, row.failed) == (3, 2, 1)


def test_unchecked_numbers_carry_their_reason():
    targets = [_n("A", 100), _n("B", 100), *_row("v0", ROWS[0], _p(ROWS[0], "chi-square")),
               {"id": "os_p", "analysis": "a", "quantity": "p_value", "endpoint": "os",
                "p": 0.03, "role": "reported", "where": "text", "source": "log-rank p = 0.03"},
               {"id": "w_p", "analysis": "w", "quantity": "p_value", "term": "w", "p": 0.4,
                "role": "reported", "where": "table 1", "source": "w row 0.4"}]
    for arm in "AB":
        for lvl in range(3):
            targets.append({"id": f"w_l{lvl}_{arm.lower()}", "analysis": "w", "quantity": "proportion",
                            "arm": arm, "term": "w", "level": f"L{lvl}", "partition": "w",
                            "count": 10.5 + lvl, "percent": 30.0, "weighted": True,
                            "role": "reported", "where": "table 1",
                            "source": f"w {10.5 + lvl} (30.0) 0.4"})
    rep = audit_targets(parse_targets({"study": {"id": "s"}, "targets": targets}))
    reasons = {u.target: u.reason for u in rep.coverage.unchecked}
    assert reasons["os_p"].startswith(NO_RULE)
    assert "two_by_k_p" in reasons["w_p"] and "whole counts" in reasons["w_p"]
    assert "p_v0" not in reasons


def _ratio(tid, value, ci, quantity="hr", endpoint="os"):
    return {"id": tid, "analysis": "a", "quantity": quantity, "endpoint": endpoint,
            "term": "x", "contrast": ["high", "low"], "value": value, "ci": ci,
            "role": "reported", "where": "table 2", "source": f"{value} ({ci[0]}-{ci[1]})"}


@pytest.mark.parametrize("claim, targets, flagged", [
    # a higher ALBI described as better liver function: the declared direction
    ({"variable": "albi", "higher": "better"}, [], True),
    ({"variable": "albi", "higher": "worse"}, [], False),
    # the paper's own HR of the higher level: 2.1 says worse survival
    ({"variable": "dose", "higher": "better", "estimates": ["hr"]},
     [_ratio("hr", 2.1, [1.3, 3.4])], True),
    ({"variable": "dose", "higher": "worse", "estimates": ["hr"]},
     [_ratio("hr", 2.1, [1.3, 3.4])], False),
    # an OR of response above 1 says better
    ({"variable": "dose", "higher": "better", "estimates": ["or"]},
     [_ratio("or", 1.8, [1.1, 2.9], "odds_ratio", "orr")], False),
    # 1.00 within rounding carries no direction: not checked, not flagged
    ({"variable": "dose", "higher": "better", "estimates": ["hr"]},
     [_ratio("hr", 1.0, [0.8, 1.3])], False),
])
def test_direction_claims(claim, targets, flagged):
    c = {"id": "d", "kind": "direction", "where": "text", "quote": "q", **claim}
    rep = audit_targets(parse_targets({"study": {"id": "s"}, "targets": targets,
                                       "claims": [c]}))
    found = rep.select(rule="direction_matches_evidence")
    assert bool(found) == flagged
    assert all(f.severity == "error" and "claim d" in f.targets for f in found)


@pytest.mark.parametrize("claim, message", [
    ({"variable": "dose", "higher": "better"}, "no declared clinical direction"),
    ({"variable": "albi", "higher": "higher"}, "must be one of"),
    ({"variable": "albi", "higher": "worse", "estimates": ["nope"]}, "names no target"),
    ({"variable": "albi"}, "a direction claim needs higher"),
])
def test_bad_direction_claims_are_named(claim, message):
    c = {"id": "d", "kind": "direction", "where": "text", "quote": "q", **claim}
    with pytest.raises(ValueError, match=message):
        parse_targets({"study": {"id": "s"}, "targets": [], "claims": [c]})


def test_coverage_is_in_every_output(tmp_path):
    import json

    from tacebench.replications.report import StudyReport, render, write_outputs
    rows = [(f"v{i}", t, _p(t, "chi-square")) for i, t in enumerate(ROWS)]
    rep = audit_targets(_paper(rows))
    study = StudyReport("s", audit=rep.findings, coverage=rep.coverage)
    for fmt in ("table", "markdown"):
        text = render([study], fmt)
        assert "Audit coverage:" in text and "two_by_k_p" in text
    assert "| rule | family | checks |" in render([study], "markdown")
    (out,) = json.loads(render([study], "json"))
    row = next(r for r in out["audit_coverage"]["rules"] if r["rule"] == "two_by_k_p")
    assert (row["ran"], row["passed"], row["failed"]) == (3, 3, 0)
    written = write_outputs([study], tmp_path)
    assert tmp_path / "audit_coverage.csv" in written
