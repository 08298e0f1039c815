"""Weighted group sizes against the arms they come from (informational)."""
from __future__ import annotations

from collections import defaultdict

from .findings import Finding
from .registry import AuditContext, rule
from .rounding import printed

__all__ = ["weighted_group_sizes"]

#: Ratio band (weighted / unweighted size) read as "about the arm size".
NEAR_ONE = 0.10


@rule("weighted_group_sizes", "weights")
def weighted_group_sizes(ctx: AuditContext):
    """What the weighted group sizes say about the weights (always ``info``).

    The sum of stabilized ATE weights ``P(Z=z) / P(Z=z | X)`` over arm ``z`` has
    expectation ``n_z`` (Robins, Hernan & Brumback 2000; Xu et al. 2010), so stabilized or
    normalised weights give weighted sizes near the arm sizes; unstabilized ATE weights
    ``1 / P(Z=z | X)`` have expectation ``N`` in each arm. The sum is random and truncation
    moves it, so no tolerance makes a mismatch an error: the finding reports the ratios and
    which scheme they resemble (within +-10% of 1, or of ``N / n_z``). Each
    ``weighted_group_size`` target names its unweighted size in ``unweighted``.
    """
    by_analysis = defaultdict(list)
    for t in ctx:
        if t.quantity == "weighted_group_size" and t.unweighted and t.value is not None:
            u = ctx.get(t.unweighted)
            if u is not None and u.value:
                by_analysis[t.analysis].append((t, u))
    for analysis, pairs in by_analysis.items():
        parts, kinds = [], set()
        total_w = sum(t.value for t, _ in pairs)
        total_n = sum(u.value for _, u in pairs)
        for t, u in pairs:
            ctx.checked(t.id, u.id)       # compared, never failed: the finding is info
            ratio = t.value / u.value
            parts.append(f"{t.arm}: {printed(t, 'value').text} vs n = {u.value:g} "
                         f"(ratio {ratio:.3f})")
            if abs(ratio - 1) <= NEAR_ONE:
                kinds.add("stabilized")
            elif abs(t.value / total_n - 1) <= NEAR_ONE:
                kinds.add("unstabilized")
            else:
                kinds.add("neither")
        if kinds == {"stabilized"}:
            verdict = ("consistent with stabilized (or normalised) weights, which sum to about "
                       "n per arm; unstabilized ATE weights would sum to about N per arm")
        elif kinds == {"unstabilized"}:
            verdict = "consistent with unstabilized ATE weights, which sum to about N per arm"
        else:
            verdict = ("not within 10% of the arm sizes (stabilized weights) nor of N "
                       "(unstabilized ATE weights): large or truncated weights, or another "
                       "weighting scheme")
        yield Finding("weighted_group_sizes", "info", tuple(t.id for t, _ in pairs),
                      f"{analysis}: " + "; ".join(parts) + f"; total {total_w:g} vs "
                      f"N = {total_n:g}: {verdict}", total_w - total_n, "weighted units",
                      f"{total_w:g}", f"{total_n:g}")
