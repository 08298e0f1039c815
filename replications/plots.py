"""``tacebench replicate --plot``: simulated Kaplan-Meier curves with the reported numbers.

For each analysis with median or x-month targets, the curves of the first replicates (the
same cohorts as the run, analysed the same way: weighted, matched, landmark) are drawn
thinly per arm, with the reported medians (at S = 0.5) and rates marked, so a reader sees
where the published numbers sit among the simulated studies.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .analysis.adjustments import run_adjustment
from .analysis.estimates import Context
from .reproduce import prepare, replicate_seed

__all__ = ["plot_study", "km_curves"]

_COLORS = ("#1f77b4", "#d62728")


def km_curves(study, result, n_curves: int = 20, generator=None):
    """{(analysis, endpoint): {arm label: [(times, survival), ...]}} for the first
    ``n_curves`` replicates of ``result`` (same seeds, same cohorts)."""
    generate, plan = prepare(study, result.seed, 0, generator)
    wanted = {}
    for ca, _ in plan.runs:
        eps = {r.endpoint for r in ca.requests if r.estimate in ("km_median", "km_rate")}
        if eps:
            wanted[ca.analysis.name] = (ca, sorted(eps))
    out: dict = {}
    for r in range(min(n_curves, result.reps)):
        children = replicate_seed(result.seed, study.id, r).spawn(len(plan.cohorts) + 1)
        cohorts = {c: generate(c, children[j])[0] for j, c in enumerate(plan.cohorts)}
        rng = np.random.default_rng(children[-1])
        cache: dict = {c: {} for c in plan.cohorts}
        for name, (ca, eps) in wanted.items():
            cols = cohorts[ca.analysis.cohort]
            try:
                subset = ca.population(cols)
                adj = run_adjustment(ca.adjustment, cols, subset, rng,
                                     cache[ca.analysis.cohort])
            except (ArithmeticError, ValueError, np.linalg.LinAlgError):
                continue
            ctx = Context(cols, adj, subset, ca.adjustment, ca.responders)
            for ep in eps:
                for code, label in enumerate(ca.schema.arms):
                    try:
                        km = ctx.km(ep, code)
                    except (ArithmeticError, ValueError):
                        continue
                    out.setdefault((name, ep), {}).setdefault(label, []).append(
                        (km.times, km.surv))
    return out


def plot_study(study, result, out_dir, n_curves: int = 20, generator=None) -> list[Path]:
    """Write one PNG per (analysis, endpoint) into ``out_dir/plots``; returns the paths."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder = Path(out_dir) / "plots"
    folder.mkdir(parents=True, exist_ok=True)
    targets = {t.id: t for t in study.targets.targets}
    paths = []
    for (analysis, ep), arms in km_curves(study, result, n_curves, generator).items():
        fig, ax = plt.subplots(figsize=(6.5, 4.2))
        for (label, curves), color in zip(arms.items(), _COLORS):
            for k, (t, s) in enumerate(curves):
                ax.step(np.r_[0, t], np.r_[1, s], where="post", color=color, alpha=0.25,
                        lw=0.8, label=f"{label} (simulated)" if k == 0 else None)
            for res in result.targets:
                tg = targets.get(res.id)
                if tg is None or tg.analysis != analysis or tg.endpoint != ep or \
                        tg.arm != label or res.reported is None:
                    continue
                if res.quantity == "km_median":
                    ax.plot([res.reported], [0.5], "o", color=color, mec="k", ms=7)
                elif res.quantity == "km_rate":
                    ax.plot([tg.time], [res.reported], "s", color=color, mec="k", ms=6)
        ax.axhline(0.5, color="grey", lw=0.5, ls=":")
        ax.set(xlabel="months", ylabel=f"{ep.upper()} survival", ylim=(0, 1.02),
               title=f"{study.id}: {analysis} ({len(next(iter(arms.values())))} replicates;"
                     " markers = reported)")
        ax.legend(fontsize=8, frameon=False)
        fig.tight_layout()
        path = folder / f"{study.id}_{analysis}_{ep}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths
