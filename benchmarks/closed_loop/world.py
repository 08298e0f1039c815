"""Known worlds for the closed-loop test of the verdict procedure.

A *world* is a ``cohort.toml`` specification (as a plain mapping) whose every parameter is
known: two arms, six Table 1 covariates with arm differences (confounded treatment), OS
and PFS with conditional covariate effects and a known treatment effect, censoring and a
best response tied to survival (so it depends on the covariates through the death time).
One cohort drawn from a world is one synthetic "paper"'s data.

Kinds of world (:data:`KINDS`):

``ph``
    Proportional hazards with strong prognostic factors only: a careful reader of the
    paper can transcribe a correctly specified ``cohort.toml``.
``weak``
    As ``ph`` plus two weak effects (age, sex) that univariable screening at p < 0.05
    rarely selects, so the paper's multivariable table (and the transcribed cohort.toml)
    leaves them out.
``nonph``
    OS with ``hazards = "arm_specific"``: the treatment HR is about 1 for six months and
    protective afterwards; a reader who transcribes a proportional model misspecifies it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["KINDS", "COVARIATES", "World", "make_world"]

KINDS = ("ph", "weak", "nonph")

#: The Table 1 covariates every world has, in order: name -> type.
COVARIATES = {"age": "continuous", "male": "binary", "tumor_size": "continuous",
              "multiple": "binary", "child_pugh": "categorical", "pvtt": "binary"}
OS_KNOTS = [0, 6, 12, 24]
PFS_KNOTS = [0, 3, 6, 12]
RESPONSE_LEVELS = ["CR", "PR", "SD", "PD"]


@dataclass(frozen=True)
class World:
    """A world: its kind, the ``cohort.toml`` mapping it is, and its true parameters.

    ``truth`` holds the conditional log-HRs (``os_treatment``, ``os_<term>``...) for the
    record; the closed loop never gives them to the transcribed study.
    """

    kind: str
    spec: dict
    truth: dict


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _effects(rng: np.random.Generator, kind: str) -> list[dict]:
    """OS covariate effects: four strong prognostic factors, plus two weak ones in ``weak``."""
    eff = [{"variable": "pvtt", "hr": round(_log_uniform(rng, 1.5, 2.2), 3)},
           {"variable": "tumor_size", "hr": round(_log_uniform(rng, 1.05, 1.10), 4)},
           {"variable": "child_pugh", "hr": [round(_log_uniform(rng, 1.4, 2.0), 3)]},
           {"variable": "multiple", "hr": round(_log_uniform(rng, 1.25, 1.6), 3)}]
    if kind == "weak":
        # per-year and male-vs-female effects a univariable screen at n ~ 300 mostly misses
        eff += [{"variable": "age", "hr": round(_log_uniform(rng, 1.005, 1.012), 4)},
                {"variable": "male", "hr": round(_log_uniform(rng, 1.1, 1.25), 3)}]
    return eff


def _covariates(rng: np.random.Generator, labels: tuple[str, str]) -> list[dict]:
    """Per-arm Table 1 distributions; the treated arm differs (confounding by indication)."""
    c, t = labels
    age, size = rng.uniform(55, 62), rng.uniform(6.0, 8.0)
    male, mult = rng.uniform(0.75, 0.88), rng.uniform(0.4, 0.6)
    cpb, pvtt = rng.uniform(0.10, 0.20), rng.uniform(0.15, 0.25)
    d = rng.uniform
    return [
        {"name": "age", "type": "continuous", "unit": "years", "distribution": "normal",
         "lower": 18, "arms": {c: {"mean": round(age, 1), "sd": 10.0},
                               t: {"mean": round(age - d(0, 4), 1), "sd": 9.5}}},
        {"name": "male", "type": "binary",
         "arms": {c: {"p": round(male, 3)}, t: {"p": round(male + d(-0.05, 0.05), 3)}}},
        {"name": "tumor_size", "type": "continuous", "unit": "cm", "distribution": "normal",
         "lower": 1.0, "arms": {c: {"mean": round(size, 1), "sd": 3.0},
                                t: {"mean": round(size + d(-0.5, 1.5), 1), "sd": 3.2}}},
        {"name": "multiple", "type": "binary",
         "arms": {c: {"p": round(mult, 3)}, t: {"p": round(mult + d(0, 0.15), 3)}}},
        {"name": "child_pugh", "type": "categorical", "levels": ["A", "B"],
         "arms": {c: {"proportions": [round(1 - cpb, 3), round(cpb, 3)]},
                  t: {"proportions": [round(1 - cpb + 0.08, 3), round(cpb - 0.08, 3)]}}},
        {"name": "pvtt", "type": "binary",
         "arms": {c: {"p": round(pvtt, 3)}, t: {"p": round(pvtt + d(0.05, 0.2), 3)}}},
    ]


def _mean_eta(covs: list[dict], effects: list[dict], arm: str) -> float:
    """The control arm's mean linear predictor, to centre the baseline hazard on a median."""
    by = {v["name"]: v["arms"][arm] for v in covs}
    eta = 0.0
    for e in effects:
        a = by[e["variable"]]
        hr = e["hr"][0] if isinstance(e["hr"], list) else e["hr"]
        x = a.get("mean", a.get("p", (a.get("proportions") or [0, 0])[-1]))
        eta += math.log(hr) * x
    return eta


