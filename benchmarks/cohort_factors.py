"""Scenario factors as edits of a study's parsed ``cohort.toml`` (before simulate reads it).

Each factor of a ``[[dgm]]`` grid with ``generator = "cohort"`` is one entry of
:data:`FACTORS`: a function ``(cohort_table, value, context)`` that edits the cohort's raw
TOML table in place. Working on the data, not on simulate's objects, keeps the DGM
declarative: a scenario is the published cohort plus a few named changes.

Per-arm summaries given as counts are first turned into proportions of the published arm
size, so that changing ``n`` keeps every published distribution.
"""
from __future__ import annotations

import math
from typing import Any, Callable

# ---------------------------------------------------------------------------- helpers


def _arms(cohort: dict) -> list[dict]:
    return cohort["arms"]


def _treated_arm(cohort: dict) -> dict:
    return next(a for a in _arms(cohort) if a.get("treated"))


def _control_arm(cohort: dict) -> dict:
    return next(a for a in _arms(cohort) if not a.get("treated"))


def counts_to_proportions(cohort: dict) -> None:
    """Rewrite per-arm ``count`` / ``counts`` as ``p`` / ``proportions`` of the arm size."""
    n_of = {a["label"]: a["n"] for a in _arms(cohort)}
    for var in cohort.get("variables", []):
        for label, s in var.get("arms", {}).items():
            if "counts" in s:
                tot = sum(s["counts"])
                s["proportions"] = [c / tot for c in s.pop("counts")]
            if "count" in s:
                s["p"] = s.pop("count") / n_of[label]
        # a multiselect's pooled distribution of the number of options chosen
        n_selected = var.get("n_selected")
        if isinstance(n_selected, dict) and "counts" in n_selected:
            tot = sum(n_selected["counts"])
            n_selected["proportions"] = [c / tot for c in n_selected.pop("counts")]


def _scale_arms(cohort: dict, sizes: dict[str, int], ctx: dict) -> None:
    old_n = {a["label"]: a["n"] for a in _arms(cohort)}
    old = sum(old_n.values())
    for a in _arms(cohort):
        a["n"] = int(sizes[a["label"]])
        if a["n"] < 2:
            raise ValueError(f"arm {a['label']!r} would have {a['n']} "
                             f"patient{'s' * (a['n'] != 1)}; need >= 2")
    new = sum(a["n"] for a in _arms(cohort))
    if any(abs(a["n"] / new - old_n[a["label"]] / old) > 1e-12 for a in _arms(cohort)):
        # A multiselect's pooled count of options chosen was published for the paper's arm
        # mix; with another mix it contradicts the per-arm option shares, which are kept
        # (with at_least_one), and the number of options per patient follows from them.
        for var in cohort.get("variables", []):
            if var.get("type") == "multiselect":
                var.pop("n_selected", None)
    cens = cohort.get("censoring", {})
    if isinstance(cens.get("events"), dict):  # keep the published event fraction
        cens["events"]["value"] = max(1, round(cens["events"]["value"] * new / old))
    ctx["n_scale"] = new / old


# ---------------------------------------------------------------------------- factors


def _n(cohort, value, ctx):
    total = sum(a["n"] for a in _arms(cohort))
    raw = {a["label"]: a["n"] * value / total for a in _arms(cohort)}
    sizes = {k: math.floor(v) for k, v in raw.items()}
    short = int(value) - sum(sizes.values())  # largest remainder rounding
    for k in sorted(raw, key=lambda k: raw[k] - sizes[k], reverse=True)[:short]:
        sizes[k] += 1
    _scale_arms(cohort, sizes, ctx)


def _treated_fraction(cohort, value, ctx):
    if not 0 < value < 1:
        raise ValueError(f"treated_fraction must lie in (0, 1); got {value!r}")
    total = sum(a["n"] for a in _arms(cohort))
    t, c = _treated_arm(cohort), _control_arm(cohort)
    _scale_arms(cohort, {t["label"]: round(total * value), c["label"]: total - round(total * value)}, ctx)


def _control_n(cohort, value, ctx):
    sizes = {a["label"]: a["n"] for a in _arms(cohort)}
    sizes[_control_arm(cohort)["label"]] = int(value)
    _scale_arms(cohort, sizes, ctx)


