"""Every verdict tested against the worlds: robustness labels and tipping points.

The study's own world and every alternative world (:mod:`replications.worlds`) are
simulated with the same seeds and analysed the paper's way; each simulated target and
paired shift then has one verdict per world. Its **robustness** is

- ``robust``: the same verdict (reproduced, or not reproduced) in every world where it is
  judged, and no world leaves it undetermined on the other side of the bound;
- ``assumption-dependent``: some world flips it; the label names those worlds;
- ``unsettled``: no world flips it, but in some world (named, ``leaning``) it is
  undetermined with its z on the other side of the critical value: the verdict there is
  within Monte Carlo error of flipping, so the worlds do not show it robust;
- ``not judged``: not estimable in the study's own world;
- ``untested``: judged in the own world but in no other (undetermined, or not
  estimable, in every world at its R): nothing is known of its robustness.

For a family of worlds indexed by a strength ``k`` (the scale of effects a paper does not
report, the strength of an unmeasured confounder), the **tipping point** is the smallest
``k`` at which the verdict differs from the study's own world's, located between the two
grid points around it by linear interpolation of z to the critical value 1.96: a number a
reader can weigh, like an E-value ("the IPTW shift stops being reproduced once an
unmeasured confounder doubles both the odds of treatment and the hazard of death").
Families start from the study's own world (``k = 0`` for a declared family of scaled
effects, ``k = 1`` for the built-in confounder and unreported-effects families). A family
in which no member flips the verdict reports ``> k_max``, the largest ``k`` at which the
number is judged; one in which it is judged nowhere, ``not judged``.

Worlds run at the R asked for, with no replicates added near a bound (the own world may
grow R there): a number undetermined in a world is not judged in it, so a verdict's
``worlds_judged`` says in how many worlds it was; an undetermined member still places the
tipping point when its z lies on the own world's side of the critical value.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Callable, Sequence

from tacebench.engine import set_up_ahead
from tacebench.simulate.io import spec_from_dict

from .verdicts import Z_CRIT
from .analysis.problems import Problem, StudyError
from .build import compile_plans
from .reproduce import DEFAULT_SEED, prepare_run
from .worlds import FAMILY_BASE, World, apply_world, builtin_worlds, world_problem

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["WorldRun", "Tipping", "Robustness", "robustness", "run_worlds", "JUDGED"]

JUDGED = ("reproduced", "not reproduced")

#: Worlds set up at once, ahead of the one the workers run (each holds its compiled plans)
WORLDS_AHEAD = 2


@dataclass(frozen=True)
class WorldRun:
    """One world's verdicts: id -> (verdict, z, simulated median)."""

    name: str
    label: str
    why: str
    family: str | None
    strength: float | None
    builtin: bool
    verdicts: dict
    counts: dict
    # the replicates it ran: a world adds none near a bound, so a number the own world
    # settled by growing R can stay undetermined here, and is then not judged in it
    reps: int = 0

    @classmethod
    def of(cls, world: World, result) -> "WorldRun":
        v = {x.id: (x.verdict, x.z, x.median) for x in (*result.targets, *result.shifts)}
        return cls(world.name, world.label, world.why, world.family, world.strength,
                   world.builtin, v, result.counts(), result.reps)


@dataclass(frozen=True)
class Tipping:
    family: str
    k: float            # interpolated tipping point; inf when no member flips
    between: tuple[float, float] | None    # the grid points around it
    k_max: float        # the largest k at which the number is judged
    judged: bool = True  # False: undetermined at every member's R (no k can be read)

    def text(self) -> str:
        if not self.judged:
            return f"{self.family}: not judged"
        if math.isinf(self.k):
            return f"{self.family}: > {self.k_max:g}"
        return f"{self.family}: k = {self.k:.2g}"


@dataclass(frozen=True)
class Robustness:
    id: str
    label: str          # robust | assumption-dependent | unsettled | not judged | untested
    verdict: str                         # in the study's own world
    flipped_by: tuple[str, ...] = ()     # world labels with the other verdict
    tipping: tuple[Tipping, ...] = ()
    worlds_judged: int = 0
    #: world labels where it is undetermined on the other side of the bound
    leaning: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tipping"] = [{**asdict(t), "k": None if math.isinf(t.k) else t.k}
                        for t in self.tipping]
        return d


