"""Audit rules on constructed consistent and inconsistent examples, rounding borderlines too.

Each example is a tiny targets file whose numbers are printed in their own quotes, so that
the rules see the decimals a paper would print.
"""
from __future__ import annotations

import pytest

from tacebench.replications.audit import RULES, SEVERITIES, AuditReport, Finding, audit_targets, cohort_facts
from tacebench.replications.targets import parse_targets

_DEFAULTS = {"analysis": "crude", "role": "reported", "where": "text"}


def study(*targets):
    rows = []
    for i, t in enumerate(targets):
        row = {**_DEFAULTS, **t}
        row.setdefault("id", f"t{i}")
        rows.append({k: v for k, v in row.items() if v is not None})
    return parse_targets({"study": {"id": "demo"}, "targets": rows})


def run(rule, *targets, **kw) -> list[Finding]:
    return list(audit_targets(study(*targets), rules=[rule], **kw))


def n(value, arm=None, analysis="crude", **kw):
    q = "weighted_group_size" if kw.get("weighted") else "group_size"
    return {"id": f"n_{(arm or 'all').lower()}_{analysis}", "analysis": analysis,
            "quantity": q, "arm": arm,
            "value": value, "source": f"(n={value})", **kw}


def pct(count, percent, source=None, arm="A", **kw):
    src = source or (f"{count} ({percent})" if count is not None else f"{percent}%")
    return {"quantity": "proportion", "term": "x", "arm": arm, "count": count,
            "percent": float(percent), "source": src, **kw}


def ratio(value, lo, hi, p=None, p_text=None, source=None, **kw):
    src = source or f"HR {value} (95% CI {lo}-{hi}; p {p_text or p})"
    return {"quantity": "hr", "endpoint": "os", "contrast": ["B", "A"], "value": float(value),
            "ci": [float(lo), float(hi)], "p": None if p is None else float(p),
            "p_text": p_text, "source": src, **kw}


# ---------------------------------------------------------------- registry and data types

def test_registry_has_one_rule_per_name_with_a_docstring():
    assert {"percent_matches_count", "counts_sum_to_group_size", "arms_sum_to_total",
            "ci_contains_estimate", "ratio_ci_log_symmetric", "p_value_matches_ci",
            "median_matches_rates", "same_as_agree", "weighted_group_sizes",
            "two_proportion_p", "smd_matches_proportions"} <= set(RULES)
    assert all(r.description for r in RULES.values())


def test_unknown_rule_and_bad_severity_are_value_errors():
    with pytest.raises(ValueError, match="unknown rule"):
        audit_targets(study(n(10, "A")), rules=["no_such_rule"])
    with pytest.raises(ValueError, match="severity"):
        Finding("r", "fatal", ("x",), "m")


def test_report_is_data_with_a_tidy_frame():
    rep = audit_targets(study(n(423), pct(133, "30.8", source="lungs (133, 30.8%)", arm=None)))
    assert isinstance(rep, AuditReport) and rep.study == "demo" and rep.n_targets == 2
    frame = rep.to_frame()
    assert list(frame.columns)[:3] == ["study", "rule", "severity"]
    assert len(frame) == len(rep) == sum(rep.counts().values())
    assert set(rep.counts()) == set(SEVERITIES)


# ---------------------------------------------------------------- percentages vs counts

def test_percent_that_rounds_from_the_count_is_consistent():
    # 17.0% of 282: 0.170 * 282 = 47.94, and 48 / 282 = 17.02% rounds to 17.0
    assert run("percent_matches_count", n(282, "A"), pct(48, "17.0")) == []


def test_the_lungs_slip_of_seed_000_is_found_by_rule():
    (f,) = run("percent_matches_count", n(423),
               pct(133, "30.8", source="the lungs (133, 30.8%)", arm=None))
    assert f.severity == "error" and f.unit == "percentage points"
    assert f.discrepancy == pytest.approx(100 * 133 / 423 - 30.85, abs=1e-9)


def test_borderline_half_unit_is_allowed_both_ways():
    # 1/8 = 12.5% exactly: printed 12 or 13 (no decimals) are both allowed
    assert run("percent_matches_count", n(8, "A"), pct(1, "12", source="1 (12%)")) == []
    assert run("percent_matches_count", n(8, "A"), pct(1, "13", source="1 (13%)")) == []
    assert len(run("percent_matches_count", n(8, "A"), pct(1, "14", source="1 (14%)"))) == 1