def _treated_n(cohort, value, ctx):
    sizes = {a["label"]: a["n"] for a in _arms(cohort)}
    sizes[_treated_arm(cohort)["label"]] = int(value)
    _scale_arms(cohort, sizes, ctx)


_LOCATION = ("mean", "median", "q1", "q3", "min", "max")


def _imbalance(cohort, value, ctx):
    """Scale every between-arm difference in the baseline table by ``value`` around the
    pooled (size-weighted) value: 0 = balanced arms, 1 = as published, 2 = doubled."""
    if value < 0:
        raise ValueError(f"imbalance must be >= 0; got {value!r}")
    if cohort.get("assignment", "arm_marginals") != "arm_marginals":
        raise ValueError("imbalance applies to assignment = 'arm_marginals' cohorts")
    n_of = {a["label"]: a["n"] for a in _arms(cohort)}
    for var in cohort.get("variables", []):
        arms = var.get("arms", {})
        labels = [k for k in arms if k in n_of]
        if len(labels) < 2:
            continue
        w = {k: n_of[k] / sum(n_of[j] for j in labels) for k in labels}
        if all("proportions" in arms[k] for k in labels):
            pooled = [sum(w[k] * arms[k]["proportions"][i] for k in labels)
                      for i in range(len(arms[labels[0]]["proportions"]))]
            for k in labels:
                p = [max(1e-4, q + value * (x - q)) for x, q in zip(arms[k]["proportions"], pooled)]
                arms[k]["proportions"] = [x / sum(p) for x in p]
        elif all("p" in arms[k] for k in labels):
            pooled = sum(w[k] * arms[k]["p"] for k in labels)
            for k in labels:
                arms[k]["p"] = min(1 - 1e-4, max(1e-4, pooled + value * (arms[k]["p"] - pooled)))
        else:
            loc = next((f for f in ("mean", "median") if all(f in arms[k] for k in labels)), None)
            if loc is None:
                continue
            pooled = sum(w[k] * arms[k][loc] for k in labels)
            for k in labels:
                shift = (value - 1.0) * (arms[k][loc] - pooled)
                for f in _LOCATION:
                    if f in arms[k]:
                        arms[k][f] += shift


def _endpoint(cohort, name="os") -> dict:
    out = cohort.get("outcomes", {}).get(name)
    if out is None:
        raise ValueError(f"the cohort has no outcomes.{name}")
    return out


def _proportional(cohort, name="os") -> dict:
    """The endpoint as a proportional-hazards model: one treatment HR at all times, so
    arm-specific hazards and the crude-HR target that calibrates them are dropped."""
    out = _endpoint(cohort, name)
    out["hazards"] = "proportional"
    out["calibrate"] = [t for t in out.get("calibrate", []) if t.get("kind") != "hr"]
    return out


def _true_hr(cohort, value, ctx):
    """A known conditional treatment HR: a proportional-hazards truth."""
    _proportional(cohort)["treatment_hr"] = float(value)


def _pfs_true_hr(cohort, value, ctx):
    _proportional(cohort, "pfs")["treatment_hr"] = float(value)


def _os_proportional(cohort, value, ctx):
    if value:
        _proportional(cohort)


def _prognostic(cohort, value, ctx):
    """Multiply every covariate log-HR of OS (and PFS) by ``value`` (0 = not prognostic)."""
    for name in ("os", "pfs"):
        for eff in cohort.get("outcomes", {}).get(name, {}).get("effects", []):
            hr = eff["hr"]
            eff["hr"] = ([h ** value for h in hr] if isinstance(hr, list) else hr ** value)


def _effect_hr(cohort, value, ctx):
    """``{variable: hr}``: set the OS hazard ratio of named covariates in every arm (added
    if absent)."""
    if not isinstance(value, dict):
        raise ValueError(f"effect_hr must be a table {{variable = hr}}; got {value!r}")
    os_ = _endpoint(cohort)
    effects = os_.setdefault("effects", [])
    for var, hr in value.items():
        for eff in effects:
            if eff["variable"] == var and eff.get("arm") is None:
                eff["hr"] = float(hr)
                break
        else:
            effects.append({"variable": var, "hr": float(hr)})


def _unmeasured(key):
    def apply(cohort, value, ctx):
        u = cohort.setdefault("unmeasured", {"name": "u_socioeconomic", "prevalence": 0.5})
        u[key] = float(value)
    return apply


