"""The ``cohort`` generator: a published study's ``cohort.toml`` edited by scenario factors.

``base`` names a study folder that simulate finds (``replications/studies/<id>/`` read as
data, never by importing replications code) or a ``cohort.toml`` path; ``cohort`` the cohort
in it. The scenario's factors (:mod:`benchmarks.cohort_factors`) edit the parsed TOML; the
result goes through :func:`simulate.io.spec_from_dict` and :func:`simulate.generate_cohort`.

True values (``truth``), computed once per scenario:

* ``conditional_log_hr``: ``log(treatment_hr)`` of OS (the factor ``true_hr``);
* ``log_hr_per_month``: ``log(hr_per_month)`` of the time-varying therapy;
* ``marginal_log_hr`` (``population = "ATE" | "ATT" | "ATC"``), ``rmst_difference``
  (``tau``) and ``risk_difference`` (``time``): from one large *randomised* counterpart of
  the scenario — both arms given the covariate distribution of the target population
  (pooled arms for the ATE, the treated arm for the ATT), the hidden confounder made
  independent of treatment, no censoring — in which the crude Cox coefficient is the
  marginal log-HR (Austin 2013, Stat Med 32:2837, section 3) and the arm differences of
  ``mean(min(T, tau))`` and ``mean(T <= t)`` are the RMST and risk differences. Its Monte
  Carlo error is reported as ``truth_mcse`` by :func:`truth_with_error`.
* ``custom``: ``value``.
"""
from __future__ import annotations

import copy
import inspect
import math
import tomllib
from functools import lru_cache

import numpy as np

from .cohort_factors import apply_factors
from .dgm import PreparedDGM
from .study import Estimand, Scenario

#: Size of the randomised counterpart used for marginal truths.
TRUTH_N = 200_000


@lru_cache(maxsize=32)
def _raw_spec(base: str) -> dict:
    from simulate.io import find_study

    with open(find_study(base), "rb") as fh:
        return tomllib.load(fh)


def scenario_spec(base: str, cohort: str, factors: dict, extra_edit=None):
    """The simulate ``StudySpec`` of a scenario (``extra_edit(table)`` edits it further)."""
    from simulate.io import spec_from_dict

    raw = copy.deepcopy(_raw_spec(base))
    cohorts = raw.get("cohorts", {})
    if cohort not in cohorts:
        raise ValueError(f"cohort must be one of {sorted(cohorts)} for base {base!r}; got {cohort!r}")
    raw["cohorts"] = {cohort: cohorts[cohort]}
    apply_factors(cohorts[cohort], factors)
    if extra_edit is not None:
        extra_edit(cohorts[cohort])
    return spec_from_dict(raw, source=f"{base} [{cohort}] with {factors}")


def _generator(spec, cohort: str):
    """``draw(rng) -> columns`` calling simulate's public generator; the columns gain
    ``_covariates``, the cohort's measured variables, for methods' ``covariates = ["*"]``."""
    import simulate

    measured = np.array([v.name for v in spec.cohorts[cohort].variables])
    gen = simulate.generate_cohort
    params = inspect.signature(gen).parameters
    prepare = getattr(simulate, "prepare_cohort", None)
    if prepare is not None:  # compiled once: calibration and marginals solved here
        spec = prepare(spec, cohort=cohort)

    def draw(rng: np.random.Generator) -> dict[str, np.ndarray]:
        if "rng" in params:
            out = gen(spec, cohort=cohort, rng=rng)
        else:
            out = gen(spec, cohort=cohort, seed=np.random.SeedSequence(rng.integers(2**63)))
        return {**out.columns, "_covariates": measured}
    return draw


def _randomised_edit(population: str):
    def edit(table: dict) -> None:
        arms = table["arms"]
        labels = [a["label"] for a in arms]
        focal = {"ATT": [a["label"] for a in arms if a.get("treated")],
                 "ATC": [a["label"] for a in arms if not a.get("treated")]}.get(population, labels)
        n_of = {a["label"]: a["n"] for a in arms}
        for var in table.get("variables", []):
            summ = var.get("arms", {})
            if not all(k in summ for k in focal):
                continue
            if len(focal) == 1:
                target = copy.deepcopy(summ[focal[0]])
            else:  # pooled: the size-weighted mixture of the arms' summaries
                target = _pooled(summ, {k: n_of[k] for k in focal})
            for k in labels:
                summ[k] = copy.deepcopy(target)
        if "unmeasured" in table:
            table["unmeasured"]["treatment_or"] = 1.0
        table["censoring"] = {"accrual": 0.0, "follow_up": 1200.0, "loss_rate": 0.0}
        for a in arms:
            a["n"] = TRUTH_N // 2
    return edit


