"""What the methods of a scenario need of the ``cohort`` generator's cohorts, checked at load
(:func:`benchmarks.dgm.scenario_problems`), without compiling the scenario unless a name is
in doubt: every column a method names (covariates, adjustment, balance and exact-matching
variables, the exposure) must be a column of the cohort; a method comparing the arms needs a
treated and a control arm; the ``immortal`` family needs time-varying therapy; and, with
``missing = true``, no method may use a covariate with missing values (no family handles
them: a Cox model's NaN estimate, a propensity model that fails, in every replicate).
"""
from __future__ import annotations

#: Columns every cohort may have beyond its variables (outcomes, arms, time-varying therapy).
OUTCOME_COLUMNS = ("arm", "treated", "true_ps", "os_time", "os_event", "pfs_time",
                   "pfs_event", "systemic_start", "systemic_duration", "response")
#: Families whose estimate compares the treated arm with the control arm.
TWO_ARM = ("weighting", "matching", "balancing", "survival_ate", "contrast")


def _model_keys(family: str, config: dict) -> tuple[str, ...]:
    # (unweighted curves read no covariates)
    if family == "contrast" and config["weights"] == "none":
        return ()
    return ("covariates", "adjust")


def named_columns(family: str, config: dict) -> list[str]:
    """The cohort columns a method's options name (``"*"`` and ``"-name"`` aside)."""
    names = []
    for key in _model_keys(family, config) + ("on",):
        names += config.get(key, [])
    if isinstance(config.get("balance"), list):
        names += config["balance"]
    if family == "cox":
        names.append(config["exposure"])
    return [n for n in dict.fromkeys(names) if n != "*" and not n.startswith("-")]


def used_columns(family: str, config: dict, measured: list[str]) -> list[str]:
    """:func:`named_columns` with ``"*"`` of a model's covariates expanded to ``measured``
    less the exclusions (what the fit reads)."""
    out = named_columns(family, config)
    for key in _model_keys(family, config):
        value = config.get(key, [])
        if "*" in value:
            drop = {v[1:] for v in value if v.startswith("-")}
            out += [m for m in measured if m not in drop]
    return list(dict.fromkeys(out))


def method_problems(scenario, cohort, methods, generated_columns) -> list[str]:
    """The problems of ``methods`` (:class:`benchmarks.study.Method` of built-in families)
    on ``scenario``'s cohorts (its simulate ``CohortSpec`` ``cohort``), one line each naming
    the method; ``generated_columns()``: the columns of one generated cohort, asked only
    when a method names a column the spec does not show."""
    from .methods import validate_method

    measured = [v.name for v in cohort.variables if v.type != "multiselect"]
    known = set(measured) | {v.name for v in cohort.multiselect} | {
        d.name for d in cohort.derived} | set(OUTCOME_COLUMNS)
    if cohort.unmeasured is not None:
        known.add(cohort.unmeasured.name)
    two_arm = {bool(a.treated) for a in cohort.arms} == {True, False}
    missing = {r.variable for r in cohort.missing}
    columns: list = []  # the generated columns, drawn once if a name is in doubt

    out = []
    for m in methods:
        if ":" in m.family:
            continue
        try:
            config = validate_method(m.family, m.config)
        except ValueError:  # (the study's own check names it)
            continue
        where = f"method {m.name!r}"
        doubt = [n for n in named_columns(m.family, config) if n not in known]
        if doubt:
            if not columns:
                columns.append(set(generated_columns()))
            absent = [n for n in doubt if n not in columns[0]]
            if absent:
                out.append(f"{where}: {absent} not columns of the cohort of base "
                           f"{scenario.base!r} (its measured covariates: {measured})")
        if not two_arm and (m.family in TWO_ARM or (m.family == "cox"
                                                     and config["exposure"] == "treated")):
            out.append(f"{where}: family {m.family!r} compares the treated and control arms; "
                       f"base {scenario.base!r} has one arm")
        if m.family == "immortal" and cohort.time_varying is None:
            out.append(f"{where}: family 'immortal' needs a cohort with time-varying therapy "
                       f"(a [time_varying] section, kept unless the factor immortal_time is "
                       f"false)")
        nan = [n for n in used_columns(m.family, config, measured) if n in missing]
        if nan:
            out.append(f"{where}: {nan} have missing values in this scenario (missing = "
                       f"true), which no method family handles; leave them out of the "
                       f"method's columns (e.g. ['*', '-{nan[0]}']) or set missing = false")
    return out

