"""Constructed papers for measuring the audit: clean numbers under a paper's conventions,
with slips of every rule's kind planted and recorded.

:func:`build_paper` draws one two-arm paper from a seed: baseline table (binary rows with
two-proportion p-values by the paper's test, three-level rows), a matched table with SMDs
and a balance claim, a response table (CR/PR/SD/PD, ORR, DCR, a 2 x k p and two odds
ratios), an adverse-event table, a Cox table with Wald CIs and p-values, Kaplan-Meier
medians with ranges and 12-month rates, and claims (a footnote on significance, a unit
conversion, the follow-up window). Conventions vary by paper: the two-proportion test
(Pearson, Yates, Fisher), the 2 x k test (chi-square, Fisher-Freeman-Halton, or the
exact test where the table is sparse) of the three-level rows and the response table, a
truncated column, rows forced to add up to 100, and rows of one arm computed on ``n - 1``
patients; direction claims (:mod:`.levels`). A planted slip is recorded as
``(kind, target id)`` only where it changes a printed number beyond rounding (a "slip"
that prints the same digits is no slip).
"""
from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
from scipy.stats import norm

from .levels import LEVEL_SLIP_RULES, direction_claims, level_conventions, level_p_values
from .numbers import _dec, _smd, p_text, pct, two_by_two
from .timing import _claims, _survival

#: Kinds of planted slip -> the audit rules that find them.
SLIP_RULES = {
    "percent": ("percent_matches_count",),
    "two_proportion_p": ("two_proportion_p",),
    "missing_data": ("undisclosed_missing_data",),
    "smd": ("smd_matches_proportions",),
    "balance_claim": ("claims_match_tables",),
    "two_by_k_p": ("two_by_k_p",),
    "orr_above_dcr": ("subset_within_set",),
    "parallel_test": ("parallel_tests_consistent",),
    "any_ae_below_ae": ("subset_within_set",),
    "ci_excludes": ("ci_contains_estimate",),
    "ci_off_centre": ("ratio_ci_log_symmetric",),
    "hr_p": ("p_value_matches_ci", "p_value_matches_ci_centre"),
    "significance_claim": ("claims_match_tables",),
    "copy_differs": ("same_as_agree",),
    "km_rate": ("median_matches_rates",),
    "km_rate_rises": ("rates_decrease_over_time",),
    "arms_total": ("arms_sum_to_total",),
    "symmetric_range": ("range_is_symmetric_ci",),
    "conversion": ("claims_match_tables",),
    "follow_up": ("claims_match_tables",),
    "malformed": ("malformed_numbers",),
    **LEVEL_SLIP_RULES,
}
TESTS = ("chi-square", "chi-square (Yates)", "Fisher exact")


class Paper:
    """Targets, claims and planted slips of one constructed paper (TOML-ready dicts)."""

    def __init__(self, study_id: str):
        self.study_id, self.targets, self.claims, self.slips = study_id, [], [], []

    def add(self, tid: str, **kw) -> str:
        self.targets.append({"id": tid, "role": "reported", **kw})
        return tid

    def plant(self, kind: str, tid: str) -> None:
        self.slips.append((kind, tid))

    def data(self) -> dict:
        return {"study": {"id": self.study_id}, "targets": self.targets,
                "claims": self.claims}