def make_world(seed, kind: str = "ph") -> World:
    """Draw a world of ``kind`` from ``seed``.

    Parameters
    ----------
    seed : int or numpy.random.SeedSequence
        The world's seed; everything random in the world comes from it.
    kind : {"ph", "weak", "nonph"}
        See the module docstring.

    Returns
    -------
    World
        Its ``spec`` loads with :func:`tacebench.simulate.spec_from_dict`.
    """
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {list(KINDS)}; got {kind!r}")
    rng = np.random.default_rng(seed)
    labels = ("TACE", "TACE-S")
    n0, n1 = int(rng.integers(120, 201)), int(rng.integers(80, 151))
    covs = _covariates(rng, labels)
    effects = _effects(rng, kind)
    hr_os = _log_uniform(rng, 0.55, 1.0)
    hr_pfs = _log_uniform(rng, 0.5, 0.9)
    median0 = rng.uniform(10, 18)
    shape = [1.0, 1.1, 1.25, 1.4]          # hazards rising with time, as after TACE
    h = math.log(2) / median0 / math.exp(_mean_eta(covs, effects, labels[0]))
    os_: dict = {"knots": OS_KNOTS, "effects": effects}
    if kind == "nonph":
        # no benefit for six months, then a protective HR: calibrated per arm to these
        late = _log_uniform(rng, 0.45, 0.7)
        s6 = math.exp(-6 * math.log(2) / median0)
        m1 = 6 + (median0 - 6) / late
        os_ |= {"treatment_hr": "calibrate", "hazards": "arm_specific", "calibrate": [
            {"arm": labels[0], "kind": "median", "value": round(median0, 2)},
            {"arm": labels[0], "kind": "rate", "time": 6, "value": round(s6, 4)},
            {"arm": labels[1], "kind": "rate", "time": 6, "value": round(s6, 4)},
            {"arm": labels[1], "kind": "median", "value": round(m1, 2)}]}
        hr_os = late
    else:
        os_ |= {"treatment_hr": round(hr_os, 4),
                "baseline_hazard": [round(h * s, 6) for s in shape]}
    median_pfs = median0 * rng.uniform(0.35, 0.55)
    pfs = {"knots": PFS_KNOTS, "treatment_hr": round(hr_pfs, 4), "os_correlation": 0.5,
           "effects": [{"variable": "pvtt", "hr": 1.4}],
           "baseline_hazard": [round(math.log(2) / median_pfs * s, 6) for s in shape]}
    p0 = rng.dirichlet([1, 6, 8, 6])
    p1 = rng.dirichlet([1.5, 9, 8, 4])
    spec = {
        "study": {"id": f"world_{kind}", "title": f"closed-loop world ({kind})"},
        "cohorts": {"main": {
            "assignment": "arm_marginals",
            "arms": [{"label": labels[0], "n": n0, "treated": False},
                     {"label": labels[1], "n": n1, "treated": True}],
            "variables": covs,
            "correlation": {"default": "independent"},
            "outcomes": {"os": os_, "pfs": pfs},
            "censoring": {"accrual": 36, "follow_up": float(round(rng.uniform(12, 24), 1)),
                          "loss_rate": 0.01},
            "response": {"levels": RESPONSE_LEVELS,
                         "arms": {labels[0]: {"proportions": [round(x, 4) for x in p0]},
                                  labels[1]: {"proportions": [round(x, 4) for x in p1]}},
                         "missing_rate": 0.05, "missing_mechanism": "early_death",
                         "assessment_time": 3.0, "os_correlation": 0.5},
        }},
    }
    truth = {"os_treatment_log_hr": math.log(hr_os), "pfs_treatment_log_hr": math.log(hr_pfs),
             **{f"os_{e['variable']}_log_hr": math.log(e["hr"][0] if isinstance(e["hr"], list)
                                                       else e["hr"]) for e in effects}}
    return World(kind, spec, truth)
