"""Many replicates of one cohort at once, each bit for bit its own ``generate_cohort``.

A Monte Carlo study draws hundreds of cohorts of a few hundred patients; one cohort at
a time, most of the cost is numpy's per-call overhead over small arrays.
:func:`generate_cohort_batch` keeps one generator per replicate and draws each
replicate's randomness with exactly the calls (order, sizes) of
:func:`~simulate.cohort.generate_cohort`, while the transforms between the draws
(quantile maps, discrete cuts, derived variables, survival inversion, censoring,
response, missingness) run once over the stacked rows of all replicates (see
:mod:`simulate.streams`). Both paths run the same kernel,
:func:`~simulate.cohort.cohort_columns`, so

``generate_cohort_batch(plan, seeds).cohort(r)`` equals ``generate_cohort(plan, seed=seeds[r])``

column for column, bit for bit, and a :class:`numpy.random.Generator` passed as a
seed is left in the same state as after ``generate_cohort``.

>>> plan = compile_plan("tace_sorafenib_ehs")
>>> batch = generate_cohort_batch(plan, range(128), with_ps=False)
>>> batch.columns["os_time"].shape
(128, 423)
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tacebench.records import ArrayRecord

from .cohort import Cohort, SimulationPlan, _rng, cohort_columns, cohort_levels, compile_plan
from .streams import LockstepDraws
from .study import StudySpec


@dataclass(frozen=True, eq=False)
class CohortBatch(ArrayRecord):
    """R replicates of one cohort: each column an array of shape ``(R, n)``.

    Attributes
    ----------
    columns : dict of str to numpy.ndarray
        The columns of :class:`~simulate.cohort.Cohort` (same names, order and dtypes),
        replicate ``r`` in row ``r``.
    levels : dict of str to tuple of str
        Level labels of the categorical columns.
    arm_labels : tuple of str
        Labels of the arm codes.
    study_id, cohort_name : str
        Where the cohort comes from.
    """

    columns: dict[str, np.ndarray]
    levels: dict[str, tuple[str, ...]]
    arm_labels: tuple[str, ...]
    study_id: str = ""
    cohort_name: str = ""

    @property
    def n_replicates(self) -> int:
        """Number of replicates ``R``."""
        return self.columns["arm"].shape[0]

    @property
    def n(self) -> int:
        """Patients per replicate."""
        return self.columns["arm"].shape[1]

    def __len__(self) -> int:
        return self.n_replicates

    def cohort(self, r: int) -> Cohort:
        """Replicate ``r`` as an ordinary :class:`~simulate.cohort.Cohort`.

        Its columns are views into the batch's arrays (no copy).
        """
        if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or not -self.n_replicates <= r < self.n_replicates:
            raise ValueError(f"r: must be an integer replicate index in [0, {self.n_replicates}), got {r!r}")
        return Cohort({k: v[r] for k, v in self.columns.items()}, self.levels, self.arm_labels,
                      self.study_id, self.cohort_name)

    def to_frame(self):
        """Tidy pandas view: one row per patient and replicate, a leading ``replicate`` column."""
        flat = Cohort({k: v.reshape(-1) for k, v in self.columns.items()}, self.levels, self.arm_labels,
                      self.study_id, self.cohort_name).to_frame()
        flat.insert(0, "replicate", np.repeat(np.arange(self.n_replicates), self.n))
        return flat


def _generators(seeds) -> list[np.random.Generator]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray, range)):
        raise ValueError(f"seeds: must be a non-empty sequence of seeds (int >= 0, SeedSequence or "
                         f"Generator), got {seeds!r}")
    if isinstance(seeds, np.ndarray) and seeds.ndim != 1:
        raise ValueError(f"seeds: must be one-dimensional, got an array of shape {seeds.shape}")
    if len(seeds) == 0:
        raise ValueError("seeds: must be a non-empty sequence of seeds, got an empty one")
    rngs = [_rng(s, f"seeds[{i}]") for i, s in enumerate(seeds)]
    first: dict[int, int] = {}
    for i, g in enumerate(rngs):  # one stream drawn for two replicates would interleave them
        j = first.setdefault(id(g.bit_generator), i)
        if j != i:
            raise ValueError(f"seeds: seeds[{j}] and seeds[{i}] share one bit generator; pass distinct "
                             "generators (e.g. from SeedSequence.spawn)")
    return rngs


def generate_cohort_batch(spec: "SimulationPlan | StudySpec | str | Path",
                          seeds: "Sequence[int | np.random.SeedSequence | np.random.Generator]", *,
                          cohort: str | None = None, with_ps: bool = False) -> CohortBatch:
    """``len(seeds)`` cohorts at once, replicate ``r`` identical to ``generate_cohort(seed=seeds[r])``.

    Parameters
    ----------
    spec : SimulationPlan, StudySpec, study id or path
        A compiled plan (fastest) or anything :func:`~simulate.cohort.compile_plan` accepts.
    seeds : sequence of int, SeedSequence or Generator
        One seed per replicate, as :func:`~simulate.cohort.generate_cohort` accepts them
        (e.g. ``SeedSequence(seed).spawn(R)``). A Generator is advanced exactly as
        ``generate_cohort`` advances it; the same bit generator may not appear twice.
    cohort : str, optional
        Cohort name (``None``: the only cohort, or ``"main"``).
    with_ps : bool
        Compute the exact true propensity (``False``, the default here: NaN).

    Returns
    -------
    CohortBatch
        Columns of shape ``(R, n)``, ``R = len(seeds)``.

    Notes
    -----
    Draw sizes depend only on the plan, except in the ``logistic`` assignment route,
    whose rejection sampling of the covariates runs replicate by replicate (the
    outcomes are still stacked).
    """
    plan = compile_plan(spec, cohort)
    rngs = _generators(seeds)
    r = len(rngs)
    # one replicate: the plain generator (the same calls; no stacking cost)
    cols = cohort_columns(plan, rngs[0] if r == 1 else LockstepDraws(rngs), with_ps)
    for k, v in cols.items():  # arm, treated: one row vector, the same layout in every replicate
        if v.ndim == 1:
            cols[k] = v[None, :] if r == 1 else np.tile(v, (r, 1))
    return CohortBatch(cols, cohort_levels(plan), plan.covariates.arm_labels, plan.study_id, plan.cohort_name)


__all__ = ["CohortBatch", "generate_cohort_batch"]