def _censoring(key):
    def apply(cohort, value, ctx):
        cens = cohort.setdefault("censoring", {})
        cens[key] = value
        if key == "loss_rate" and not isinstance(value, str):
            cens.pop("events", None)
    return apply


def _immortal_time(cohort, value, ctx):
    if not value:
        cohort.pop("time_varying", None)
    elif "time_varying" not in cohort:
        raise ValueError("immortal_time = true needs a cohort with a [time_varying] section")


def _hr_per_month(cohort, value, ctx):
    if "time_varying" not in cohort:
        raise ValueError("hr_per_month needs a cohort with a [time_varying] section")
    cohort["time_varying"]["hr_per_month"] = float(value)


def _therapy_inclusion(cohort, value, ctx):
    # false: drop the inclusion on months of therapy (death no longer left-truncated at
    # start + min_months); true: keep it, which the cohort file must state
    tv = cohort.get("time_varying")
    if not value:
        if tv is not None:
            tv.pop("inclusion", None)
    elif tv is None or "inclusion" not in tv:
        raise ValueError("therapy_inclusion = true needs time_varying.inclusion in the cohort file")


def _missing(cohort, value, ctx):
    if not value:
        cohort.pop("missing", None)


def _response(cohort, value, ctx):
    if not value:  # the further response columns (later assessments, organs) go with it
        cohort.pop("response", None)
        cohort.pop("response_columns", None)
    elif ctx.get("n_scale", 1.0) != 1.0:
        raise ValueError("response = true cannot be combined with a change of arm sizes")


#: Factor name -> edit of the cohort table; what each does is in its docstring / name.
FACTORS: dict[str, Callable[[dict, Any, dict], None]] = {
    "n": _n,                              # total size, arms scaled proportionally
    "treated_fraction": _treated_fraction,
    "control_n": _control_n,              # e.g. seed 003's 26-patient control arm
    "treated_n": _treated_n,
    "imbalance": _imbalance,              # measured confounding: x published arm differences
    "prognostic": _prognostic,            # x covariate log-HRs
    "effect_hr": _effect_hr,              # {variable = hr}: one covariate's OS HR
    "true_hr": _true_hr,                  # conditional treatment HR for OS (1 = null)
    "pfs_true_hr": _pfs_true_hr,
    "os_proportional": _os_proportional,  # true: OS with one treatment HR (no arm-specific hazards)
    "u_prevalence": _unmeasured("prevalence"),
    "u_treatment_or": _unmeasured("treatment_or"),   # hidden confounder -> treatment
    "u_os_hr": _unmeasured("os_hr"),                 # hidden confounder -> death
    "loss_rate": _censoring("loss_rate"),            # per month, or "calibrate"
    "follow_up": _censoring("follow_up"),
    "accrual": _censoring("accrual"),
    "administrative_max": _censoring("administrative_max"),
    "immortal_time": _immortal_time,      # keep / drop time-varying systemic therapy
    "hr_per_month": _hr_per_month,        # true effect per month of therapy
    "therapy_inclusion": _therapy_inclusion,  # keep / drop the inclusion on months of therapy
    "missing": _missing,                  # keep covariate missingness (default: dropped)
    "response": _response,                # keep tumour response (default: dropped)
}

#: Applied in this order, so that sizes are settled before distributions are rescaled.
ORDER = ("n", "treated_fraction", "control_n", "treated_n", "imbalance")


def apply_factors(cohort: dict, factors: dict[str, Any]) -> dict:
    """Edit a cohort table for a scenario; returns a context (e.g. ``n_scale``)."""
    unknown = sorted(set(factors) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown factor(s) {unknown}; known: {sorted(FACTORS)}")
    ctx: dict[str, Any] = {}
    counts_to_proportions(cohort)
    # The benchmark methods analyse complete OS data: missingness and tumour response are
    # generated only when a scenario asks for them.
    factors = {"missing": False, "response": False, **factors}
    for key in sorted(factors, key=lambda k: (ORDER.index(k) if k in ORDER else len(ORDER))):
        try:
            FACTORS[key](cohort, factors[key], ctx)
        except (KeyError, TypeError, StopIteration) as exc:
            raise ValueError(f"factor {key}={factors[key]!r} does not fit this cohort: {exc!r}") from None
    return ctx