def _baseline(P: Paper, rng, nA: int, nB: int, conv: dict, slips: set) -> None:
    test, trunc = conv["test"], conv["truncate"]
    P.add("n_a", analysis="crude", quantity="group_size", arm="A", value=nA,
          where="table 1", source=f"Group A (n = {nA})")
    P.add("n_b", analysis="crude", quantity="group_size", arm="B", value=nB,
          where="table 1", source=f"Group B (n = {nB})")
    total = nA + nB + (int(rng.integers(5, 30)) if "arms_total" in slips else 0)
    tid = P.add("n_total", analysis="crude", quantity="group_size", value=total,
                where="text", source=f"a total of {total} patients")
    if "arms_total" in slips:
        P.plant("arms_total", tid)
    missing_rows = set(range(2)) if conv["missing"] else set()
    evidence = []
    for i in range(8):
        ca, cb = int(rng.integers(5, nA - 5)), int(rng.integers(5, nB - 5))
        nb_used = nB - 1 if i in missing_rows else nB
        cb = min(cb, nb_used)
        pa, pb = pct(ca, nA), pct(cb, nb_used, truncate=trunc)
        p = two_by_two((ca, nA), (cb, nb_used), test)
        differs = {}
        if i in missing_rows:
            # evidence only where n - 1 prints other digits than n (percent or p)
            readings_at_n = {pct(cb, nB), pct(cb, nB, truncate=True)} if trunc else {pct(cb, nB)}
            differs = {"percent": pb not in readings_at_n,
                       "two_proportion_p": p_text(two_by_two((ca, nA), (cb, nB), test))[1]
                       != p_text(p)[1]}
        planted = None
        if i == 2 and "percent" in slips:
            sign = -1 if float(pa) > 50 else 1
            pa, planted = _dec(float(pa) + sign * rng.uniform(1.5, 6), 1), "percent"
        if i == 3 and "two_proportion_p" in slips:
            p, planted = min(0.999, p * 0.3 if p > 0.2 else p + 0.3), "two_proportion_p"
        pkw, ptxt = p_text(p)
        src = f"Variable {i} {ca} ({pa}%) {cb} ({pb}%) {ptxt}"
        ida = P.add(f"bl_v{i}_a", analysis="crude", quantity="proportion", arm="A",
                    term=f"v{i}", count=ca, percent=float(pa), where="table 1", source=src)
        idb = P.add(f"bl_v{i}_b", analysis="crude", quantity="proportion", arm="B",
                    term=f"v{i}", count=cb, percent=float(pb), where="table 1", source=src)
        idp = P.add(f"bl_v{i}_p", analysis="crude", quantity="p_value", term=f"v{i}",
                    test=test, compares=[ida, idb], where="table 1", source=src, **pkw)
        if planted:
            P.plant(planted, ida if planted == "percent" else idp)
        evidence += [(kind, tid) for kind, tid in (("percent", idb), ("two_proportion_p", idp))
                     if differs.get(kind)]
    # corroborated (two numbers or more): undisclosed missing data; a single number that
    # n - 1 explains is, for all the paper shows, a slip of its own kind
    for kind, tid in evidence:
        P.plant("missing_data" if len(evidence) >= 2 else kind, tid)
    for j in range(2):                      # three-level rows
        for arm, n in (("A", nA), ("B", nB)):
            cuts = np.sort(rng.choice(np.arange(1, n), 2, replace=False))
            counts = [int(cuts[0]), int(cuts[1] - cuts[0]), int(n - cuts[1])]
            shown = [pct(c, n, truncate=trunc and arm == "B") for c in counts]
            if conv["forced"] and not (trunc and arm == "B"):
                gap = Decimal("100.0") - sum(Decimal(s) for s in shown)
                if gap:
                    k = int(np.argmax([abs(100 * c / n - float(s)) for c, s in zip(counts, shown)]))
                    shown[k] = str(Decimal(shown[k]) + gap)
            src = f"Level row {j} {arm}: " + ", ".join(
                f"{c} ({s}%)" for c, s in zip(counts, shown))
            for lvl, (c, s) in enumerate(zip(counts, shown)):
                P.add(f"bl_w{j}_l{lvl}_{arm.lower()}", analysis="crude", quantity="proportion",
                      arm=arm, term=f"w{j}", level=f"L{lvl}", partition=f"w{j}", count=c,
                      percent=float(s), where="table 1", source=src)


