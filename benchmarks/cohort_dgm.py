"""The ``cohort`` generator: a published study's ``cohort.toml`` edited by scenario factors.

``base`` names a study folder that simulate finds (``tacebench/studies/<id>/`` read as
data, never by importing replications code) or a ``cohort.toml`` path, optionally with
``@<world>``, a world the study declares in ``worlds.toml``; ``cohort`` the cohort
in it. The scenario's factors (:mod:`benchmarks.cohort_factors`) edit the parsed TOML; the
result goes through :func:`simulate.io.spec_from_dict` and :func:`simulate.generate_cohort`.

True values (``truth``), once per scenario, from :func:`simulate.true_estimands` (exact
potential-outcome survival curves over a large fixed covariate sample; marginal HR as the
population Cox estimand of Struthers & Kalbfleisch 1986 under the scenario's own
censoring, ``G(t) = P(C > t)`` of its administrative end, accrual and loss: the HR a Cox
model of the scenario's censored cohorts converges to. Marginal hazards are not
proportional, so the HR without censoring, every subject followed until death, differs;
it is kept as ``truth_uncensored`` (:func:`uncensored_truths`)):

* ``conditional_log_hr``: the generating treatment log-HR (or, with ``variable``, that
  covariate's OS log-HR);
* ``marginal_log_hr`` (``population = "ATE" | "ATT" | "ATC" | "ATO" | "ATM"``);
* ``rmst_difference`` (``tau``, default 12) and ``risk_difference`` at ``time`` (default 12):
  treated minus control, risk = 1 - survival, in the same populations.

ATC, ATO (overlap) and ATM (matching-weights) populations are the cohort's covariate
distribution tilted by ``1 - e``, ``e (1 - e)`` and ``min(e, 1 - e)`` of the true
propensity score ``e``; their curves come from
:func:`simulate.truth_populations.population_estimands` (the same fixed covariate sample,
exact conditional survival), the marginal HR being the same population Cox estimand.
* ``endpoint = "pfs"`` (the three kinds above; default ``"os"``): the same of PFS, for
  ATE and ATT (``simulate.true_estimands(..., endpoint="pfs")``), the conditional one the
  progression model's treatment log-HR;
* ``log_hr_per_month``: ``log(hr_per_month)`` of the time-varying therapy;
* ``custom``: ``value``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .cohort_factors import apply_factors
from .cohort_methods import method_problems
from .dgm import PreparedDGM
from .methods._common import ENDPOINTS
from .study import DEFAULT_HORIZON, Estimand, Scenario


#: Target populations of ``marginal_log_hr``, ``rmst_difference`` and ``risk_difference``.
POPULATIONS = ("ate", "att", "atc", "ato", "atm")
#: Those computed by :func:`simulate.truth_populations.population_estimands` (the
#: mixture tilted by the true PS); ATE and ATT by :func:`simulate.true_estimands`.
TILTED = ("atc", "ato", "atm")


def _raw_spec(base: str) -> dict:
    """The parsed ``cohort.toml`` of ``base`` (``"<study>@<world>"``: one of the study's
    declared worlds), read afresh (a few ms, once per scenario and worker, since
    :func:`benchmarks.dgm.prepared` keeps the prepared scenario)."""
    from tacebench.simulate.overrides import load_cohort_raw

    return load_cohort_raw(base)


def scenario_spec(base: str, cohort: str, factors: dict, extra_edit=None):
    """The simulate ``StudySpec`` of a scenario (``extra_edit(table)`` edits it further)."""
    from tacebench.simulate.io import spec_from_dict

    raw = _raw_spec(base)
    cohorts = raw.get("cohorts", {})
    if cohort not in cohorts:
        raise ValueError(f"cohort must be one of {sorted(cohorts)} for base {base!r}; got {cohort!r}")
    raw["cohorts"] = {cohort: cohorts[cohort]}
    apply_factors(cohorts[cohort], factors)
    if extra_edit is not None:
        extra_edit(cohorts[cohort])
    return spec_from_dict(raw, source=f"{base} [{cohort}] with {factors}")


def _generator(plan, measured: np.ndarray):
    """``draw(rng) -> columns`` from a compiled simulate plan; the columns gain
    ``_covariates``, the cohort's measured variables, for methods' ``covariates = ["*"]``,
    and ``_levels``, the level names of its categorical variables (stored as float codes,
    so that :func:`benchmarks.methods.design` can expand them into indicators)."""
    from tacebench.simulate import generate_cohort

    def draw(rng: np.random.Generator) -> dict[str, np.ndarray]:
        # No method reads the exact true propensity, and computing it is over half of a
        # replicate's generation time.
        cohort = generate_cohort(plan, seed=rng, with_ps=False)
        return {**cohort.columns, "_covariates": measured, "_levels": cohort.levels}
    return draw


def _batch_generator(plan, measured: np.ndarray):
    """``draw_batch(rngs) -> [columns]``: :func:`_generator`'s draws for several generators
    at once (:func:`simulate.generate_cohort_batch`: replicate ``r`` identical to
    ``generate_cohort(seed=rngs[r])``), each replicate's columns copied out of the stack."""
    from tacebench.simulate import generate_cohort_batch

    def draw_batch(rngs: list) -> list[dict[str, np.ndarray]]:
        batch = generate_cohort_batch(plan, rngs, with_ps=False)
        return [{**{k: v[r].copy() for k, v in batch.columns.items()},
                 "_covariates": measured, "_levels": batch.levels} for r in range(len(rngs))]
    return draw_batch


