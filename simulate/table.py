"""Table 1 of a generated cohort in the papers' format, and generated vs published.

``baseline_table(cohort, spec)`` summarises each covariate per arm and for the whole cohort
(the papers' "All patients" column, arm ``"all"``) the way the paper reports it:
``mean (SD)``, ``median [Q1, Q3]`` / ``median (min, max)``, ``n (%)`` per level or per bin
of a category split. ``compare_table(spec, n_cohorts, seed)``
generates ``n_cohorts`` cohorts and gives, per published entry (each arm's, and the whole
cohort's under arm ``"all"``: a multiselect's ``n_selected``, a variable's ``overall``), the published value,
the median and central 95% (2.5%, 97.5%) of the simulated statistic, and whether the
published value lies inside it. Proportions are compared as proportions (count / n).
Missing values (a missingness model) are excluded from each statistic.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .cohort import Cohort, SimulationPlan, compile_plan, generate_cohort
from .study import CohortSpec

_STATS = ("mean", "sd", "median", "q1", "q3", "min", "max")
#: the arm column of rows published for the whole cohort (a multiselect's n_selected)
ALL_ARMS = "all"


def _published_rows(c: CohortSpec) -> list[tuple]:
    """(variable, level, statistic, arm, published value, kind) for every Table-1 entry:
    per arm, then the whole cohort's (arm :data:`ALL_ARMS`: a multiselect's n_selected,
    a variable's ``overall`` summary, e.g. a pooled median (IQR) of age)."""
    rows = []
    arm_n = {a.label: a.n for a in c.arms}
    for v in c.all_variables:
        if v.type == "multiselect":  # options are binary rows; the number selected is pooled
            if v.n_selected is not None:
                for k, p in enumerate(v.n_selected.level_probs()):
                    rows.append((v.name, f"{k} selected", "proportion", ALL_ARMS, float(p), ("nsel", k)))
            continue
        for lab in c.arm_labels:
            s = v.arms[lab]
            if v.type in ("binary", "categorical") or v.is_split:
                probs = v.arm_probs(lab, arm_n[lab])
                for k, name in _levels(v, len(probs)):
                    rows.append((v.name, name, "proportion", lab, float(probs[k]), ("level", k)))
            if v.type not in ("binary", "categorical") and (not v.is_split or v.printed_moments):
                rows.extend(_stat_rows(v.name, lab, s))
        if v.overall is not None:
            rows.extend(_overall_rows(v, sum(arm_n.values())))
    return rows


def _levels(v, n_levels: int) -> list[tuple[int, str]]:
    """(code, label) of the levels a variable's proportions are published for."""
    if v.type == "binary":
        return [(1, "yes")]
    if v.type == "categorical":
        return list(enumerate(v.levels))
    edges = (None,) + v.cutpoints + (None,)
    return [(k, _bin_label(edges[k], edges[k + 1])) for k in range(n_levels)]


def _stat_rows(name: str, lab: str, s) -> list[tuple]:
    return [(name, "", st, lab, float(getattr(s, st)), ("stat", st)) for st in _STATS
            if getattr(s, st) is not None]


def _overall_rows(v, n: int) -> list[tuple]:
    """The rows of a variable's ``overall`` summary (the whole cohort's)."""
    s = v.overall
    probs = s.level_probs()
    if probs is None and v.type == "binary" and (s.p is not None or s.count is not None):
        probs = (0.0, s.p if s.p is not None else s.count / n)
    rows = [] if probs is None or not (v.type in ("binary", "categorical") or v.is_split) else [
        (v.name, name, "proportion", ALL_ARMS, float(probs[k]), ("level", k)) for k, name in _levels(v, len(probs))]
    return rows + _stat_rows(v.name, ALL_ARMS, s)


def _bin_label(lo, hi) -> str:
    if lo is None:
        return f"< {hi:g}"
    if hi is None:
        return f">= {lo:g}"
    return f"[{lo:g}, {hi:g})"