def _matched(P: Paper, rng, slips: set) -> None:
    n = 80
    for arm in ("A", "B"):
        P.add(f"n_{arm.lower()}_matched", analysis="matched", quantity="group_size", arm=arm,
              value=n, where="table 2", source=f"Matched {arm} (n = {n})")
    for i in range(5):
        ca = int(rng.integers(15, 65))
        cb = ca + int(rng.integers(-2, 3))
        if i == 1 and "balance_claim" in slips:
            cb = ca + 14 if ca < 50 else ca - 14
        smd = _smd(ca / n, cb / n)
        shown = _dec(smd, 3)
        if i == 2 and "smd" in slips:
            shown = _dec(smd + 0.07 if smd < 0.02 else smd + 0.05, 3)
        src = f"Matched variable {i} {ca} ({pct(ca, n)}%) {cb} ({pct(cb, n)}%) {shown}"
        P.add(f"bl_m{i}_a", analysis="matched", quantity="proportion", arm="A",
                    term=f"m{i}", count=ca, percent=float(pct(ca, n)), where="table 2",
                    source=src)
        P.add(f"bl_m{i}_b", analysis="matched", quantity="proportion", arm="B", term=f"m{i}",
              count=cb, percent=float(pct(cb, n)), where="table 2", source=src)
        sid = P.add(f"bl_m{i}_smd", analysis="matched", quantity="smd", term=f"m{i}",
                    value=float(shown), where="table 2", source=src)
        if i == 1 and "balance_claim" in slips:
            P.plant("balance_claim", "claim balance")
        if i == 2 and "smd" in slips:
            P.plant("smd", sid)
    P.claims.append({"id": "balance", "kind": "balance", "where": "text", "analysis": "matched",
                     "threshold": 0.1, "quote": "after matching all SMDs were below 0.1"})


def _odds_ratio(a: tuple[int, int], b: tuple[int, int]):
    """Odds ratio of a vs b with its Wald log-scale SE."""
    x, y = (a[0], a[1] - a[0]), (b[0], b[1] - b[0])
    return (x[0] * y[1]) / (x[1] * y[0]), math.sqrt(1 / x[0] + 1 / x[1] + 1 / y[0] + 1 / y[1])


def _ratio_text(est: float, se: float) -> tuple[str, str, str, float]:
    lo, hi = est * math.exp(-1.959964 * se), est * math.exp(1.959964 * se)
    return _dec(est, 2), _dec(lo, 2), _dec(hi, 2), 2 * norm.sf(abs(math.log(est)) / se)