def test_percent_without_count_needs_some_whole_count():
    assert run("percent_matches_count", n(141, "A"), pct(None, "42.6")) == []   # 60/141
    (f,) = run("percent_matches_count", n(10, "A"), pct(None, "55.5"))
    assert f.severity == "error" and "no whole count" in f.message


def test_truncation_is_a_warning_not_an_error():
    (f,) = run("percent_matches_count", n(167), pct(14, "8.3", source="14(8.3%)", arm=None))
    assert f.severity == "warning" and "truncated" in f.message


def test_weighted_counts_are_rounded_numbers():
    ok = pct(5.9, "30.2", source="5.9(30.2%)", analysis="w", weighted=True)
    assert run("percent_matches_count", n(19.4, "A", "w", weighted=True,
                                           source="n 19.4"), ok) == []
    bad = pct(192, "65.7", source="192 (65.7)", analysis="w", weighted=True)
    (f,) = run("percent_matches_count", n(296, "A", "w", weighted=True), bad)
    assert f.severity == "error"


def test_count_above_denominator_and_explicit_denominator():
    (f,) = run("percent_matches_count", n(10, "A"), pct(12, "100", source="12 (100%)"))
    assert "exceeds" in f.message
    # an explicit denominator wins over the arm size
    assert run("percent_matches_count", n(38, "A"),
               pct(1, "6.7", source="1 (6.7%)", denominator=15)) == []


def test_denominator_is_the_most_often_printed_group_size():
    swapped = {**n(129, "A"), "id": "n_a_ga", "where": "graphical abstract"}
    targets = [n(294, "A"), {**n(294, "A"), "id": "n_a_abs", "where": "abstract"}, swapped,
               pct(46, "15.6", source="46 (15.6%)")]
    assert run("percent_matches_count", *targets) == []


def test_cohort_arm_size_is_the_last_resort_denominator():
    # only for an analysis that is whole arms of the cohort, unadjusted (a size given)
    (f,) = run("percent_matches_count", pct(46, "15.7", source="46 (15.7%)"),
               arm_sizes={"crude": {"A": 294}})
    assert "cohort.toml" in f.message
    # a sub-population of the same arm (size None) or an unknown analysis: skipped
    for sizes in ({"crude": {"A": None}}, {"other": {"A": 294}}, None):
        assert run("percent_matches_count", pct(46, "15.7", source="46 (15.7%)"),
                   arm_sizes=sizes) == []


# ---------------------------------------------------------------- counts adding up

def _levels(counts, arm="A", analysis="crude", weighted=None, pcts=None):
    out = []
    for i, c in enumerate(counts):
        p = pcts[i] if pcts else None
        src = f"{c} ({p})" if p is not None else f"{c} patients"
        out.append({"id": f"lv{i}_{arm.lower()}_{analysis}", "analysis": analysis,
                    "quantity": "rate",
                    "endpoint": "response", "level": f"L{i}", "arm": arm, "count": c,
                    "percent": p, "partition": "response", "weighted": weighted,
                    "source": src})
    return out


def test_levels_add_up_to_the_group_size():
    assert run("counts_sum_to_group_size", n(282, "A"), *_levels([0, 48, 90, 144])) == []
    (f,) = run("counts_sum_to_group_size", n(282, "A"), *_levels([0, 48, 90, 145]))
    assert f.severity == "error" and f.discrepancy == 1


def test_weighted_levels_allow_rounding_but_not_three_units():
    ok = _levels([268, 27], analysis="w", weighted=True)        # 295 vs 296: rounding
    assert run("counts_sum_to_group_size", n(296, "A", "w", weighted=True), *ok) == []
    bad = _levels([101, 192], analysis="w", weighted=True)      # 293 vs 296
    assert len(run("counts_sum_to_group_size", n(296, "A", "w", weighted=True), *bad)) == 1


def test_arms_add_up_to_the_total():
    arms = [n(127, "A"), n(127, "B")]
    assert run("arms_sum_to_total", *arms, n(254)) == []
    (f,) = run("arms_sum_to_total", *arms, n(354))
    assert f.discrepancy == 100