def _family_base(family: str) -> float:
    return FAMILY_BASE.get(family, 0.0)


def _tipping(family: str, base: tuple, members: list[tuple[float, tuple]]) -> Tipping:
    """``base`` and ``members`` are (verdict, z, median); members sorted by k.

    A member whose number is not judged (undetermined at its R) still places the
    crossing when its z lies on the own world's side of the critical value: the flip
    is then beyond it (an undetermined z near 1.96 on the far side says nothing)."""
    k0 = _family_base(family)
    prev_k, prev_z = k0, base[1]
    judged = [k for k, (verdict, *_) in members if verdict in JUDGED]
    if not judged:
        return Tipping(family, math.inf, None, k0, judged=False)
    k_max = judged[-1]
    for k, (verdict, z, _) in members:
        if verdict not in JUDGED:
            if math.isfinite(z) and (abs(z) < Z_CRIT) == (base[0] == "reproduced"):
                prev_k, prev_z = k, z
            continue
        if verdict != base[0]:
            kk = k
            if all(map(math.isfinite, (prev_z, z))) and prev_z != z:
                target = math.copysign(Z_CRIT, z if verdict == "not reproduced" else prev_z)
                t = (target - prev_z) / (z - prev_z)
                if 0.0 <= t <= 1.0:
                    kk = prev_k + t * (k - prev_k)
            return Tipping(family, kk, (prev_k, k), k_max)
        prev_k, prev_z = k, z
    return Tipping(family, math.inf, None, k_max)


def _leans_over(verdict: str, z: float) -> bool:
    """Whether an undetermined number's z lies on the other side of the critical value
    from the own world's ``verdict``."""
    return math.isfinite(z) and (abs(z) < Z_CRIT) != (verdict == "reproduced")


def robustness(base: dict, worlds: Sequence[WorldRun]) -> dict[str, Robustness]:
    """Robustness of every id of ``base`` (id -> (verdict, z, median)) over ``worlds``."""
    out = {}
    for id_, b in base.items():
        if b[0] not in JUDGED:
            out[id_] = Robustness(id_, "not judged", b[0])
            continue
        flipped, leaning, judged = [], [], 0
        fams: dict[str, list] = {}
        for w in worlds:
            v = w.verdicts.get(id_)
            if v is None:
                continue
            if w.family is not None:    # every member: an undetermined one still places
                fams.setdefault(w.family, []).append((w.strength, v))  # the crossing
            if v[0] not in JUDGED:
                if _leans_over(b[0], v[1]):
                    leaning.append(w.label)
                continue
            judged += 1
            if v[0] != b[0]:
                flipped.append(w.label)
        tips = tuple(_tipping(f, b, sorted(m, key=lambda x: x[0])) for f, m in fams.items())
        label = ("assumption-dependent" if flipped else "unsettled" if leaning
                 else "robust" if judged or not worlds else "untested")
        out[id_] = Robustness(id_, label, b[0], tuple(flipped), tips, judged,
                              tuple(leaning))
    return out


def run_worlds(study, reproduce: Callable, worlds: Sequence[World] | None = None,
               **kwargs) -> list[tuple[World, object]]:
    """Reproduce ``study`` in each world (default: its declared worlds and the built-in
    confounder family) with the same seeds; returns (world, ReproductionResult) pairs.
    ``kwargs`` go to ``reproduce`` (reps, seed, n_jobs, ...); the decomposition is off."""
    if worlds is None:
        worlds = (*study.worlds, *builtin_worlds(study.cohort_raw))
    # with workers, worlds k + 1 and k + 2 are calibrated and compiled while they run world
    # k: a world's set-up can take several times its run, and two at once use the core the
    # workers leave idle then
    ahead = kwargs.get("n_jobs", 1) != 1
    seed = kwargs.get("seed", DEFAULT_SEED)
    out = []
    setups = set_up_ahead(lambda w: _world_setup(study, w, seed, ahead), worlds, ahead,
                          WORLDS_AHEAD)
    for w, setup in zip(worlds, setups):
        wstudy, prepared = setup()
        try:
            if isinstance(prepared, StudyError):
                raise prepared
            more = {"prepared": prepared} if ahead else {}
            out.append((w, reproduce(wstudy, **{**kwargs, "decompose_reps": 0}, **more)))
        except StudyError as exc:     # a world the generator cannot build: name the world
            raise StudyError([world_problem(study.path, w, p) for p in exc.problems]) from None
    return out


