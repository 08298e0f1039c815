"""Facts the audit reads from ``cohort.toml`` and ``analysis.toml`` (data, never code): arm
sizes, the per-arm counts of Table 1, and which analyses are whole arms of the cohort."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Mapping

from tacebench.simulate.spec_base import SpecError
from tacebench.simulate.table1 import read_cohort_toml

from ..analysis.problems import raw_items, raw_table

from .findings import Finding
from .registry import AuditContext, rule

__all__ = ["cohort_facts", "analysis_arm_sizes", "cohort_counts_fit_arm_sizes", "read_cohort"]


def read_cohort(path: str | Path) -> dict:
    """The ``cohort.toml`` of a study folder (or that file) parsed as the audit reads it,
    for :func:`cohort_facts` and :func:`analysis_arm_sizes` to share one parse."""
    path = Path(path)
    return _cohort_toml(path / "cohort.toml" if path.is_dir() else path)


def _cohort_toml(path: Path) -> dict:
    """A parsed ``cohort.toml`` with its Table 1 file's variables; as written when the
    table cannot be read (``tacebench check`` reports why; the audit goes on)."""
    try:
        return read_cohort_toml(path)
    except SpecError:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))


def cohort_facts(path: str | Path, data: Mapping | None = None
                 ) -> tuple[dict[str, float], tuple]:
    """``(arm_sizes, counts)`` from a ``cohort.toml`` (a file or a study folder), or from
    ``data``, that file already parsed (:func:`read_cohort`).

    ``arm_sizes`` maps each arm label to its ``n`` (labels whose size differs between
    cohorts are left out). These are the sizes of the whole cohort: a denominator only for
    the analyses :func:`analysis_arm_sizes` finds to be whole arms of it. ``counts`` is
    a tuple of ``(location, arm, counts, n, exhaustive)``: per-arm ``counts`` of a
    categorical variable or split (exhaustive: they partition the arm), a binary ``count``
    or response ``counts`` (at most the arm size).
    """
    data = read_cohort(path) if data is None else data
    sizes: dict[str, set] = {}
    facts = []
    # (a key of another type is the cohort check's error; the audit reads what is there)
    for cname, cohort in raw_table(data.get("cohorts")).items():
        if not isinstance(cohort, Mapping):
            continue
        arms = {a["label"]: a.get("n") for a in raw_items(cohort.get("arms"))
                if isinstance(a, Mapping) and isinstance(a.get("label"), str)}
        for label, n in arms.items():
            if isinstance(n, (int, float)):
                sizes.setdefault(label, set()).add(n)
        for i, var in enumerate(raw_items(cohort.get("variables"))):
            if not isinstance(var, Mapping):
                continue
            where = f"cohorts.{cname}.variables[{i}] ({var.get('name')})"
            facts.extend(_arm_counts(where, var.get("arms"), arms, exhaustive=True))
        resp = cohort.get("response")
        if isinstance(resp, Mapping):
            facts.extend(_arm_counts(f"cohorts.{cname}.response", resp.get("arms"), arms,
                                     exhaustive=False))
    arm_sizes = {k: float(next(iter(v))) for k, v in sizes.items() if len(v) == 1}
    return arm_sizes, tuple(facts)


#: Population filters that keep every patient of the arms they keep.
_WHOLE_ARM_FILTERS = ("all", "arm")


def analysis_arm_sizes(path: str | Path, cohort: Mapping | None = None
                       ) -> dict[str, dict[str, float | None]]:
    """The arms of every analysis of ``analysis.toml``, with ``cohort.toml``'s size of each
    arm where that size is the analysis's head count: ``{analysis: {arm: n or None}}``.

    An analysis has the arms of its cohort (``cohort = "main"`` by default) that its
    ``arm`` population filters keep. The cohort's ``n`` of an arm is the analysis's group
    size only when the population is whole arms (filters ``"all"`` and ``arm`` only) and
    the adjustment is ``none``; otherwise the arm's size is None:

    - ``response_assessed``, ``landmark`` and ``where`` populations are subsets of the arm
      (an imaging cohort, the patients alive at the landmark, a subgroup);
    - ``psm`` and ``exact`` analyse a matched sample; ``iptw`` analyses a weighted
      pseudo-population whose arm sizes are sums of weights (and its head counts those of
      its population, which the paper's own ``group_size`` targets give);
    - ``multivariable`` models are fitted on complete cases, which may be fewer.

    Analyses with problems of their own or a duplicated name, and every analysis of an
    unreadable or missing ``analysis.toml``, are left out: the audit then takes arms from the
    targets and never falls back to ``cohort.toml``. ``path`` is a study folder (or a file
    in it); an analysis whose cohort ``cohort.toml`` lacks is left out too. ``cohort``:
    that ``cohort.toml`` already parsed (:func:`read_cohort`), else it is read here.
    """
    from tacebench.replications.analysis.plan import parse_plan

    folder = Path(path)
    folder = folder if folder.is_dir() else folder.parent
    plan, _ = parse_plan(folder / "analysis.toml")
    cohorts = {}
    try:
        data = _cohort_toml(folder / "cohort.toml") if cohort is None else cohort
        cohorts = raw_table(data.get("cohorts"))
    except (FileNotFoundError, tomllib.TOMLDecodeError):
        pass
    names = [a.name for a in plan.analyses]
    out: dict[str, dict[str, float | None]] = {}
    for a in plan.analyses:
        if not a.valid or names.count(a.name) > 1:
            continue
        arms = [x for x in raw_items(raw_table(cohorts.get(a.cohort)).get("arms"))
                if isinstance(x, Mapping)]
        kept = [x for x in arms if all(s.options["arm"] == x.get("label")
                                       for s in a.population if s.kind == "arm")]
        if not kept:                # no such cohort (or arm): arms then come from targets
            continue
        whole = (a.method == "none" and bool(a.population)
                 and all(s.kind in _WHOLE_ARM_FILTERS for s in a.population))
        out[a.name] = {
            x.get("label"): (float(x["n"]) if whole and isinstance(x.get("n"), (int, float))
                             and not isinstance(x.get("n"), bool) else None)
            for x in kept}
    return out


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
        ctx.checked(f"cohort.toml {where}")
        total = sum(counts)
        if (exhaustive and total != n) or total > n:
            shown = " + ".join(f"{c:g}" for c in counts)
            ctx.failed(f"cohort.toml {where}")
            yield Finding("cohort_counts_fit_arm_sizes", "error",
                          (f"cohort.toml {where}",),
                          f"{where}, arm {arm}: counts {shown} = {total:g}, arm size {n:g}",
                          abs(total - n), "counts", f"{total:g}",
                          f"{n:g}" if exhaustive else f"<= {n:g}")