def test_pooled_count_equals_the_sum_over_arms():
    a = pct(87, "29.6", arm="A", source="87 (29.6)")
    b = pct(46, "35.7", arm="B", source="46 (35.7)")
    assert run("pooled_count_equals_arm_sum", a, b,
               pct(133, "30.8", arm=None, source="(133, 30.8%)")) == []
    (f,) = run("pooled_count_equals_arm_sum", a, b,
               pct(134, "31.7", arm=None, source="(134, 31.7%)"))
    assert f.discrepancy == 1


# ---------------------------------------------------------------- intervals and p-values

def test_ci_must_contain_the_estimate_up_to_rounding():
    assert run("ci_contains_estimate", ratio("0.68", "0.52", "0.88")) == []
    assert run("ci_contains_estimate", ratio("1.10", "1.11", "1.30")) == []    # touching
    (f,) = run("ci_contains_estimate", ratio("1.10", "2.86", "3.18"))
    assert f.severity == "error"


def test_transposed_decimal_point_gets_a_hint():
    (f,) = run("ci_contains_estimate", ratio("1.61", "117", "2.41"))
    assert "above the upper bound" in f.message and "lower bound of 1.17" in f.message
    # with p = 0.006 (0.0055-0.0065) printed, 1.17 gives a Wald p of 0.0087-0.011: the p
    # rules the repair out, and no other shift fits it
    (g,) = run("ci_contains_estimate", ratio("1.61", "117", "2.41", p="0.006"))
    assert "above the upper bound" in g.message and "would fit" not in g.message
    (h,) = run("ci_contains_estimate", ratio("1.61", "117", "2.41", p="0.010"))
    assert "lower bound of 1.17" in h.message


def test_wald_interval_is_log_symmetric():
    assert run("ratio_ci_log_symmetric", ratio("0.68", "0.52", "0.88")) == []
    assert run("ratio_ci_log_symmetric", ratio("1.00", "1.00", "1.00")) == []  # no width
    (w,) = run("ratio_ci_log_symmetric", ratio("1.28", "0.92", "1.60"))
    assert w.severity == "warning" and w.unit == "log units"
    (i,) = run("ratio_ci_log_symmetric", ratio("0.58", "0.31", "0.96"))
    assert i.severity == "info"
    (e,) = run("ratio_ci_log_symmetric", ratio("1.00", "1.00", "100", p_text="<0.001"))
    assert e.severity == "error" and "upper bound of 1.00" in e.message


def test_p_value_consistent_with_ci_under_rounding():
    assert run("p_value_matches_ci", ratio("0.68", "0.52", "0.88", p="0.004")) == []
    # central Wald p is 0.0046 (prints 0.005); rounding of the three numbers allows 0.004
    assert run("p_value_matches_ci", ratio("0.59", "0.41", "0.85", p="0.004")) == []
    (w,) = run("p_value_matches_ci", ratio("0.68", "0.52", "0.88", p="0.04"))
    assert w.severity == "warning"
    (e,) = run("p_value_matches_ci", ratio("0.58", "0.31", "0.96", p="0.048"))
    assert e.severity == "error" and "significance" in e.message
    (b,) = run("p_value_matches_ci", ratio("0.98", "0.95", "1.00", p_text="<0.001"))
    assert b.severity == "warning"


def test_p_value_from_another_test_is_named():
    src = "DCR\t138 (48.9%)\t67 (57.8%)\t1.43 (0.92–2.21)\t0.136"
    arm = {"analysis": "crude", "quantity": "rate", "endpoint": "dcr", "source": src}
    (f,) = run("p_value_matches_ci",
               {**arm, "id": "a", "arm": "A", "count": 138, "percent": 48.9},
               {**arm, "id": "b", "arm": "B", "count": 67, "percent": 57.8},
               n(282, "A"), n(116, "B"),
               {**ratio("1.43", "0.92", "2.21", p="0.136", source=src),
                "quantity": "odds_ratio", "endpoint": "dcr"})
    assert f.severity == "warning" and "chi-square (Yates)" in f.message


