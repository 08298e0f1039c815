"""Planted slips: a paper whose adjusted HR is printed wrong by a known amount.

A slip changes one predicted number and nothing the simulation is calibrated to, so the
slipped paper's simulated draws are those of the clean paper: the slipped value is judged
against the clean paper's draws (a test checks that replicating the slipped folder gives
the same verdict).

``move`` slips print an adjusted HR (IPTW or multivariable) as ``HR * exp(delta)``;
``reverse`` slips print it as ``crude**2 / HR``, the crude -> adjusted shift reversed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from .paper import Paper, half_up

__all__ = ["ADJUSTED", "DELTAS", "INDEPENDENT", "Slip", "independent_of", "slips_of"]

#: the adjusted HRs a slip is planted in
ADJUSTED = ("os_hr_iptw", "os_hr_multivariable")
#: log-HR moves of the ``move`` slips
DELTAS = (-0.1, -0.2, -0.3, -0.5)
#: the name of the control rows: numbers of an independent cohort of the same world
INDEPENDENT = "independent cohort"


@dataclass(frozen=True)
class Slip:
    """One slipped number: ``target`` printed as ``value`` instead of ``clean``.

    ``shift`` is the crude -> adjusted shift id whose reported value changes with it;
    ``size`` is the printed log-HR change (``log(value) - log(clean)``).
    """

    name: str             # "move-0.3" | "reverse"
    target: str
    clean: float
    value: float
    shift: str
    shift_value: float    # the slipped paper's reported shift log(value) - log(crude)
    size: float


def slips_of(paper: Paper, deltas=DELTAS) -> tuple[Slip, ...]:
    """Every slip of ``paper``: each delta and the reversal, in each adjusted HR.

    A slip that rounds to the printed clean value, or to 0.00, is left out.
    """
    crude = paper.number("os_hr_crude").value
    out = []
    for tid in ADJUSTED:
        clean = paper.number(tid).value
        tries = [(f"move{d:+.1f}", half_up(clean * math.exp(d), 2)) for d in deltas]
        tries.append(("reverse", half_up(crude * crude / clean, 2)))
        for name, v in tries:
            if v <= 0 or v == clean:
                continue
            out.append(Slip(name, tid, clean, v, f"os_hr_crude_to_{tid[len('os_hr_'):]}",
                            math.log(v) - math.log(crude), math.log(v) - math.log(clean)))
    return tuple(out)


def independent_of(paper: Paper, other: Paper) -> tuple[Slip, ...]:
    """The control: each number of ``paper`` printed as ``other`` (a paper on an
    independent cohort of the same world) prints it, judged against ``paper``'s draws.

    Such a number shares no sampling error with the numbers ``paper``'s study is
    calibrated to, so it shows what the verdicts do when the calibration inputs are
    not the same sample as the judged number. Rates are on the 0-1 scale."""
    theirs = {n.id: n for n in other.numbers}
    out = []
    for n in paper.numbers:
        o = theirs.get(n.id)
        if o is None:
            continue
        scale = 100.0 if n.percent else 1.0
        out.append(Slip(INDEPENDENT, n.id, n.value / scale, o.value / scale, "", math.nan,
                        math.nan))
    return tuple(out)
