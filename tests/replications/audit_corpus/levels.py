"""Parts of a constructed paper added with the 2 x k conventions and direction claims:
p-values of its three-level Table 1 rows by the paper's 2 x k test, and claims on the
direction of effect of a graded covariate and of a Cox covariate.

Drawn from their own generator (``numpy.random.default_rng([seed, 7])``), so that the
rest of each paper - and the measurements of the earlier rules - stay as they were.
"""
from __future__ import annotations

import numpy as np

from tacebench.replications.audit.tables import K_TESTS, two_by_k_p_values
from tacebench.replications.targets.claims import CLINICAL_DIRECTIONS

from .numbers import p_text, pct

#: Kinds of slip planted here -> the rules that find them.
LEVEL_SLIP_RULES = {
    "k_level_p": ("two_by_k_p",),
    "k_level_test": ("two_by_k_p",),
    "direction_declared": ("direction_matches_evidence",),
    "direction_estimate": ("direction_matches_evidence",),
}


def level_conventions(seed: int, clean: bool) -> tuple[str, set]:
    """The paper's 2 x k test and the slips of this module's kinds."""
    rng = np.random.default_rng([seed, 7])
    k_test = K_TESTS[int(rng.integers(len(K_TESTS)))]
    slips = set() if clean else {k for k in LEVEL_SLIP_RULES if rng.random() < 0.5}
    return k_test, slips


def _printed(p: float) -> str:
    return p_text(p)[1]


def _table(P, name: str) -> np.ndarray:
    """Counts of partition ``name`` in ``P``: arms A and B by level."""
    return np.array([[t["count"] for t in P.targets if t.get("partition") == name
                      and t["arm"] == arm] for arm in "AB"])


def _level_rows(P, rng, truncate: bool) -> None:
    """Two Table 1 rows of three or four levels whose arms share their probabilities
    (moderate p-values, where the tests part), one level rare (sparse tables); arm B's
    percentages truncated where the paper truncates that column."""
    nA, nB = (next(t["value"] for t in P.targets if t["id"] == f"n_{a}") for a in "ab")
    for j in range(2):
        k = int(rng.integers(3, 5))
        probs = rng.dirichlet([0.6] + [4.0] * (k - 1))
        for arm, n in (("A", nA), ("B", nB)):
            counts = rng.multinomial(n, probs)
            cut = truncate and arm == "B"
            src = f"Row u{j} {arm}: " + ", ".join(f"{c} ({pct(c, n, cut)}%)" for c in counts)
            for lvl, c in enumerate(counts):
                P.add(f"bl_u{j}_l{lvl}_{arm.lower()}", analysis="crude", quantity="proportion",
                      arm=arm, term=f"u{j}", level=f"L{lvl}", partition=f"u{j}", count=int(c),
                      percent=float(pct(int(c), n, cut)), where="table 1", source=src)


def level_p_values(P, seed: int, conv: dict, slips: set, response_planted: bool) -> None:
    """p-values of the three-level rows ``w0``, ``w1`` and of two new rows ``u0``, ``u1``
    by the paper's test ``conv["k_test"]`` (after the response table is in ``P``).

    ``k_level_p`` prints a wrong p on row ``u0``; ``k_level_test`` prints row ``u1``'s p
    by another test, only where at least two other unplanted 2 x k p-values tell the
    paper's test from that one (so that the paper's convention is still visible).
    """
    rng = np.random.default_rng([seed, 8])
    k_test = conv["k_test"]
    _level_rows(P, rng, conv["truncate"])
    ps = {name: two_by_k_p_values(_table(P, name)) for name in ("w0", "w1", "u0", "u1")}
    resp = two_by_k_p_values(_table(P, "response"))
    switch = next((k for k in K_TESTS if _printed(ps["u1"][k]) != _printed(ps["u1"][k_test])),
                  None)
    evidence = [name for name, x in [*ps.items(), ("response", resp)]
                if name != "u1" and switch and _printed(x[switch]) != _printed(x[k_test])
                and not (name == "response" and response_planted)
                and not (name == "u0" and "k_level_p" in slips)]
    for name, x in ps.items():
        p, kind = x[k_test], None
        if name == "u0" and "k_level_p" in slips:
            p, kind = (p * 0.2 if p > 0.2 else min(0.95, p + rng.uniform(0.2, 0.4))), "k_level_p"
        if name == "u1" and "k_level_test" in slips and len(evidence) >= 2:
            p, kind = x[switch], "k_level_test"
        pkw, ptxt = p_text(p)
        tid = P.add(f"bl_{name}_p", analysis="crude", quantity="p_value", term=name,
                    where="table 1", source=f"Level row {name} p {ptxt}", **pkw)
        if kind:
            P.plant(kind, tid)


def direction_claims(P, seed: int, slips: set) -> None:
    """A claim on a graded covariate's direction, and one on a Cox covariate's HR."""
    rng = np.random.default_rng([seed, 9])
    variable = sorted(CLINICAL_DIRECTIONS)[int(rng.integers(len(CLINICAL_DIRECTIONS)))]
    planted = "direction_declared" in slips
    higher = ("better" if CLINICAL_DIRECTIONS[variable] == "worse" else "worse") if planted \
        else CLINICAL_DIRECTIONS[variable]
    P.claims.append({"id": "dir_declared", "kind": "direction", "where": "discussion",
                     "variable": variable, "higher": higher,
                     "quote": f"patients with a higher {variable} fared {higher}"})
    if planted:
        P.plant("direction_declared", "claim dir_declared")
    taken = {tid for _, tid in P.slips}
    hr = next((t for t in P.targets if t["id"].startswith("os_hr_c") and t["where"] != "text"
               and t["id"] not in taken and t["value"] != 1.0), None)
    if hr is None:
        return
    side = "worse" if hr["value"] > 1 else "better"
    if "direction_estimate" in slips:
        side = "better" if side == "worse" else "worse"
        P.plant("direction_estimate", "claim dir_estimate")
    P.claims.append({"id": "dir_estimate", "kind": "direction", "where": "text",
                     "variable": hr["term"], "higher": side, "estimates": [hr["id"]],
                     "quote": f"{hr['term']} was associated with {side} survival"})