def test_se_and_ci_agree_for_spss_style_medians():
    med = {"quantity": "km_median", "endpoint": "os", "arm": "A"}
    ok = {**med, "value": 13.0, "se": 0.6, "ci": [11.9, 14.2],
          "source": "13.0 ± 0.6 months (95% CI, 11.9–14.2)"}
    assert run("se_matches_ci", ok) == []
    bad = {**med, "value": 6.1, "se": 0.5, "ci": [6.1, 8.8],
           "source": "6.1 ± 0.5 months (95% CI, 6.1–8.8)"}
    (f,) = run("se_matches_ci", bad)
    assert f.severity == "warning" and "5.12" in f.expected


# ---------------------------------------------------------------- medians and landmark rates

def _curve(median, rates, median_text=None):
    out = [{"id": "m", "quantity": "km_median", "endpoint": "os", "arm": "A", "value": median,
            "source": f"median {median_text or median} months"}]
    for t, p in rates:
        out.append({"id": f"r{t}", "quantity": "km_rate", "endpoint": "os", "arm": "A",
                    "time": t, "percent": p, "source": f"{t}-month rate {p}%"})
    return out


def test_median_between_landmarks_is_consistent():
    assert run("median_matches_rates", *_curve(13.0, [(6, 92.9), (12, 58.9), (24, 5.6)])) == []


def test_rate_below_half_before_the_median_is_an_error():
    (f,) = run("median_matches_rates", *_curve(13.0, [(12, 45.0)]))
    assert f.severity == "error" and f.discrepancy == pytest.approx(100 * (0.5 - 0.4505))
    (g,) = run("median_matches_rates", *_curve(13.0, [(24, 55.0)]))
    assert "above 50%" in g.message


def test_landmark_inside_the_medians_rounding_interval_is_allowed():
    # median printed "12" may be 11.5-12.5, so S(12) below 50% is possible
    assert run("median_matches_rates", *_curve(12, [(12, 49.6)], "12")) == []


def _difference(diff, first=15, second=8):
    src = f"median OS {first} vs {second} months, extended by {diff} months"
    med = [{"id": f"m_{arm.lower()}", "quantity": "km_median", "endpoint": "os", "arm": arm,
            "value": v, "source": src} for arm, v in (("A", first), ("B", second))]
    return [*med, {"id": "d", "quantity": "median_difference", "endpoint": "os",
                   "contrast": ["A", "B"], "value": diff, "source": src}]


def test_a_median_difference_must_be_the_medians_difference():
    assert run("median_difference_matches_medians", *_difference(7)) == []
    assert run("median_difference_matches_medians", *_difference(8)) == []   # 15.4 - 7.5
    (f,) = run("median_difference_matches_medians", *_difference(10))
    assert f.severity == "error" and f.targets == ("d", "m_a", "m_b")
    assert f.discrepancy == pytest.approx(10 - 0.5 - (15.5 - 7.5))
    (f,) = run("median_difference_matches_medians", *_difference(-7))       # sign: A - B
    assert "15 (A) and 8 (B)" in f.message


def test_rates_cannot_rise():
    (f,) = run("rates_decrease_over_time", *_curve(30.0, [(12, 60.0), (24, 65.0)]))
    assert f.rule == "rates_decrease_over_time"


# ---------------------------------------------------------------- the same number twice

def _copy(id_, value, where, same_as=None, **kw):
    return {"id": id_, "quantity": "km_median", "endpoint": "ttp", "arm": "A", "value": value,
            "where": where, "same_as": same_as, "source": f"median TTP {value} months", **kw}


def test_copies_agree_up_to_rounding():
    assert run("same_as_agree", _copy("a", 0.6, "text"), _copy("b", 0.60, "abstract", "a",
                                                                source="HR=0.60")) == []


def test_copies_one_unit_apart_are_a_warning_further_apart_an_error():
    (w,) = run("same_as_agree", _copy("a", 12.7, "text"), _copy("b", 12.8, "abstract", "a"))
    assert w.severity == "warning"
    (e,) = run("same_as_agree", _copy("a", 12.7, "text"), _copy("b", 12.9, "abstract", "a"))
    assert e.severity == "error" and e.discrepancy == pytest.approx(0.2)