def _true_estimands():
    try:
        from tacebench.simulate import true_estimands
    except ImportError:  # exported from simulate's __init__ in a later commit
        from tacebench.simulate.truth import true_estimands
    return true_estimands


@dataclass(frozen=True)
class _Curves:
    """The survival curves an estimand's truth is read from: ``population`` at RMST
    horizon ``tau`` and landmark ``at``, from :func:`simulate.true_estimands` (ATE/ATT)
    or, ``tilted``, from :func:`simulate.truth_populations.population_estimands`."""

    population: str
    tau: float
    at: float
    tilted: bool
    endpoint: str = "os"


def _curves_of(estimand: Estimand) -> _Curves | None:
    """Where ``estimand``'s truth comes from; None for the kinds read off the cohort spec
    (``custom``, ``log_hr_per_month``, a covariate's ``conditional_log_hr``)."""
    kind, cfg = estimand.kind, estimand.config
    if kind in ("custom", "log_hr_per_month") or (kind == "conditional_log_hr"
                                                  and "variable" in cfg):
        return None
    population = str(cfg.get("population", "ATE")).lower()
    if population not in POPULATIONS:
        raise ValueError(f"estimand {estimand.name!r}: population must be one of "
                         f"{sorted(POPULATIONS)}; got {cfg.get('population')!r}")
    return _Curves(population, float(cfg.get("tau", DEFAULT_HORIZON)),
                   float(cfg.get("time", DEFAULT_HORIZON)),
                   population in TILTED and kind != "conditional_log_hr",
                   str(cfg.get("endpoint", "os")))