def _response(P: Paper, rng, nA: int, nB: int, conv: dict, slips: set) -> None:
    rows = {}
    for arm, n in (("A", nA), ("B", nB)):
        probs = rng.dirichlet([1.5, 4, 6, 5])
        counts = rng.multinomial(n, probs)
        counts = np.maximum(counts, [1, 3, 3, 3])
        counts[3] = n - counts[:3].sum()
        rows[arm] = [int(c) for c in counts]
        src = f"Response {arm}: " + ", ".join(f"{lv} {c} ({pct(c, n)}%)"
                                              for lv, c in zip("CR PR SD PD".split(), counts))
        for lv, c in zip("CR PR SD PD".split(), rows[arm]):
            P.add(f"resp_{lv.lower()}_{arm.lower()}", analysis="crude", quantity="rate",
                  endpoint="response", level=lv, partition="response", arm=arm, count=c,
                  percent=float(pct(c, n)), where="table 3", source=src)
        orr, dcr = int(sum(counts[:2])), int(sum(counts[:3]))
        if arm == "A" and "orr_above_dcr" in slips:
            dcr = orr - 2
        src = f"ORR {orr} ({pct(orr, n)}%), DCR {dcr} ({pct(dcr, n)}%) in {arm}"
        P.add(f"orr_{arm.lower()}", analysis="crude", quantity="rate", endpoint="orr", arm=arm,
              count=orr, percent=float(pct(orr, n)), where="table 3", source=src)
        did = P.add(f"dcr_{arm.lower()}", analysis="crude", quantity="rate", endpoint="dcr",
                    arm=arm, count=dcr, percent=float(pct(dcr, n)), where="table 3", source=src)
        if arm == "A" and "orr_above_dcr" in slips:
            P.plant("orr_above_dcr", did)
        rows[arm + "orr"], rows[arm + "dcr"] = orr, dcr
    from tacebench.replications.audit.tables import two_by_k_p_values
    p = two_by_k_p_values(np.array([rows["A"], rows["B"]]))[conv["k_test"]]
    if "two_by_k_p" in slips:
        p = p * 0.3 if p > 0.2 else min(0.95, p + 0.25)
    pkw, ptxt = p_text(p)
    pid = P.add("response_p", analysis="crude", quantity="p_value", endpoint="response",
                where="table 3", source=f"Best response p {ptxt}", **pkw)
    if "two_by_k_p" in slips:
        P.plant("two_by_k_p", pid)
    for ep in ("dcr", "orr"):
        a, b = (rows["A" + ep], nA), (rows["B" + ep], nB)
        if a[0] <= 0 or b[0] <= 0 or a[0] >= nA or b[0] >= nB:
            continue
        est, se = _odds_ratio(a, b)
        v, lo, hi, wald = _ratio_text(est, se)
        own = two_by_two(a, b, conv["test"])
        use = own
        if ep == "orr" and "parallel_test" in slips and p_text(wald)[1] != p_text(own)[1] \
                and abs(wald - own) > 0.01 and "orr_above_dcr" not in slips:
            use = wald
            P.plant("parallel_test", f"{ep}_or")
        pkw, ptxt = p_text(use)
        P.add(f"{ep}_or", analysis="crude", quantity="odds_ratio", endpoint=ep,
              contrast=["A", "B"], value=float(v), ci=[float(lo), float(hi)], where="table 3",
              source=f"{ep.upper()} OR {v} ({lo}-{hi}) {ptxt}", **pkw)


