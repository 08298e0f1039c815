"""Which reading of a paper's methods its numbers favour, and the reading each is judged under.

A group of readings (:mod:`replications.analysis.readings`) is analysed on the same
simulated replicates under each of its readings ``r = 0..K-1`` (0 = the declared one).

**Reading-dependent numbers.** A target of the group's analyses depends on the reading when
its draws differ between two readings (beyond ``rtol = 1e-9``: stabilizing ATE weights
rescales each arm, which leaves a weighted KM median unchanged up to rounding error). Targets
that repeat one number (the same printed value with the same draws under every reading, e.g.
an HR quoted in the abstract and the text) count once: the likelihood is over **distinct**
numbers.

**Likelihood.** For a number ``y`` (on the analysis scale: log for ratios) and the draws
``x_1..x_R`` of reading ``r``, its likelihood is the share of estimable replicates times a
Gaussian kernel density of the estimable draws at ``y``, with Silverman's bandwidth
``0.9 min(s, IQR/1.34) n^(-1/5)`` widened by the printed number's rounding (variance
``d^2/3`` for a half-unit ``d`` of its last printed digit). The group's log-likelihood of
reading ``r`` sums the numbers' log-likelihoods: a composite likelihood that treats numbers
as independent given the reading; numbers of one analysis are positively correlated, so it
overstates the evidence, and the strength labels below are an upper bound.

**Misfit numbers do not decide.** A number far outside every reading's draws (a generator
that misfits the study, a mislabelled number) would otherwise dominate the sum: a Gaussian
kernel's log-density falls with the square of the distance, so a small shift of a far tail
between two readings would outweigh every number that fits. Each number's density is
therefore a contamination mixture ``(1 - eps) kde_r(y) + eps g(y)`` (``eps`` =
:data:`CONTAMINATION`), where ``g`` is one broad normal shared by all readings (centred on
the median of all readings' draws, SD ten times their robust SD): a number no reading
produces has about the same likelihood ``eps g(y)`` under every reading and cancels out.

**Preference and strength.** The preferred reading maximises the group's log-likelihood;
its evidence is the likelihood ratio ``LR`` over the runner-up, labelled on the scale of
Kass & Raftery (1995): ``LR < 3`` weak ("not worth more than a bare mention"), ``< 20``
positive, ``< 150`` strong, else very strong. The number of readings tried is stated with it.

**Judged under the others' reading.** A number is never judged under a reading chosen by
itself: number ``t`` is judged under the reading that the group's *other* distinct numbers
favour (leave-one-number-out), adopted only when their likelihood ratio over the declared
reading is at least 3 (positive evidence); otherwise under the declared reading. So a
verdict does not turn "reproduced" because one of many readings happens to match that
number, and a group with one reading-dependent number judges it under the declared reading.

**Contested verdicts.** The other numbers may favour the reading a number is judged under
only weakly: when a reading they favour within a likelihood ratio of 3 of it (weak evidence,
no better than a bare mention) gives the number the other verdict (reproduced or not), the
verdict rests on a choice the paper's numbers cannot make. Such a number is **contested**
(``ReadingResult.contested``): its verdict stands, and the output names the readings that
would reverse it and counts it apart.

References
----------
Kass RE, Raftery AE. Bayes factors. J Am Stat Assoc 1995;90:773-795.
Silverman BW. Density Estimation for Statistics and Data Analysis. Chapman & Hall, 1986.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from .analysis.compile import reported_value
from .log_sum import logsumexp_1d
from .printed_numbers import printed_field, printed_half_unit, reported_text
from .verdicts import analysis_scale, judge, to_scale

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["ReadingScore", "ReadingResult", "number_loglik", "broad_logpdf",
           "choose_readings", "strength", "ADOPT_LR", "RTOL", "CONTAMINATION",
           "judge_readings", "printed_half_unit", "is_reproduced", "printed_field",
           "reported_text"]

#: Likelihood ratio over the declared reading from which another reading is adopted.
ADOPT_LR = 3.0
#: Draws closer than this (relative) are the same number under two readings.
RTOL = 1e-9
#: Weight of the broad component that keeps a misfit number from deciding the reading.
CONTAMINATION = 0.05
_STRENGTH = ((3.0, "weak"), (20.0, "positive"), (150.0, "strong"), (math.inf, "very strong"))


def strength(log_lr: float) -> str:
    """Kass & Raftery's label for a likelihood ratio ``exp(log_lr)``."""
    if not math.isfinite(log_lr):
        return "very strong" if log_lr > 0 else "weak"
    lr = math.exp(min(log_lr, 700.0))
    return next(label for bound, label in _STRENGTH if lr < bound)


def number_loglik(draws: np.ndarray, y: float, half_unit: float = 0.0,
                  broad: float = -math.inf) -> float:
    """Log-likelihood of the number ``y`` under a reading whose replicates gave ``draws``
    (both on the analysis scale; NaN draws are replicates without an estimate).

    Parameters
    ----------
    draws : array of float
        One draw per replicate; NaN where the reading gave no estimate.
    y : float
        The reported number on the same scale.
    half_unit : float
        Half a unit of the number's last printed digit, on the same scale.
    broad : float
        Log-density at ``y`` of the broad contamination component (see the module
        docstring); ``-inf`` (default) for the kernel density alone.

    Returns
    -------
    float
        ``log(share estimable) + log((1 - eps) kde(y) + eps exp(broad))``, or the kernel
        density alone without ``broad``; ``-inf`` when no replicate is estimable.
    """
    x = np.asarray(draws, dtype=float)
    ok = x[np.isfinite(x)]
    if ok.size == 0 or not math.isfinite(y):
        return -math.inf
    share = math.log(ok.size / x.size)
    sd = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
    iqr = float(np.subtract(*np.quantile(ok, [0.75, 0.25])))
    spread = min(sd, iqr / 1.34) if iqr > 0 else sd
    h2 = (0.9 * spread * ok.size ** -0.2) ** 2 + half_unit ** 2 / 3.0
    if h2 <= 0:                               # every draw equal and printed exactly
        h2 = (1e-9 * max(abs(y), 1.0)) ** 2
    h = math.sqrt(h2)
    logk = -0.5 * ((y - ok) / h) ** 2 - math.log(h * math.sqrt(2 * math.pi))
    kde = logsumexp_1d(logk) - math.log(ok.size)
    if broad == -math.inf:
        return share + kde
    return share + float(np.logaddexp(math.log1p(-CONTAMINATION) + kde,
                                      math.log(CONTAMINATION) + broad))


def broad_logpdf(draws: np.ndarray, y: float, half_unit: float = 0.0) -> float:
    """Log-density at ``y`` of the broad component over all readings' ``draws`` (one
    array): normal, centred on their median, SD ten times their robust SD."""
    x = np.asarray(draws, dtype=float).ravel()
    x = x[np.isfinite(x)]
    if not x.size or not math.isfinite(y):
        return -math.inf
    med = float(np.median(x))
    sd = 10.0 * max(1.4826 * float(np.median(np.abs(x - med))), float(x.std()), half_unit,
                    1e-9 * max(abs(med), 1.0))
    return float(-0.5 * ((y - med) / sd) ** 2 - math.log(sd * math.sqrt(2 * math.pi)))


@dataclass(frozen=True)
class ReadingScore:
    index: int
    label: str
    loglik: float            # over the group's distinct reading-dependent numbers
    reproduced: int = 0      # of those numbers, reproduced under the reading (the verdicts' rule)


@dataclass(frozen=True)
class ReadingResult:
    """What the paper's numbers say about one group of readings."""

    name: str
    analyses: tuple[str, ...]
    choices: tuple[tuple[str, tuple[str, ...], str], ...]   # (option, value labels, why)
    scores: tuple[ReadingScore, ...]
    numbers: tuple[str, ...]         # distinct reading-dependent targets (one id each)
    dependent: tuple[str, ...]       # every reading-dependent target
    preferred: int
    log_lr: float                    # preferred over the runner-up
    log_lr_declared: float           # preferred over the declared reading
    strength: str
    #: per choice: (option, value the numbers prefer, profile log LR over the next value,
    #: strength): each value's best reading against the other values' best
    per_choice: tuple[tuple[str, str, float, str], ...] = ()
    #: per target whose verdict depends on the reading: (target id, readings the other
    #: numbers favour within ADOPT_LR of the one it is judged under whose verdict differs)
    contested: tuple[tuple[str, tuple[int, ...]], ...] = ()

    @property
    def n_readings(self) -> int:
        return len(self.scores)

    @property
    def preferred_label(self) -> str:
        return self.scores[self.preferred].label

    def to_frame(self) -> pd.DataFrame:
        import pandas as pd
        rows = [dict(asdict(s), group=self.name, preferred=s.index == self.preferred,
                     declared=s.index == 0, numbers=len(self.numbers))
                for s in self.scores]
        return pd.DataFrame(rows)

    def sentence(self) -> str:
        """One line for the report."""
        if not self.numbers:
            return (f"{self.name}: {self.n_readings} readings tried; no reported number "
                    "depends on the reading")
        p = self.scores[self.preferred]
        which = "the declared reading" if p.index == 0 else "not the declared one"
        per = "; ".join(f"{opt} = {v} (LR {_fmt_lr(lr)}, {st})"
                        for opt, v, lr, st in self.per_choice)
        return (f"{self.name}: {len(self.numbers)} distinct reading-dependent numbers, "
                f"{self.n_readings} readings tried; preferred {p.label} ({which}; LR "
                f"{_fmt_lr(self.log_lr)} over the next reading, {self.strength}); per choice: "
                f"{per}")