def prepare(scenario: Scenario) -> PreparedDGM:
    from tacebench.simulate import compile_plan

    if not scenario.base:
        raise ValueError(f"scenario {scenario.name!r}: generator 'cohort' needs base = <study id>")
    factors = scenario.config
    spec = scenario_spec(scenario.base, scenario.cohort, factors)
    plan = compile_plan(spec, scenario.cohort)  # calibration solved once (simulate's default PlanCache)
    cohort_spec = spec.cohort(scenario.cohort)
    # A multiselect variable's pattern column only re-codes its options' 0/1 columns, which
    # are variables of their own: as a covariate it would duplicate them (and its many
    # pattern levels separate a propensity model).
    measured = np.array([v.name for v in cohort_spec.variables if v.type != "multiselect"])

    tilted: dict = {}

    def tilted_truth(kind: str, c: _Curves, censoring: bool) -> float:
        # one covariate sample and pair of curves per population, all horizons at once
        from tacebench.simulate.truth_populations import population_estimands

        key = (c.population, c.tau, c.at, censoring)
        if key not in tilted:
            tilted[key] = population_estimands(plan, c.population.upper(), landmarks=(c.at,),
                                               taus=(c.tau,), censoring=censoring)
        true = tilted[key]
        if kind == "marginal_log_hr":
            return math.log(true.marginal_hr)
        if kind == "rmst_difference":
            return true.rmst_difference_at(c.tau)
        if kind == "risk_difference":  # risk = 1 - S: the difference changes sign
            return -true.survival_difference_at(c.at)
        raise ValueError(f"the cohort generator has no truth for estimand kind {kind!r}")

    def value(estimand: Estimand, known: dict, censoring: bool = True) -> float:
        """The true value; ``known``: ``(tau, time, censoring, endpoint) -> TrueEstimands``
        computed already; ``censoring``: the Cox estimands under the scenario's censoring (else
        every subject followed until death)."""
        kind, cfg = estimand.kind, estimand.config
        c = _curves_of(estimand)
        if c is None:
            if kind == "custom":
                return float(cfg["value"])
            if kind == "log_hr_per_month":
                if cohort_spec.time_varying is None:
                    raise ValueError(f"scenario {scenario.name!r} has no time-varying therapy")
                return math.log(cohort_spec.time_varying.hr_per_month)
            # an effect of one arm only is not the covariate's HR in the whole cohort
            hrs = [e.hr for e in cohort_spec.os.effects if e.variable == cfg["variable"] and e.arm is None]
            if len(hrs) != 1 or not isinstance(hrs[0], float):
                raise ValueError(f"scenario {scenario.name!r}: no single OS hazard ratio for "
                                 f"{cfg['variable']!r}")
            return math.log(hrs[0])
        if c.tilted:
            return tilted_truth(kind, c, censoring)
        true = known.get((c.tau, c.at, censoring, c.endpoint)) or _true_estimands()(
            plan, rmst_tau=c.tau, landmark=c.at, censoring=censoring, endpoint=c.endpoint)
        if kind == "conditional_log_hr":
            return math.log(true.conditional_hr)
        if kind == "marginal_log_hr":
            return math.log(getattr(true, f"marginal_hr_{c.population}"))
        if kind == "rmst_difference":
            return float(getattr(true, f"rmst_difference_{c.population}"))
        if kind == "risk_difference":  # risk = 1 - S: the difference changes sign
            return -float(getattr(true, f"survival_difference_{c.population}"))
        raise ValueError(f"the cohort generator has no truth for estimand kind {kind!r}")

    def truth(estimand: Estimand, seed) -> float:
        return value(estimand, {})

    known: dict = {}  # (tau, time, censoring, endpoint) -> TrueEstimands of the ATE/ATT curves

    def fill(estimands) -> None:
        # every horizon's estimands from one pair of ATE/ATT curves (the numbers of one
        # true_estimands call per horizon, see simulate.truth.true_estimands_at), and the
        # tilted populations of one horizon from one evaluation of the survival of the
        # covariate sample (simulate.truth_populations.population_estimands_many), where
        # it can be the ATE curves' own (estimands_with_populations: the same numbers);
        # the HRs under the scenario's censoring and without it from the same curves
        from tacebench.simulate.truth import true_estimands_followed
        from tacebench.simulate.truth_populations import (estimands_with_populations,
                                                          population_estimands_followed,
                                                          tilt_refusal)

        curves = [c for c in map(_curves_of, estimands) if c is not None]
        by_horizon: dict = {}
        for c in curves:
            if c.tilted and (c.population, c.tau, c.at, True) not in tilted:
                by_horizon.setdefault((c.tau, c.at), {})[c.population] = None
        if by_horizon and tilt_refusal(plan) is None:
            pairs = [p for p in dict.fromkeys((c.tau, c.at) for c in curves
                                              if not c.tilted and c.endpoint == "os")
                     if (*p, True, "os") not in known]
            truths, by_population = estimands_with_populations(
                plan, pairs, {h: [p.upper() for p in pops] for h, pops in by_horizon.items()})
            for censoring, values in truths.items():
                known.update({(*p, censoring, "os"): t for p, t in zip(pairs, values)})
            for horizon, followed in by_population.items():
                for censoring, values in followed.items():
                    for pop, true in zip(by_horizon[horizon], values):
                        tilted[(pop, *horizon, censoring)] = true
            by_horizon = {}
        for endpoint in dict.fromkeys(c.endpoint for c in curves if not c.tilted):
            pairs = [p for p in dict.fromkeys((c.tau, c.at) for c in curves
                                              if not c.tilted and c.endpoint == endpoint)
                     if (*p, True, endpoint) not in known]
            if pairs:
                for censoring, values in true_estimands_followed(
                        plan, pairs, endpoint=endpoint).items():
                    known.update({(*p, censoring, endpoint): t for p, t in zip(pairs, values)})
        for (tau, at), pops in by_horizon.items():
            for censoring, values in population_estimands_followed(
                    plan, [p.upper() for p in pops], landmarks=(at,), taus=(tau,)).items():
                for pop, true in zip(pops, values):
                    tilted[(pop, tau, at, censoring)] = true

    def truths(estimands, seeds) -> list[float]:
        fill(estimands)
        return [value(e, known) for e in estimands]

    def uncensored_truths(estimands, seeds) -> list[float]:
        fill(estimands)
        return [value(e, known, censoring=False) for e in estimands]

    return PreparedDGM(_generator(plan, measured), truth, f"{scenario.base}/{scenario.cohort} {factors}",
                       generate_batch=_batch_generator(plan, measured), truths=truths,
                       uncensored_truths=uncensored_truths)


