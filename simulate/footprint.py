"""The memory a stack of drawn cohorts takes, and the limit on it.

One estimate serves every door that draws cohorts: ``tacebench replicate`` / ``check``
(a worker draws ``replications.build.BATCH_SIZE`` replicates at once) and
``tacebench simulate`` / ``tacebench.simulate_cohorts`` (all requested cohorts are held,
returned as a list or written as one table). It is measured, not guessed: a stack of 25
cohorts of 40 000 patients with 14 columns (the fictional study scaled up) peaked at
138 MB while drawn, 138 bytes per patient row, which is 8 bytes per column plus about
three work arrays, so a stack of ``k`` cohorts takes ``k * patients * (columns +
WORK_COLUMNS) * 8`` bytes, refused above :data:`MEMORY_LIMIT`.
"""
from __future__ import annotations

from dataclasses import dataclass

from .spec_base import SpecError

__all__ = ["MEMORY_LIMIT", "WORK_COLUMNS", "Footprint", "draw_footprint", "too_large",
           "check_memory"]

#: Work arrays alive beside the columns while a stack is drawn (measured, see above).
WORK_COLUMNS = 3
#: The largest stack of cohorts a run may hold, in bytes.
MEMORY_LIMIT = 2 * 1024 ** 3


@dataclass(frozen=True)
class Footprint:
    """What a stack of ``stack`` drawn cohorts of one cohort specification holds."""

    cohort: str
    patients: int
    columns: int
    bytes: int
    stack: int = 1

    @property
    def gigabytes(self) -> float:
        return self.bytes / 1024 ** 3


def draw_footprint(cohort, stack: int) -> Footprint:
    """The memory ``stack`` drawn cohorts of ``cohort`` take together.

    Parameters
    ----------
    cohort : simulate.study.CohortSpec
    stack : int
        Cohorts held at once.

    Returns
    -------
    Footprint
    """
    endpoints = sum(e is not None for e in (cohort.os, cohort.pfs, cohort.ttp))
    columns = (3 + len(cohort.variables)      # arm, treated, true_ps
               + len(cohort.multiselect) + len(cohort.derived)
               + (cohort.unmeasured is not None) + 2 * endpoints
               + (cohort.response is not None) + len(cohort.response_columns)
               + 2 * (cohort.time_varying is not None))
    patients = int(sum(a.n for a in cohort.arms))
    size = stack * patients * (columns + WORK_COLUMNS) * 8
    return Footprint(cohort.name, patients, columns, size, stack)


def too_large(f: Footprint, who: str = "a worker", what: str = "replicates") -> str | None:
    """Why a stack will not fit in :data:`MEMORY_LIMIT` (the message), or None if it fits.

    Parameters
    ----------
    f : Footprint
    who, what : str
        Who draws the stack and what its cohorts are ("a worker", "replicates").

    Returns
    -------
    str or None
    """
    if f.bytes <= MEMORY_LIMIT:
        return None
    most = MEMORY_LIMIT // (f.stack * (f.columns + WORK_COLUMNS) * 8)
    return (f"{f.patients:,} patients with {f.columns} columns: {who} draws {f.stack} {what} at once, "
            f"about {f.gigabytes:.1f} GB, above the limit of {MEMORY_LIMIT / 1024 ** 3:.0f} GB; give the "
            f"arms' `n` as the paper reports them (at most about {most:,} patients in this cohort)")


def check_memory(cohort, n_cohorts: int) -> None:
    """Refuse to draw ``n_cohorts`` cohorts that together exceed :data:`MEMORY_LIMIT`.

    Parameters
    ----------
    cohort : simulate.study.CohortSpec
    n_cohorts : int
        Cohorts requested (all are held: a list, or one written table).

    Raises
    ------
    SpecError
        Keyed ``cohorts.<name>.arms`` with :func:`too_large`'s message when one cohort is
        too large; keyed ``n_cohorts``, with how many cohorts of this size would fit,
        when only their number is.
    """
    f = draw_footprint(cohort, n_cohorts)
    msg = too_large(f, "simulate", "cohorts" if n_cohorts > 1 else "cohort")
    if msg is None:
        return
    fits = MEMORY_LIMIT // max(draw_footprint(cohort, 1).bytes, 1)
    if fits < 1:  # one cohort is too large: the arms' sizes are at fault
        raise SpecError(f"cohorts.{cohort.name}.arms", msg)
    # (the arms' advice, "at most about 0 patients", blamed cohort.toml for n_cohorts)
    raise SpecError("n_cohorts", f"{n_cohorts:,} cohorts of {f.patients:,} patients with "
                                 f"{f.columns} columns are drawn at once, about "
                                 f"{f.gigabytes:.1f} GB, above the limit of "
                                 f"{MEMORY_LIMIT / 1024 ** 3:.0f} GB; ask for at most "
                                 f"{fits:,} cohorts of this size")