def _fmt_lr(log_lr: float) -> str:
    if not math.isfinite(log_lr):
        return "inf" if log_lr > 0 else "0"
    return f"{math.exp(log_lr):.3g}" if log_lr < 20 else f"e^{log_lr:.0f}"


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.allclose(a, b, rtol=RTOL, atol=0.0, equal_nan=True))


def choose_readings(groups: Sequence, columns: Sequence, draws: np.ndarray,
                    numbers: Mapping[str, tuple[float, str, float]],
                    reproduced: dict | None = None
                    ) -> tuple[tuple[ReadingResult, ...], dict[str, tuple[int, int]]]:
    """Score every reading of every group and pick the reading each target is judged under.

    Parameters
    ----------
    groups : sequence of ReadingGroup
        The plan's groups (:mod:`replications.analysis.readings`).
    columns : sequence of ReadingColumn
        ``(group, reading, target, column)``: where a target's draws under a reading are.
    draws : ndarray, shape (R, width)
        The replicate-by-column draws of the run, on the natural scale.
    numbers : mapping
        Target id -> ``(reported value, scale, half unit of the last printed digit)`` for
        every simulated target with a reported value (natural scale).
    reproduced : dict, optional
        Filled with ``(column, target id) -> is_reproduced`` of each number judged under
        each reading, for a caller that asks again (:func:`judge_readings`).

    Returns
    -------
    results : tuple of ReadingResult
        One per group, in the plan's order.
    judged : dict
        Target id -> ``(group, reading)`` to judge it under, for the group's targets.
    """
    where: dict[int, dict[str, dict[int, int]]] = {}
    for c in columns:
        where.setdefault(c.group, {}).setdefault(c.target, {})[c.reading] = c.column
    results, judged = [], {}
    for gi, g in enumerate(groups):
        cols = where.get(gi, {})
        K = len(g.readings)
        # scale each target once; keep the reading-dependent ones, one per distinct number
        dep: dict[str, np.ndarray] = {}
        for tid, by_r in cols.items():
            if tid not in numbers or len(by_r) < K:
                continue
            y, scale, _ = numbers[tid]
            stack = np.stack([to_scale(draws[:, by_r[r]], scale) for r in range(K)])
            if any(not _same(stack[0], stack[r]) for r in range(1, K)):
                dep[tid] = stack
        classes: list[list[str]] = []
        for tid, stack in dep.items():
            for cl in classes:
                head = cl[0]
                if numbers[head][0] == numbers[tid][0] and _same(dep[head], stack):
                    cl.append(tid)
                    break
            else:
                classes.append([tid])
        ll = np.zeros((len(classes), K))
        inside = np.zeros((len(classes), K), dtype=int)
        for i, cl in enumerate(classes):
            y, scale, half = numbers[cl[0]]
            yy = float(to_scale([y], scale)[0])
            hh = _half_on_scale(y, half, scale)
            g_y = broad_logpdf(dep[cl[0]], yy, hh)
            for r in range(K):
                ll[i, r] = number_loglik(dep[cl[0]][r], yy, hh, g_y)
                c = cols[cl[0]][r]
                inside[i, r] = found = is_reproduced(draws[:, c], numbers[cl[0]])
                if reproduced is not None:
                    reproduced[c, cl[0]] = found
        total = ll.sum(axis=0)
        pref = int(np.argmax(total)) if classes else 0
        order = np.sort(total)[::-1]
        # (no reading gives every number an estimate: none is favoured)
        log_lr = float(order[0] - order[1]) if K > 1 and classes and order[0] > -math.inf \
            else 0.0
        scores = tuple(ReadingScore(r.index, r.label, float(total[r.index]),
                                    int(inside[:, r.index].sum())) for r in g.readings)
        for tid in cols:
            judged[tid] = (gi, 0)
        contested = []
        for i, cl in enumerate(classes):        # leave this number out, ask the others
            with np.errstate(invalid="ignore"):
                rest = total - ll[i]
            lost = np.isnan(rest)   # -inf - -inf: this number has no estimate under a reading
            if lost.any():          # the others' own sum there (exact, not a difference)
                rest[lost] = np.delete(ll[:, lost], i, axis=0).sum(axis=0)
            best = int(np.argmax(rest))
            use = best if len(classes) > 1 and _log_lr(rest[best], rest[0]) >= math.log(ADOPT_LR) \
                else 0
            for tid in cl:
                judged[tid] = (gi, use)
            # readings the others favour about as much (LR < ADOPT_LR against the one
            # used) whose verdict differs: the verdict rests on a choice they cannot make
            near = tuple(r for r in range(K) if r != use and inside[i, r] != inside[i, use]
                         and _log_lr(rest[use], rest[r]) < math.log(ADOPT_LR))
            if near:
                contested += [(tid, near) for tid in cl]
        results.append(ReadingResult(
            g.name, g.analyses, tuple((c.option, c.labels, c.why) for c in g.choices),
            scores, tuple(cl[0] for cl in classes), tuple(dep), pref, _finite(log_lr),
            _finite(float(total[pref]) - float(total[0])), strength(log_lr),
            _profile(g, total) if classes else (), tuple(contested)))
    return tuple(results), judged