def check(scenario: Scenario, estimands: list[Estimand]) -> list[str]:
    """What :func:`prepare` would refuse, found without compiling anything: no or an
    unknown base study or world, a cohort the base does not have, factors that cannot be
    applied to it (an arm scaled below two patients), estimands whose truth needs a treated
    and a control arm the base does not have, an estimand option this generator does not
    read (a misspelt ``popluation`` left the ATE's truth in place) or a bad value of one,
    a covariate without a single OS hazard ratio, a per-month log HR without time-varying
    therapy (:func:`benchmarks.dgm.check_scenarios`)."""
    out, needs = [], []
    for e in estimands:
        opts = _option_problems(e)
        out += opts
        if opts:
            continue
        try:
            if _curves_of(e) is not None:
                needs.append(e.name)
        except ValueError as exc:
            out.append(str(exc))
    spec, problems = _base_spec(scenario, needs)
    if spec is not None:
        problems += [msg for e in estimands if not _option_problems(e)
                     for msg in _truth_problems(e, spec.cohort(scenario.cohort))]
    return problems + out


#: The options of each estimand kind that the cohort generator reads (README "Estimands").
ESTIMAND_OPTIONS = {"conditional_log_hr": ("variable", "endpoint"),
                    "marginal_log_hr": ("population", "endpoint"),
                    "rmst_difference": ("tau", "population", "endpoint"),
                    "risk_difference": ("time", "population", "endpoint"),
                    "log_hr_per_month": (), "custom": ("value",)}