def _world_setup(study, world: World, seed: int, prepare: bool):
    """The world's study and, if ``prepare``, its run's set-up (no decomposition) or the
    :class:`StudyError` of a world the generator cannot build."""
    wstudy = world_study(study, world)
    if not prepare:
        return wstudy, None
    try:
        return wstudy, prepare_run(wstudy, seed, 0)
    except StudyError as exc:
        return wstudy, exc


def world_study(study, world: World):
    """``study`` with its cohort.toml as ``world`` alters it."""
    raw = apply_world(study.cohort_raw, world)
    spec = spec_from_dict(raw, source=f"{study.path} world {world.name}")
    return replace(study, spec=spec, cohort_raw=raw)


def world_build_problems(study, which: str = "all", threads: int = WORLDS_AHEAD,
                         progress: Callable[[int, int], None] | None = None) -> list:
    """Each world ``which`` selects compiled (calibrated) as a run compiles it; a world
    the generator cannot build is a problem naming the world (:func:`world_problem`).

    The worlds are built ``threads`` at a time (a world's calibration is numpy's array
    work, which leaves the interpreter lock to the other thread; 0: one after the other,
    on the caller's thread); the problems come in the order of the worlds either way.
    ``progress(done, total)`` is called before the first world and after each one (a
    command's progress bar: seed 004's worlds take minutes)."""
    worlds = world_list(study, which)
    out = []
    if progress is not None:
        progress(0, len(worlds))
    for k, built in enumerate(set_up_ahead(lambda w: _world_build(study, w), worlds, threads > 0,
                                           max(threads, 1)), 1):
        out.extend(built())
        if progress is not None:
            progress(k, len(worlds))
    return out


def _world_build(study, world: World) -> list:
    """The problems of building ``world`` (none when it builds)."""
    try:
        compile_plans(world_study(study, world))
    except StudyError as exc:
        return [world_problem(study.path, world, p) for p in exc.problems]
    except ValueError as exc:      # a world simulate's loader refuses
        return [world_problem(study.path, world, Problem(
            str(study.path / "cohort.toml"), "", None, str(exc), "world-spec"))]
    return []


WORLD_CHOICES = ("all", "declared", "none")


def world_list(study, which: str = "all") -> tuple[World, ...]:
    """The worlds ``which`` selects for ``study`` (declared first, then built-in)."""
    if which not in WORLD_CHOICES:
        raise ValueError(f"worlds must be one of {WORLD_CHOICES}; got {which!r}")
    if which == "none":
        return ()
    return tuple(study.worlds) + (builtin_worlds(study.cohort_raw) if which == "all" else ())


def with_worlds(study, result, reproduce: Callable, which: str = "all", **kwargs):
    """``result`` (the study's own world) with every world's verdicts and the robustness of
    each verdict attached; ``which``: all worlds, the declared ones, or none."""
    worlds = world_list(study, which)
    if not worlds:
        return result
    runs = [WorldRun.of(w, r) for w, r in run_worlds(study, reproduce, worlds, **kwargs)]
    base = {x.id: (x.verdict, x.z, x.median) for x in (*result.targets, *result.shifts)}
    return replace(result, worlds=tuple(runs), robustness=robustness(base, runs))


def robustness_frame(rob: dict[str, Robustness]) -> pd.DataFrame:
    import pandas as pd
    rows = [dict(id=r.id, label=r.label, verdict=r.verdict, flipped_by="; ".join(r.flipped_by),
                 tipping="; ".join(t.text() for t in r.tipping), worlds_judged=r.worlds_judged)
            for r in rob.values()]
    return pd.DataFrame(rows)


__all__ += ["robustness_frame", "with_worlds", "world_list", "world_study",
            "world_build_problems", "WORLD_CHOICES"]