def _adverse(P: Paper, rng, nA: int, slips: set) -> None:
    names = ["fever", "pain", "nausea", "rash"]
    counts = [int(rng.integers(3, nA // 2)) for _ in names]
    anyc = min(nA, max(counts) + int(rng.integers(0, 10)))
    planted = "any_ae_below_ae" in slips
    if planted:
        anyc = max(counts) - 3
    aid = P.add("ae_any_a", analysis="crude", quantity="rate", endpoint="ae_any", arm="A",
                count=anyc, percent=float(pct(anyc, nA)), where="table 4",
                source=f"Any adverse event {anyc} ({pct(anyc, nA)}%)")
    if planted:
        P.plant("any_ae_below_ae", aid)
    for name, c in zip(names, counts):
        g = int(rng.integers(0, c + 1))
        P.add(f"ae_{name}_a", analysis="crude", quantity="rate", endpoint=f"ae_{name}", arm="A",
              count=c, percent=float(pct(c, nA)), where="table 4",
              source=f"{name} {c} ({pct(c, nA)}%) {g} ({pct(g, nA)}%)")
        P.add(f"ae_{name}_g34_a", analysis="crude", quantity="rate",
              endpoint=f"ae_{name}_grade3_4", arm="A", count=g, percent=float(pct(g, nA)),
              where="table 4", source=f"{name} {c} ({pct(c, nA)}%) {g} ({pct(g, nA)}%)")


def _cox(P: Paper, rng, slips: set) -> None:
    not_significant = []
    for i in range(7):
        b = rng.normal(0, 0.35)
        se = rng.uniform(0.12, 0.3)
        est = math.exp(b)
        v, lo, hi, p = _ratio_text(est, se)
        if float(lo) <= 0 or float(lo) == float(hi):
            continue
        kind = None
        if i == 0 and "ci_excludes" in slips:
            v, kind = _dec(float(hi) * 1.4 + 0.1, 2), "ci_excludes"
        if i == 1 and "ci_off_centre" in slips:
            v, kind = _dec(est * math.exp(0.3 * 2 * 1.96 * se), 2), "ci_off_centre"
            p = 2 * norm.sf(abs(math.log(float(v))) / se)
        if i == 2 and "hr_p" in slips:
            p2 = 2 * norm.sf(abs(b) / (se * 2.5)) if abs(b) / se > 1.5 else \
                2 * norm.sf(abs(b) / se + 2.2)
            if p_text(p2)[1] != p_text(p)[1] and abs(p2 - p) > 0.03:
                p, kind = p2, "hr_p"
        pkw, ptxt = p_text(p)
        src = f"Covariate {i} yes vs no {v} ({lo}-{hi}) {ptxt}"
        tid = P.add(f"os_hr_c{i}", analysis="multivariable", quantity="hr", endpoint="os",
                    term=f"c{i}", contrast=["yes", "no"], value=float(v),
                    ci=[float(lo), float(hi)], where="table 5", source=src, **pkw)
        if kind:
            P.plant(kind, tid)
        if i == 3:
            copy = _dec(float(v) + 0.3, 2) if "copy_differs" in slips else v
            cid = P.add(f"os_hr_c{i}_text", analysis="multivariable", quantity="hr",
                        endpoint="os", term=f"c{i}", contrast=["yes", "no"],
                        value=float(copy), ci=[float(lo), float(hi)], where="text",
                        source=f"covariate {i} (HR {copy}, 95% CI {lo}-{hi}; p = {ptxt})",
                        same_as=tid, **pkw)
            if "copy_differs" in slips:
                P.plant("copy_differs", cid)
        if kind is None and i >= 3 and p >= 0.06:
            not_significant.append(f"c{i}")
        if kind is None and i >= 3 and p < 0.01 and "significance_claim" in slips \
                and not any(k == "significance_claim" for k, _ in P.slips):
            not_significant.append(f"c{i}")
            P.plant("significance_claim", "claim footnote")
    if not_significant:
        P.claims.append({"id": "footnote", "kind": "significance", "where": "table 5",
                         "analysis": "multivariable", "terms": not_significant,
                         "significant": False,
                         "quote": "No significant effect for " + ", ".join(not_significant)})


def build_paper(seed: int, *, clean: bool = False) -> Paper:
    """One constructed paper: conventions and slips drawn from ``seed``.

    Parameters
    ----------
    seed : int
        Seeds a ``numpy.random.Generator``: the same seed gives the same paper.
    clean : bool
        Plant no slip (the paper's conventions still vary).

    Returns
    -------
    Paper
    """
    rng = np.random.default_rng(seed)
    conv = {"test": TESTS[seed % 3], "truncate": bool(rng.random() < 0.3),
            "forced": bool(rng.random() < 0.4), "missing": bool(rng.random() < 0.3)}
    # the kinds of .levels are drawn from their own generator: the rest of the paper
    # (and the rng stream below) is the same as before they were added
    slips = set() if clean else {k for k in SLIP_RULES if k != "missing_data"
                                 and k not in LEVEL_SLIP_RULES and rng.random() < 0.5}
    conv["k_test"], level_slips = level_conventions(seed, clean)
    P = Paper(f"corpus_{seed}")
    P.conventions = conv
    nA, nB = int(rng.integers(80, 240)), int(rng.integers(80, 240))
    _baseline(P, rng, nA, nB, conv, slips)
    _matched(P, rng, slips)
    _response(P, rng, nA, nB, conv, slips)
    level_p_values(P, seed, conv, level_slips, "two_by_k_p" in slips)
    _adverse(P, rng, nA, slips)
    _cox(P, rng, slips)
    direction_claims(P, seed, level_slips)
    _survival(P, rng, slips)
    _claims(P, rng, slips)
    return P