def _statistic(x: np.ndarray, kind: tuple, cuts: tuple = ()) -> float:
    x = x[~np.isnan(x)]
    if not len(x):
        return np.nan
    if kind[0] == "level":
        if cuts:
            codes = np.searchsorted(np.asarray(cuts), x, side="right")
            return float(np.mean(codes == kind[1]))
        return float(np.mean(x == kind[1]))
    st = kind[1]
    if st == "mean":
        return float(x.mean())
    if st == "sd":
        return float(x.std(ddof=1)) if len(x) > 1 else np.nan
    if st == "min":
        return float(x.min())
    if st == "max":
        return float(x.max())
    return float(np.quantile(x, {"median": 0.5, "q1": 0.25, "q3": 0.75}[st]))


@dataclass(frozen=True)
class BaselineTable:
    """Table 1 of one cohort: long rows (variable, level, statistic, arm, value, text), per
    arm and for the whole cohort (arm :data:`ALL_ARMS`, the papers' "All patients" column)."""

    rows: tuple[tuple, ...]
    arm_labels: tuple[str, ...]
    arm_n: tuple[int, ...]

    def to_frame(self, wide: bool = True):
        """Long rows, or (``wide``) one column per arm and the whole cohort's last."""
        import pandas as pd
        df = pd.DataFrame(list(self.rows), columns=["variable", "level", "statistic", "arm", "value", "text"])
        if not wide:
            return df
        out = df.pivot_table(index=["variable", "level", "statistic"], columns="arm", values="text",
                             aggfunc="first", sort=False)
        return out[[*self.arm_labels, ALL_ARMS]].reset_index()


def _in_arm(x: np.ndarray, arm: np.ndarray, labels, lab: str) -> np.ndarray:
    """The values of arm ``lab`` (all of them for :data:`ALL_ARMS`)."""
    return x if lab == ALL_ARMS else x[arm == list(labels).index(lab)]


def baseline_table(cohort: Cohort, spec: "SimulationPlan | CohortSpec | str | None" = None) -> BaselineTable:
    """The cohort's Table 1, shaped like the paper's when ``spec`` is given: each arm, then
    the whole cohort (arm :data:`ALL_ARMS`) with the same summaries over every row (a
    summary the arms print as median [Q1, Q3] is printed so for the whole cohort too)."""
    c = _cohort_spec(spec, cohort)
    arm = cohort.columns["arm"]
    labels = tuple(cohort.arm_labels)
    rows = []
    ns = tuple(int(np.sum(arm == a)) for a in range(len(labels)))
    for v in c.all_variables:
        if v.type == "multiselect":
            k = _n_selected(cohort.columns, v)
            for lab in (*labels, ALL_ARMS):
                ka = _in_arm(k, arm, labels, lab)
                for j in range(len(v.options) + 1):
                    p = float(np.mean(ka == j)) if len(ka) else np.nan
                    rows.append((v.name, f"{j} selected", "n (%)", lab, p, f"{int(np.sum(ka == j))} ({100 * p:.1f})"))
            continue
        x = cohort.columns[v.name]
        for lab in (*labels, ALL_ARMS):
            # the whole cohort's column prints the first arm's summary, so it shares its rows
            s = v.arms.get(labels[0] if lab == ALL_ARMS else lab)
            rows.extend(_variable_rows(v, s, lab, _in_arm(x, arm, labels, lab)))
    return BaselineTable(tuple(rows), cohort.arm_labels, ns)


def _variable_rows(v, s, lab: str, xa: np.ndarray) -> list[tuple]:
    """A variable's Table-1 rows in one column (``xa``: its values there; ``s``: the
    summary the paper prints for that column, which decides its format)."""
    rows = []
    if v.type in ("binary", "categorical") or v.is_split:
        nlev = 2 if v.type == "binary" else (len(v.levels) if v.type == "categorical" else v.n_bins)
        names = ["yes"] if v.type == "binary" else (list(v.levels) if v.type == "categorical" else
                                                   [_bin_label(e0, e1) for e0, e1 in
                                                    zip((None,) + v.cutpoints, v.cutpoints + (None,))])
        ks = [1] if v.type == "binary" else list(range(nlev))
        for k, name in zip(ks, names):
            p = _statistic(xa, ("level", k), v.cutpoints if v.is_split else ())
            cnt = int(round(p * np.sum(~np.isnan(xa)))) if np.isfinite(p) else 0
            rows.append((v.name, name, "n (%)", lab, p, f"{cnt} ({100 * p:.1f})"))
    if v.type not in ("binary", "categorical") and (not v.is_split or v.printed_moments):
        if s is not None and s.mean is None and s.median is not None:
            m = _statistic(xa, ("stat", "median"))
            if s.q1 is not None:
                lo, hi = _statistic(xa, ("stat", "q1")), _statistic(xa, ("stat", "q3"))
                rows.append((v.name, "", "median [Q1, Q3]", lab, m, f"{m:.3g} [{lo:.3g}, {hi:.3g}]"))
            else:
                lo, hi = _statistic(xa, ("stat", "min")), _statistic(xa, ("stat", "max"))
                rows.append((v.name, "", "median (min, max)", lab, m, f"{m:.3g} ({lo:.3g}, {hi:.3g})"))
        else:
            m, sd = _statistic(xa, ("stat", "mean")), _statistic(xa, ("stat", "sd"))
            rows.append((v.name, "", "mean (SD)", lab, m, f"{m:.4g} ({sd:.4g})"))
    return rows