def _pooled(summ: dict, n_of: dict) -> dict:
    tot = sum(n_of.values())
    w = {k: v / tot for k, v in n_of.items()}
    first = summ[next(iter(n_of))]
    if "proportions" in first:
        return {"proportions": [sum(w[k] * summ[k]["proportions"][i] for k in w)
                                for i in range(len(first["proportions"]))]}
    if "p" in first:
        return {"p": sum(w[k] * summ[k]["p"] for k in w)}
    out = {}
    for f in ("mean", "median", "q1", "q3"):
        if all(f in summ[k] for k in w):
            out[f] = sum(w[k] * summ[k][f] for k in w)
    if all("sd" in summ[k] for k in w) and "mean" in out:  # mixture variance
        out["sd"] = math.sqrt(sum(w[k] * (summ[k]["sd"] ** 2 + (summ[k]["mean"] - out["mean"]) ** 2)
                                  for k in w))
    for f in ("min", "max"):
        vals = [summ[k][f] for k in w if f in summ[k]]
        if vals:
            out[f] = min(vals) if f == "min" else max(vals)
    return out


def truth_with_error(scenario: Scenario, estimand: Estimand,
                     seed: np.random.SeedSequence) -> tuple[float, float]:
    """True value of a marginal estimand and its Monte Carlo SE (see the module docstring)."""
    cfg = estimand.config
    population = cfg.get("population", "ATE")
    spec = scenario_spec(scenario.base, scenario.cohort, scenario.config,
                         _randomised_edit(population))
    cols = _generator(spec, scenario.cohort)(np.random.default_rng(seed))
    t = np.asarray(cols["os_time"], dtype=float)
    z = np.asarray(cols["treated"]) == 1
    if estimand.kind == "marginal_log_hr":
        from estimators.survival.cox import cox_ph

        fit = cox_ph(t, np.ones(t.size, dtype=np.int8), z.astype(float), ties="breslow")
        return float(fit.coef[0]), float(fit.se[0])
    if estimand.kind == "rmst_difference":
        y = np.minimum(t, float(cfg.get("tau", 12.0)))
    elif estimand.kind == "risk_difference":
        y = (t <= float(cfg.get("time", 12.0))).astype(float)
    else:
        raise ValueError(f"no randomised truth for estimand kind {estimand.kind!r}")
    diff = y[z].mean() - y[~z].mean()
    return float(diff), float(math.sqrt(y[z].var(ddof=1) / z.sum() + y[~z].var(ddof=1) / (~z).sum()))


def prepare(scenario: Scenario) -> PreparedDGM:
    if not scenario.base:
        raise ValueError(f"scenario {scenario.name!r}: generator 'cohort' needs base = <study id>")
    factors = scenario.config
    spec = scenario_spec(scenario.base, scenario.cohort, factors)
    draw = _generator(spec, scenario.cohort)
    cohort_spec = spec.cohorts[scenario.cohort] if hasattr(spec, "cohorts") else None

    def truth(estimand: Estimand, seed) -> float:
        kind = estimand.kind
        if kind == "custom":
            return float(estimand.config["value"])
        if kind == "conditional_log_hr" and "variable" in estimand.config:
            var = estimand.config["variable"]
            hrs = [e.hr for e in cohort_spec.os.effects if e.variable == var]
            if not hrs or not isinstance(hrs[0], float):
                raise ValueError(f"scenario {scenario.name!r}: no single OS hazard ratio for {var!r}")
            return math.log(hrs[0])
        if kind == "conditional_log_hr":
            hr = getattr(getattr(cohort_spec, "os", None), "treatment_hr", None)
            if not isinstance(hr, (int, float)):
                raise ValueError(f"scenario {scenario.name!r}: the conditional HR is known only "
                                 "when the factor true_hr (or treatment_hr in cohort.toml) is a number")
            return math.log(hr)
        if kind == "log_hr_per_month":
            tv = getattr(cohort_spec, "time_varying", None)
            if tv is None:
                raise ValueError(f"scenario {scenario.name!r} has no time-varying therapy")
            return math.log(tv.hr_per_month)
        return truth_with_error(scenario, estimand, seed)[0]

    return PreparedDGM(draw, truth, f"{scenario.base}/{scenario.cohort} {factors}")
