"""Bind an analysis plan and its targets to a cohort schema, once, before any replicate.

:func:`compile_study` checks every analysis against what the cohort generates and every
simulated target against the analysis it names, collecting all problems, and returns
:class:`CompiledAnalysis` objects whose :meth:`~CompiledAnalysis.run` maps one replicate's
cohort arrays to one value per target, with no parsing or pandas on the hot path.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, NamedTuple, Sequence

import numpy as np

from tacebench.records import ArrayRecord

from . import kernels
from .adjustments import ADJUSTMENTS, CompiledAdjustment, compile_adjustment, run_adjustment
from .estimates import ESTIMATES, Context, Request, estimate_for
from .plan import Analysis, AnalysisPlan
from .populations import compile_population, validate_population
from .problems import MISSING, SPEC_GAP, Problems
from .responders import compile_responders
from .schema import Schema
from .terms import TermError, bind_terms, parse_term, split_condition

__all__ = ["CompiledAnalysis", "Failure", "Note", "Prepared", "compile_analyses",
           "compile_responders", "bind_target", "SIMULATED_ROLES", "reported_value"]

Note = kernels.Note


def reported_value(t) -> tuple[float | None, str]:
    """The printed number a target is judged on and its quantity: its value, or its count
    when only the count of a rate is printed ("seven patients had died"), or +inf for a
    median printed as not reached."""
    value, quantity = _field(t, "value"), _field(t, "quantity")
    if "value" in (_field(t, "not_reached") or ()):
        return np.inf, quantity         # a median not reached: judged by how often it is not
    if quantity == "p_value":
        return _field(t, "p"), quantity     # a bound (p_text) is not a value to place
    if value is None and quantity == "rate" and _field(t, "count") is not None:
        return _field(t, "count"), "count"
    return value, quantity

#: Target roles the reproduction simulates; ``reported`` targets are audited only.
SIMULATED_ROLES = ("calibration", "predicted")

_DUMMY = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\[(.+)\]$")


@dataclass(eq=False)
class CompiledAnalysis(ArrayRecord):
    analysis: Analysis
    schema: Schema
    population: Any
    adjustment: CompiledAdjustment
    responders: Mapping[str, np.ndarray]
    requests: list[Request] = field(default_factory=list)
    shown: list = field(default_factory=list)   # (show.ShownEstimate, Request), not judged

    def run(self, cols: Mapping, rng, adjustment: CompiledAdjustment | None = None,
            requests: Sequence[Request] | None = None, cache: dict | None = None,
            diagnose: bool = True
            ) -> tuple[np.ndarray, tuple[Failure, ...], tuple[Note, ...]]:
        """Values of ``requests`` (default: all) on one replicate, why some are NaN, and
        the diagnostics of the adjustment.

        Every NaN value comes with a :class:`Failure`: ``index`` None when the adjustment
        itself is not estimable on this replicate (an empty arm, no match...: every
        request is NaN), else the request's position (its model failed, or the estimate
        has no value, e.g. a time beyond follow-up). A :class:`Note` is what R would warn
        about without stopping (a separated propensity model): it makes no value NaN.
        ``diagnose=False`` skips the notes (the exact separation check is a linear
        program; the leave-one-covariate-out reruns do not report notes). ``cache`` is a
        dict shared by the analyses of one replicate (never across replicates): propensity
        fits on the same rows and terms are computed once.
        """
        return self.evaluate(self.prepare(cols, rng, adjustment, requests, cache), diagnose)

    def subset(self, cols: Mapping, cache: dict | None = None):
        """The analysed population of ``cols`` (:mod:`.populations`), kept in the
        replicate's ``cache``: the analysis's readings, its leave-one-covariate-out reruns
        and the propensity prefit select the same rows. It draws nothing."""
        if cache is None:
            return self.population(cols)
        key = ("population", id(self.population))
        if key not in cache:
            cache[key] = self.population(cols)
        return cache[key]

    def prepare(self, cols: Mapping, rng, adjustment: CompiledAdjustment | None = None,
                requests: Sequence[Request] | None = None, cache: dict | None = None
                ) -> Prepared:
        """The first half of :meth:`run`: the population and the adjustment (the only
        part that draws random numbers), giving the analysed sample. :meth:`evaluate`
        then computes the estimates; between the two, fits that many samples share can
        be put in their caches (:mod:`.cox_prefit`)."""
        requests = tuple(self.requests if requests is None else requests)
        adj = adjustment or self.adjustment
        try:
            subset = self.subset(cols, cache)
            adjusted = run_adjustment(adj, cols, subset, rng, cache)
        except (kernels.FitFailure, np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
            return Prepared(requests, None, _failure(None, exc), None)
        ctx = Context(cols, adjusted, subset, adj, self.responders, self.analysis.ties,
                      self.analysis.smd_sd, requests, shared=cache)
        return Prepared(requests, ctx, None, adjusted)

    def evaluate(self, prepared: Prepared, diagnose: bool = True
                 ) -> tuple[np.ndarray, tuple[Failure, ...], tuple[Note, ...]]:
        """The second half of :meth:`run`: the estimates of a prepared sample."""
        requests, ctx = prepared.requests, prepared.ctx
        out = np.full(len(requests), np.nan)
        if ctx is None:
            return out, (prepared.failure,), ()
        failures = []
        # one errstate for all the requests (entering one costs as much as a small ufunc;
        # an analysis runs ~6 requests on each of ~12,000 samples of a replicate command)
        with np.errstate(all="ignore"):
            for i, req in enumerate(requests):
                try:
                    value = out[i] = ESTIMATES[req.estimate].fn(ctx, req)
                except (kernels.FitFailure, np.linalg.LinAlgError, ValueError,
                        FloatingPointError, ZeroDivisionError) as exc:
                    failures.append(_failure(i, exc))
                    continue
                if math.isnan(value):       # (a Python test: np.isnan of a scalar costs 1 us)
                    failures.append(Failure(i, _NO_VALUE.get(req.estimate, "no value")))
        return out, tuple(failures), tuple(prepared.adjusted.notes) if diagnose else ()


class Failure(NamedTuple):
    """Why a replicate has no value: ``index`` None for the whole analysis, else the
    request; ``reason`` a canonical phrase counted over replicates; ``details`` extra
    diagnostics (e.g. a covariate level with no patient in one arm)."""

    index: int | None
    reason: str
    details: tuple[str, ...] = ()


class Prepared(NamedTuple):
    """One analysed sample between :meth:`CompiledAnalysis.prepare` and
    :meth:`~CompiledAnalysis.evaluate`: the requests, the sample's :class:`Context` (None
    when the adjustment is not estimable, ``failure`` then says why) and the adjusted
    sample, whose notes are computed on demand."""

    requests: tuple
    ctx: Context | None
    failure: Failure | None
    adjusted: Any


#: Estimates that may legitimately return NaN, and what that NaN means.
_NO_VALUE = {
    "km_rate": "time beyond the last follow-up", "arr": "time beyond the last follow-up",
    "nnt": "time beyond the last follow-up",
    "hr": "term not in the fitted model (not selected, or constant)",
    "median_difference": "median not reached in either arm",
    **dict.fromkeys(("risk", "risk_difference", "risk_ratio", "rmst_difference"),
                    "time beyond the last follow-up"),
}


def _failure(index, exc: Exception) -> Failure:
    if isinstance(exc, kernels.FitFailure):
        return Failure(index, exc.reason, exc.details)
    return Failure(index, _reason(exc))


def _reason(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    return (text[:70] or type(exc).__name__)


def _field(t, name, default=None):
    if isinstance(t, Mapping):
        return t.get(name, default)
    return getattr(t, name, default)


def compile_analyses(plan: AnalysisPlan, schemas: Mapping[str, Schema], problems: Problems,
                     levels: Mapping[str, Mapping] | None = None
                     ) -> dict[str, CompiledAnalysis]:
    """Compile every analysis; problems (bad covariates, cohorts...) go to ``problems``."""
    out = {}
    for a in plan.analyses:
        if not a.valid:
            continue
        schema = schemas.get(a.cohort)
        if schema is None:
            problems.add(f"{a.key}.cohort", a.cohort, f"no such cohort in cohort.toml; "
                         f"cohorts are {sorted(schemas)}", "unknown-cohort")
            continue
        add = problems.add
        errors = len(problems.errors)
        validate_population(a.population, schema, add, f"{a.key}.population")
        # (compile_population takes the steps as valid: an unknown arm has no code)
        bad = len(problems.errors) > errors
        kind = ADJUSTMENTS[a.method]
        if kind.needs_two_arms and not schema.comparative:
            add(f"{a.key}.adjustment.method", a.method, "needs two arms; the cohort has "
                f"{list(schema.arms)}", "incompatible")
            continue
        for opt in ("covariates", "outcome_covariates", "on", "treatment_covariates"):
            for j, term in enumerate(a.options.get(opt) or ()):
                try:
                    bind_terms([term], schema, (levels or {}).get(a.cohort))
                except TermError as exc:
                    add(f"{a.key}.adjustment.{opt}[{j}]", term.text, str(exc), "not-generated")
                    bad = True
        focal = a.options.get("focal")
        if focal is not None and focal not in schema.arms:
            add(f"{a.key}.adjustment.focal", focal, f"no such arm; arms are {list(schema.arms)}",
                "unknown-arm")
            bad = True
        for j, e in enumerate(a.estimates):
            if ESTIMATES[e].comparative and not schema.comparative:
                add(f"{a.key}.estimates[{j}]", e, "needs two arms", "incompatible")
        if bad:
            continue
        responders = compile_responders(plan.response, schema, add)
        lv = (levels or {}).get(a.cohort)
        out[a.name] = CompiledAnalysis(
            a, schema, compile_population(a.population, schema, lv),
            compile_adjustment(a.method, a.options, schema, lv, a.missing), responders)
    return out


def bind_target(t, i: int, compiled: Mapping[str, CompiledAnalysis], plan: AnalysisPlan,
                problems: Problems, key: str | None = None) -> Request | None:
    """Turn a simulated target into a :class:`Request` on its analysis, or report why not
    (under ``key``, default ``targets[i]``; a shown estimate of analysis.toml passes its
    own)."""
    add = problems.add
    key = key or f"targets[{i}]"
    tid = _field(t, "id")
    name = _field(t, "analysis")
    if name not in plan.names:
        add(f"{key}.analysis", name if name is not None else MISSING,
            f"target {tid!r} points at an analysis that analysis.toml does not define "
            f"(defined: {list(plan.names)})", "missing-analysis")
        return None
    ca = compiled.get(name)
    if ca is None:
        return None             # the analysis itself has problems, already reported
    a, schema = ca.analysis, ca.schema
    quantity = _field(t, "quantity")
    endpoint = _field(t, "endpoint")
    level = _field(t, "level")
    spec = plan.response.get(endpoint)
    if spec is not None and spec.levels == "level" and level is not None:
        endpoint = f"{endpoint}:{level}"        # one best-response category (e.g. PR)
    quantity = reported_value(t)[1]             # only a count printed: judge the count
    ep_class = ("response" if endpoint in ca.responders else
                "survival" if endpoint in schema.endpoints else None)
    if ep_class is None and spec is not None:    # declared, on a column not generated
        add(f"{key}.endpoint", endpoint, f"target {tid!r}: the response endpoint reads column "
            f"{spec.column!r}, which the cohort does not generate; {SPEC_GAP}",
            "not-generated", "warning")
        return None
    est = estimate_for(quantity, ep_class)
    if est == "paired_test" and est not in a.estimates:
        est = None                  # only a matched analysis's paired p-values are simulated
    if est is None:
        why = (f"the endpoint {endpoint!r} is neither a survival endpoint the cohort "
               f"generates {list(schema.endpoints)} nor a response endpoint of [response]"
               if endpoint is not None and quantity in ("rate", "count")
               else "no estimate of the analysis vocabulary computes this quantity")
        add(f"{key}.quantity", quantity, f"target {tid!r}: {why}; {SPEC_GAP}",
            "unknown-quantity", "warning")
        return None
    kind = ESTIMATES[est]
    if est not in a.estimates:
        add(f"{key}.quantity", quantity, f"target {tid!r} needs estimate {est!r}, which "
            f"analysis {name!r} does not list in `estimates`", "estimate-not-listed")
        return None
    if kind.endpoint == "survival" and endpoint not in schema.endpoints:
        add(f"{key}.endpoint", endpoint, f"target {tid!r}: the cohort generates no such "
            f"survival endpoint (it has {list(schema.endpoints)}); {SPEC_GAP}",
            "not-generated", "warning")
        return None
    if kind.endpoint == "survival" and est == "events" and level not in (None, "deaths",
                                                                         "events"):
        add(f"{key}.level", level, f"target {tid!r}: an event count or rate counts events; "
            f"other levels are not computed; {SPEC_GAP}", "unknown-level",
            "warning")
        return None
    if kind.endpoint == "response" and endpoint not in ca.responders:
        add(f"{key}.endpoint", endpoint, f"target {tid!r} needs a response endpoint defined "
            f"in [response] and a cohort response column it reads; {SPEC_GAP}", "not-generated",
            "warning")
        return None
    arm_code, sign, term, term_model, time = None, 1.0, None, None, _field(t, "time")
    arm = _field(t, "arm")
    contrast = _field(t, "contrast")
    req_fields = set(kind.requires)
    if "contrast|term" in req_fields:
        req_fields.discard("contrast|term")
        req_fields.add("term" if _field(t, "term") else "contrast")
    if "arm" in req_fields or (arm is not None and est in ("events", "followup",
                                                           "group_size")):
        if arm not in schema.arms:
            add(f"{key}.arm", arm if arm is not None else MISSING, f"target {tid!r}: arm must "
                f"be one of {list(schema.arms)}", "unknown-arm")
            return None
        arm_code = schema.arms.index(arm)
    if "contrast" in req_fields:
        if (not isinstance(contrast, (list, tuple)) or len(contrast) != 2
                or set(contrast) != set(schema.arms)):
            add(f"{key}.contrast", contrast if contrast is not None else MISSING,
                f"target {tid!r}: contrast must list the two arms {list(schema.arms)}",
                "unknown-arm")
            return None
        sign = 1.0 if contrast[0] == schema.treated_arm else -1.0
    if "time" in req_fields and not isinstance(time, (int, float)):
        add(f"{key}.time", time if time is not None else MISSING,
            f"target {tid!r}: {quantity} needs `time` in months", "malformed")
        return None
    if "term" in req_fields:
        text = _field(t, "term")
        alias = plan.term_for(text, level)
        if est == "proportion" and level is not None and isinstance(text, str) and \
                f"{text}:{level}" not in plan.aliases:
            # a share of one level: the level selects it, of the variable itself or of the
            # variable a label alias renames; an alias to a condition ("age>=60") is one
            # share for every level, so it would compute the "<60" cell as the ">=60" one
            if not (isinstance(alias, str) and alias.isidentifier()):
                add(f"{key}.level", level, f"target {tid!r}: [aliases] {text} = {alias!r} "
                    f"names one share for every level of {text!r}; write the level's own, "
                    f"\"{text}:{level}\" = \"...\" in [aliases]; {SPEC_GAP}",
                    "not-generated", "warning")
                return None
            text = split_condition(alias, level, ca.schema) or f"{alias}=={level}"
        else:
            text = alias
        term, term_model, problem = _bind_term(text, ca, est)
        if problem:
            add(f"{key}.term", text or MISSING, f"target {tid!r}: {problem}; {SPEC_GAP}",
                "not-generated", "warning")
            return None
    return Request(tid, est, quantity, endpoint if kind.endpoint else None, arm_code, sign,
                   float(time) if time is not None else None, term, term_model, _field(t, "test"))


def _bind_term(text, ca: CompiledAnalysis, est: str):
    """Where a covariate target's column lives: the outcome model, or its own model."""
    if isinstance(text, Mapping):               # an alias to a {variable, cut} table
        try:
            bound = bind_terms([parse_term(text)], ca.schema)
        except TermError as exc:
            return None, None, str(exc)
        if est == "balance":
            return bound.names[0], bound, None
        return None, None, "a cut table makes several columns; name one of them"
    if not isinstance(text, str) or not text:
        return None, None, "needs `term`, the covariate (as written in analysis.toml)"
    outcome = ca.adjustment.outcome_terms
    if est == "hr" and outcome is not None:
        if text in outcome.names:
            return text, None, None
        return None, None, (f"{text!r} is not a column of the analysis's outcome model "
                            f"{list(outcome.names)}")
    m = _DUMMY.match(text)
    try:
        term = parse_term(m.group(1) if m else text)
        bound = bind_terms([term], ca.schema)
    except TermError as exc:
        return None, None, str(exc)
    if est == "balance" and m is None:
        return text, bound, None            # the whole variable (multi-level SMD if needed)
    if text not in bound.names and len(bound.names) == 1 and m is None:
        return bound.names[0], bound, None  # a two-level categorical: its one dummy
    if text not in bound.names:
        return None, None, (f"{text!r} gives columns {list(bound.names)}; name one of them")
    if est in ("proportion", "mean", "balance") and len(bound.names) == 1:
        part = bound.parts[0]
        if est == "proportion" and part.kind == "raw" and \
                ca.schema.columns[part.term.variable].kind not in ("binary",):
            return None, None, f"{text!r} is not a 0/1 column; write a condition"
    if len(bound.names) > 1:
        from .terms import BoundTerms, _Bound
        part = bound.parts[0]
        k = bound.names.index(text)
        bound = BoundTerms((_Bound(part.term, (text,), part.kind, (part.codes[k],)),))
    return text, bound, None