def _n_selected(columns: dict, v) -> np.ndarray:
    """Number of a multiselect's options each patient has (NaN where one is missing)."""
    return np.sum([columns[o] for o in v.options], axis=0)


def _cohort_spec(spec, cohort: Cohort) -> CohortSpec:
    if isinstance(spec, CohortSpec):
        return spec
    if spec is None:
        if not cohort.study_id:
            raise ValueError("spec: needed to shape the table (the cohort carries no study id)")
        spec = cohort.study_id
    return compile_plan(spec, cohort.cohort_name or None).spec


@dataclass(frozen=True)
class TableComparison:
    """Published vs simulated Table-1 entries over ``n_cohorts`` generated cohorts."""

    rows: tuple[tuple, ...]   # variable, level, statistic, arm, published, median, lo, hi, inside
    n_cohorts: int
    arm_sizes_exact: bool

    @property
    def coverage(self) -> float:
        return float(np.mean([r[-1] for r in self.rows])) if self.rows else 1.0

    @property
    def outside(self) -> tuple[tuple, ...]:
        return tuple(r for r in self.rows if not r[-1])

    def to_frame(self):
        import pandas as pd
        return pd.DataFrame(list(self.rows), columns=["variable", "level", "statistic", "arm", "published",
                                                      "simulated_median", "simulated_2.5%", "simulated_97.5%",
                                                      "inside_95"])


def compare_table(spec, n_cohorts: int = 200, seed: int = 0, cohort: str | None = None) -> TableComparison:
    """Generated vs published Table 1 (central 95% of ``n_cohorts`` simulated summaries)."""
    if isinstance(n_cohorts, bool) or not isinstance(n_cohorts, (int, np.integer)) or n_cohorts < 2:
        raise ValueError(f"n_cohorts: must be an integer >= 2, got {n_cohorts!r}")
    plan = compile_plan(spec, cohort)
    c = plan.spec
    pub = _published_rows(c)
    labels = plan.arm_labels
    cuts = {v.name: v.cutpoints if v.is_split else () for v in c.variables}
    sims = np.empty((n_cohorts, len(pub)))
    sizes_ok = True
    expected = np.array([a.n for a in c.arms])
    for i, ss in enumerate(np.random.SeedSequence(seed).spawn(n_cohorts)):
        ch = generate_cohort(plan, seed=ss, with_ps=False)
        arm = ch.columns["arm"]
        sizes_ok &= bool(np.array_equal(np.bincount(arm, minlength=len(labels)), expected))
        for j, (var, _lev, _st, lab, _val, kind) in enumerate(pub):
            if kind[0] == "nsel":
                sims[i, j] = _statistic(_n_selected(ch.columns, c.variable(var)), ("level", kind[1]))
            else:
                x = ch.columns[var]
                sims[i, j] = _statistic(_in_arm(x, arm, labels, lab), kind, cuts[var])
    rows = []
    for j, (var, lev, st, lab, val, _kind) in enumerate(pub):
        col = sims[:, j][~np.isnan(sims[:, j])]
        lo, med, hi = np.quantile(col, [0.025, 0.5, 0.975]) if len(col) else (np.nan,) * 3
        rows.append((var, lev, st, lab, val, float(med), float(lo), float(hi), bool(lo <= val <= hi)))
    return TableComparison(tuple(rows), int(n_cohorts), sizes_ok)
