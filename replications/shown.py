"""Shown estimates: what another analysis of a study's data would have said, not judged.

An analysis's ``show`` entries (:mod:`.analysis.show`) run on every replicate after the
targets, each analysis with its own random stream (so adding one changes no target's
draw), and the report shows each one's simulated median and central 95% interval in a
section of its own, apart from the verdicts: there is no paper number to judge it by.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .formatting import fmt_estimate
from .verdicts import MIN_ESTIMABLE

__all__ = ["ShownResult", "plan_shown", "prepare_shown", "fill_shown", "summarise_shown",
           "shown_lines", "shown_rows", "HEAD", "HEADING"]

HEADING = "Shown, not judged (what these analyses of the simulated data say; no paper number):"


@dataclass(frozen=True)
class ShownResult:
    """One shown estimate over the replicates: median and central 95% of its finite draws
    (NaN, with ``reason``, when fewer than ``MIN_ESTIMABLE`` of the replicates have one)."""

    id: str
    analysis: str
    label: str
    quantity: str
    median: float
    lo: float
    hi: float
    n_estimable: int
    n_reps: int
    reason: str = ""

    def to_dict(self) -> dict:
        return {k: (v if not isinstance(v, float) or math.isfinite(v) else None)
                for k, v in asdict(self).items()}


def plan_shown(compiled, first_slot: int) -> list[tuple]:
    """One run per analysis with shown estimates: ``(analysis, slots, estimates,
    requests)``, the slots numbered from ``first_slot`` (after every judged column)."""
    out, n = [], first_slot
    for ca in compiled.values():
        if ca.shown:
            slots = list(range(n, n + len(ca.shown)))
            n += len(ca.shown)
            out.append((ca, slots, tuple(s for s, _ in ca.shown),
                        [req for _, req in ca.shown]))
    return out


def prepare_shown(shown, cohorts, caches, seed: np.random.SeedSequence) -> list:
    """The analysed samples of the shown runs on one replicate
    (:meth:`~.analysis.compile.CompiledAnalysis.prepare`). Run ``s`` draws from
    ``seed``'s stream ``(0, s)``, which no other run of the replicate uses."""
    out = []
    for s, (ca, _, _, reqs) in enumerate(shown):
        rng = np.random.default_rng(np.random.SeedSequence(
            seed.entropy, spawn_key=seed.spawn_key + (0, s)))
        out.append(ca.prepare(cohorts[ca.analysis.cohort], rng, requests=reqs,
                              cache=caches[ca.analysis.cohort]))
    return out


def fill_shown(shown, prepared, row: np.ndarray, count) -> None:
    """Fill ``row`` (one replicate's draws) with the shown estimates of the samples
    ``prepared`` (:func:`prepare_shown`); ``count(est id, reason)`` for each that has no
    value."""
    for (ca, slots, estimates, _), p in zip(shown, prepared):
        vals, fails, _ = ca.evaluate(p, diagnose=False)
        row[slots] = vals
        for f in fails:
            for e in (estimates if f.index is None else (estimates[f.index],)):
                count(e.id, f.reason)


def summarise_shown(shown, draws: np.ndarray, failures: dict) -> tuple[ShownResult, ...]:
    """The shown estimates' results from the draws; ``failures`` maps (id, reason) to
    replicates."""
    out = []
    R = draws.shape[0]
    for ca, slots, estimates, _ in shown:
        for slot, e in zip(slots, estimates):
            x = draws[:, slot]
            ok = x[np.isfinite(x)]
            why = "; ".join(f"{reason} ({k})" for (i, reason), k in failures.items()
                            if i == e.id)
            if ok.size < MIN_ESTIMABLE * R or not ok.size:
                out.append(ShownResult(e.id, e.analysis, e.label, e.fields["quantity"],
                                       math.nan, math.nan, math.nan, int(ok.size), R,
                                       f"estimable {ok.size}/{R}" + (f": {why}" if why else "")))
                continue
            lo, med, hi = np.quantile(ok, [0.025, 0.5, 0.975])
            out.append(ShownResult(e.id, e.analysis, e.label, e.fields["quantity"],
                                   float(med), float(lo), float(hi), int(ok.size), R,
                                   f"estimable {ok.size}/{R}: {why}" if why else ""))
    return tuple(out)


def shown_rows(shown) -> list[list[str]]:
    """Table rows of shown estimates, from :class:`ShownResult` objects or their JSON form."""
    def get(x, k):
        return x.get(k) if isinstance(x, dict) else getattr(x, k)

    rows = []
    for x in shown:
        q, med = get(x, "quantity"), get(x, "median")
        value, lo, hi = fmt_estimate(med, get(x, "lo"), get(x, "hi"), q)  # one precision
        if med is None or not math.isfinite(med):
            value = "-"
        interval = "-" if value == "-" else f"[{lo}, {hi}]"
        rows.append([get(x, "analysis"), get(x, "label"), value, interval,
                     get(x, "reason") or ""])
    return rows


HEAD = ["analysis", "estimate", "simulated median", "95% of replicates", "note"]


def shown_lines(result, table) -> list[str]:
    """The report's section of shown estimates (``table`` renders head and rows as the
    report's other tables); nothing when the study shows none."""
    if not result.shown:
        return []
    return ["", HEADING, "", table(HEAD, shown_rows(result.shown))]