def _option_problems(e: Estimand) -> list[str]:
    """Unknown options of ``e``'s kind, and options of the wrong type or range."""
    cfg, allowed = e.config, ESTIMAND_OPTIONS.get(e.kind, ())
    out = []
    extra = sorted(k for k in cfg if k not in allowed)
    if extra:
        out.append(f"estimand {e.name!r}: unknown option(s) {extra} for kind {e.kind!r}; "
                   f"its options are {list(allowed)}")
    for key in ("tau", "time"):
        v = cfg.get(key)
        if key in cfg and (isinstance(v, bool) or not isinstance(v, (int, float))
                           or not 0 < v < math.inf):
            out.append(f"estimand {e.name!r}: {key} must be a positive number of months; "
                       f"got {v!r}")
    if "population" in cfg and not isinstance(cfg["population"], str):
        out.append(f"estimand {e.name!r}: population must be one of "
                   f"{[p.upper() for p in POPULATIONS]}; got {cfg['population']!r}")
    if "endpoint" in cfg and cfg["endpoint"] not in ENDPOINTS:
        out.append(f"estimand {e.name!r}: endpoint must be one of {list(ENDPOINTS)}; got "
                   f"{cfg['endpoint']!r}")
    elif cfg.get("endpoint") == "pfs" and "variable" in cfg:
        out.append(f"estimand {e.name!r}: a covariate's conditional log HR (variable) is "
                   f"read off the OS model; endpoint 'pfs' has none")
    elif (cfg.get("endpoint") == "pfs" and isinstance(cfg.get("population"), str)
          and cfg["population"].lower() in TILTED and e.kind != "conditional_log_hr"):
        out.append(f"estimand {e.name!r}: endpoint 'pfs' has true values for populations "
                   f"ATE and ATT only; got {cfg['population']!r}")
    if "variable" in cfg and not isinstance(cfg["variable"], str):
        out.append(f"estimand {e.name!r}: variable must be a covariate's name; got "
                   f"{cfg['variable']!r}")
    value = cfg.get("value")
    if e.kind == "custom" and (isinstance(value, bool) or not isinstance(value, (int, float))):
        out.append(f"estimand {e.name!r}: kind 'custom' needs value = <number>; got "
                   f"{value!r}")
    return out


def _truth_problems(e: Estimand, cohort_spec) -> list[str]:
    """What :func:`prepare`'s truth would refuse for ``e`` on the scenario's cohort."""
    if e.config.get("endpoint") == "pfs" and cohort_spec.pfs is None:
        return [f"estimand {e.name!r}: endpoint 'pfs' needs a cohort with a PFS model "
                f"(an [outcomes.pfs] section)"]
    if e.kind == "log_hr_per_month" and cohort_spec.time_varying is None:
        return [f"estimand {e.name!r}: kind 'log_hr_per_month' needs a cohort with "
                f"time-varying therapy (a [time_varying] section, kept unless the factor "
                f"immortal_time is false)"]
    variable = e.config.get("variable")
    if e.kind == "conditional_log_hr" and variable is not None:
        hrs = [x.hr for x in cohort_spec.os.effects if x.variable == variable and x.arm is None]
        if len(hrs) != 1 or not isinstance(hrs[0], float):
            return [f"estimand {e.name!r}: the cohort has no single OS hazard ratio for "
                    f"variable {variable!r} (set one with the factor effect_hr)"]
    return []


def _base_spec(scenario: Scenario, needs: list[str]) -> tuple[object | None, list[str]]:
    """:func:`check`'s problems of the base study, with its factors applied (no
    compilation: an arm scaled below two patients was found only after the run's folder
    was written), and the scenario's ``StudySpec`` when it builds; ``needs``: the
    estimands whose truth needs a treated and a control arm."""
    if not scenario.base:
        return None, ["generator 'cohort' needs base = <study id>"]
    try:  # (an unknown base, world or cohort is refused here, as prepare refuses it)
        spec = scenario_spec(scenario.base, scenario.cohort, scenario.config)
    except ValueError as exc:
        return None, [str(exc)]
    treated = {bool(a.treated) for a in spec.cohort(scenario.cohort).arms}
    if needs and treated != {True, False}:
        return spec, [f"base {scenario.base!r} has no treated and control arm: the true "
                      f"values of {needs} need both"]
    return spec, []


def check_methods(scenario: Scenario, methods) -> list[str]:
    """What ``methods`` need of the scenario's cohorts
    (:func:`benchmarks.cohort_methods.method_problems`; a base that does not build is
    :func:`check`'s to name)."""
    try:
        spec = scenario_spec(scenario.base, scenario.cohort, scenario.config)
    except (ValueError, TypeError):
        return []
    return method_problems(scenario, spec.cohort(scenario.cohort), methods,
                           lambda: prepare(scenario).generate(np.random.default_rng(0)))


prepare.check = check  # (benchmarks.dgm.check_scenarios looks for them)
prepare.check_methods = check_methods