def _profile(g, total: np.ndarray) -> tuple[tuple[str, str, float, str], ...]:
    """Per choice, the profile likelihood of each of its values (the best reading with
    that value): the preferred value and its log LR over the next one."""
    out = []
    for k, c in enumerate(g.choices):
        best = {}
        for r in g.readings:
            j = next(i for i, v in enumerate(c.values) if repr(v) == repr(r.values[k]))
            best[j] = max(best.get(j, -math.inf), float(total[r.index]))
        ranked = sorted(best.items(), key=lambda kv: -kv[1])
        lr = _finite(ranked[0][1] - ranked[1][1]) if len(ranked) > 1 else 0.0
        out.append((c.option, c.labels[ranked[0][0]], lr, strength(lr)))
    return tuple(out)


def _log_lr(a: float, b: float) -> float:
    """The log likelihood ratio of a reading scoring ``a`` over one scoring ``b``: 0 when
    both are ``-inf`` (each loses some number's every estimate, so the numbers favour
    neither), where ``a - b`` would be NaN and every comparison with it false."""
    return 0.0 if a == b == -math.inf else float(a - b)


def _finite(x: float) -> float:
    return x if not math.isnan(x) else 0.0


def _half_on_scale(y: float, half: float, scale: str) -> float:
    """The half unit of a printed number, carried to the analysis scale (delta method)."""
    if not half or not math.isfinite(y) or y == 0:
        return 0.0
    if scale == "log":
        return half / abs(y)
    if scale == "inverse":
        return half / y ** 2
    return half


def is_reproduced(draws: np.ndarray, number: tuple[float, str, float]) -> bool:
    """Is ``number`` (reported value, scale, half unit of its last printed digit) reproduced
    by ``draws`` (natural scale)? The verdicts' own rule (:func:`.verdicts.judge`: the
    printed rounding interval's point nearest the median, the estimability threshold), so
    that a reading's score counts what the verdicts would say under it."""
    y, scale, half = number
    return judge(draws, y, scale, half_unit=half).verdict == "reproduced"


def _reproduced(draws, column: int, tid: str, numbers, memo: dict) -> bool:
    """:func:`is_reproduced` of target ``tid``'s draws in ``column``, judged once (``memo``)."""
    if (column, tid) not in memo:
        memo[column, tid] = is_reproduced(draws[:, column], numbers[tid])
    return memo[column, tid]


def judge_readings(study, plan, draws, col):
    """Reading groups' results, the reading each target is judged under (label, declared?),
    the draws with each target's column under that reading, per reading-dependent target
    the readings under which it is reproduced, per target judged under a reading other
    than the declared one the column of ``draws`` it is judged on, and per contested target
    the labels of the readings that reverse its verdict
    (:mod:`replications.reading_choice`)."""
    groups_def = getattr(plan, "reading_groups", ())
    if not groups_def:
        return (), {}, draws, {}, {}, {}
    numbers = {}
    for t in study.targets.targets:
        if t.id in col:
            reported, quantity = reported_value(t)
            if reported is not None and math.isfinite(reported):   # not NR: no density at inf
                numbers[t.id] = (float(reported), analysis_scale(quantity),
                                 printed_half_unit(t, quantity))
    reproduced: dict = {}      # (column, id) -> is_reproduced, judged once
    results, chosen = choose_readings(groups_def, plan.reading_columns, draws, numbers,
                                      reproduced)
    at = {(c.group, c.reading, c.target): c.column for c in plan.reading_columns}
    eff = draws.copy()
    judged, source = {}, {}
    for tid, (g, r) in chosen.items():
        judged[tid] = (groups_def[g].readings[r].label, r == 0)
        if r != 0:
            source[tid] = at[(g, r, tid)]
            eff[:, col[tid]] = draws[:, source[tid]]
    under, contested = {}, {}
    for g, res in zip(range(len(groups_def)), results):
        for tid in res.dependent:
            under[tid] = tuple(r.label for r in groups_def[g].readings
                               if _reproduced(draws, at[(g, r.index, tid)], tid, numbers,
                                              reproduced))
        contested.update({tid: tuple(groups_def[g].readings[r].label for r in near)
                          for tid, near in res.contested})
    return results, judged, eff, under, source, contested