def test_one_deviating_copy_gives_one_finding_and_a_swap_hint():
    base = [n(294, "A"), n(129, "B")]
    ga_a = {**n(129, "A"), "id": "ga_a", "where": "graphical abstract", "same_as": "n_a_crude"}
    abs_a = {**n(294, "A"), "id": "abs_a", "where": "abstract", "same_as": "n_a_crude"}
    (f,) = run("same_as_agree", *base, ga_a, abs_a)
    assert set(f.targets) == {"n_a_crude", "ga_a"} and "swapped" in f.message


def test_p_and_contrast_disagreements():
    a = ratio("2.73", "1.82", "4.09", p_text="<0.001", id="a",
              contrast=["yes", "no"], term="tace")
    b = ratio("2.73", "1.82", "4.09", p="0.002", id="b", contrast=["no", "yes"],
              term="tace", same_as="a", where="table 2")
    found = run("same_as_agree", a, b)
    assert {f.message.split(": ", 1)[1].split()[0] for f in found} == {"p", "the"}
    assert all(f.severity == "error" for f in found)


# ---------------------------------------------------------------- weights, tests, SMDs

def test_weighted_group_sizes_are_described_not_judged():
    stab = [n(294, "A"), n(129, "B"),
            n(296, "A", "w", weighted=True, unweighted="n_a_crude"),
            n(130, "B", "w", weighted=True, unweighted="n_b_crude")]
    (f,) = run("weighted_group_sizes", *stab)
    assert f.severity == "info" and "stabilized" in f.message
    unstab = stab[:2] + [n(420, "A", "w", weighted=True, unweighted="n_a_crude"),
                         n(430, "B", "w", weighted=True, unweighted="n_b_crude")]
    (g,) = run("weighted_group_sizes", *unstab)
    assert g.severity == "info" and "consistent with unstabilized" in g.message


def _two_arms(c1, p1, c2, p2, p, n1=141, n2=26):
    src = f"{c1} ({p1}%)\t{c2} ({p2}%)\t{p}"
    return [n(n1, "A"), n(n2, "B"),
            {"id": "a", "quantity": "rate", "endpoint": "ae", "arm": "A", "count": c1,
             "percent": float(p1), "source": src},
            {"id": "b", "quantity": "rate", "endpoint": "ae", "arm": "B", "count": c2,
             "percent": float(p2), "source": src},
            {"id": "p", "quantity": "p_value", "endpoint": "ae", "p": float(p),
             "compares": ["a", "b"], "source": src}]


def test_two_proportion_p_values():
    assert run("two_proportion_p", *_two_arms(21, "14.9", 11, "42.3", "0.001")) == []
    (f,) = run("two_proportion_p", *_two_arms(73, "51.8", 14, "53.8", "0.042"))
    assert f.severity == "error" and "Fisher" in f.message


def _smd(p_a, p_b, smd):
    src = f"F\t{p_a}%\t{p_b}%\t{smd}"
    rows = [{"id": f"{lvl}_{arm}".lower(), "quantity": "proportion", "term": "sex", "level": lvl,
             "arm": arm, "percent": float(p), "partition": "sex", "source": src + f" {q}%"}
            for arm, pa in (("A", p_a), ("B", p_b))
            for lvl, p, q in (("F", pa, pa), ("M", round(100 - float(pa), 1),
                                              round(100 - float(pa), 1)))]
    return rows + [{"id": "smd", "quantity": "smd", "term": "sex", "value": float(smd),
                    "source": src}]


def test_smd_follows_from_the_proportions():
    assert run("smd_matches_proportions", *_smd("11.5", "13.5", "0.061")) == []
    (f,) = run("smd_matches_proportions", *_smd("11.5", "13.5", "0.609"))
    assert f.severity == "error" and f.unit == "SMD units"


def test_cohort_counts_must_fill_the_arms(tmp_path):
    (tmp_path / "cohort.toml").write_text(
        '[cohorts.main]\n[[cohorts.main.arms]]\nlabel = "A"\nn = 10\n'
        '[[cohorts.main.variables]]\nname = "age"\narms.A = { counts = [4, 5] }\n'
        '[[cohorts.main.variables]]\nname = "male"\narms.A = { count = 11 }\n',
        encoding="utf-8")
    sizes, counts = cohort_facts(tmp_path)
    assert sizes == {"A": 10.0}
    found = run("cohort_counts_fit_arm_sizes", n(10, "A"), cohort_counts=counts)
    assert len(found) == 2 and all(f.severity == "error" for f in found)
