"""Facts the audit reads from ``cohort.toml`` (data, never code): arm sizes and counts."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

from .findings import Finding
from .registry import AuditContext, rule

__all__ = ["cohort_facts", "cohort_counts_fit_arm_sizes"]


def cohort_facts(path: str | Path) -> tuple[dict[str, float], tuple]:
    """``(arm_sizes, counts)`` from a ``cohort.toml`` (a file or a study folder).

    ``arm_sizes`` maps each arm label to its ``n`` (labels whose size differs between
    cohorts are left out: they cannot serve as a denominator unambiguously). ``counts`` is
    a tuple of ``(location, arm, counts, n, exhaustive)``: per-arm ``counts`` of a
    categorical variable or split (exhaustive: they partition the arm), a binary ``count``
    or response ``counts`` (at most the arm size).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "cohort.toml"
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    sizes: dict[str, set] = {}
    facts = []
    for cname, cohort in (data.get("cohorts") or {}).items():
        if not isinstance(cohort, Mapping):
            continue
        arms = {a.get("label"): a.get("n") for a in cohort.get("arms") or []
                if isinstance(a, Mapping)}
        for label, n in arms.items():
            sizes.setdefault(label, set()).add(n)
        for i, var in enumerate(cohort.get("variables") or []):
            where = f"cohorts.{cname}.variables[{i}] ({var.get('name')})"
            facts.extend(_arm_counts(where, var.get("arms"), arms, exhaustive=True))
        resp = cohort.get("response")
        if isinstance(resp, Mapping):
            facts.extend(_arm_counts(f"cohorts.{cname}.response", resp.get("arms"), arms,
                                     exhaustive=False))
    arm_sizes = {k: float(next(iter(v))) for k, v in sizes.items()
                 if len(v) == 1 and isinstance(next(iter(v)), (int, float))}
    return arm_sizes, tuple(facts)


def _arm_counts(where: str, by_arm: Any, arms: Mapping, *, exhaustive: bool) -> list:
    out = []
    if not isinstance(by_arm, Mapping):
        return out
    for arm, spec in by_arm.items():
        n = arms.get(arm)
        if not isinstance(spec, Mapping) or not isinstance(n, (int, float)):
            continue
        if isinstance(spec.get("counts"), list):
            out.append((where, arm, tuple(spec["counts"]), n, exhaustive))
        elif isinstance(spec.get("count"), (int, float)):
            out.append((where, arm, (spec["count"],), n, False))
    return out


@rule("cohort_counts_fit_arm_sizes", "proportions")
def cohort_counts_fit_arm_sizes(ctx: AuditContext):
    """Per-arm counts transcribed into ``cohort.toml`` must fit the arm sizes.

    The levels of a categorical variable or split partition the arm, so their counts add
    up to the arm's ``n`` exactly; a binary count or the response counts (assessments may
    be missing) cannot exceed it. These are head counts: no tolerance.
    """
    for where, arm, counts, n, exhaustive in ctx.cohort_counts:
        total = sum(counts)
        if (exhaustive and total != n) or total > n:
            shown = " + ".join(f"{c:g}" for c in counts)
            yield Finding("cohort_counts_fit_arm_sizes", "error",
                          (f"cohort.toml {where}",),
                          f"{where}, arm {arm}: counts {shown} = {total:g}, arm size {n:g}",
                          abs(total - n), "counts", f"{total:g}",
                          f"{n:g}" if exhaustive else f"<= {n:g}")
