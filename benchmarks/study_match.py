"""What a study's method must share with its estimand, checked when the file is loaded
(:func:`benchmarks.study.study_from_dict`): the quantity and horizon it estimates, the
population whose effect it estimates and the endpoint. A performance measure of one against
the other's truth is a number without meaning.
"""
from __future__ import annotations

#: The scale of each kind's true value (``custom``: any, unchecked) and the option that
#: holds its horizon, :data:`DEFAULT_HORIZON` months when not given: a method must
#: estimate the same quantity at the same horizon (:func:`benchmarks.methods.estimate_scale`).
ESTIMAND_SCALES = {"conditional_log_hr": ("log_hr", None), "marginal_log_hr": ("log_hr", None),
                   "log_hr_per_month": ("log_hr_per_month", None), "custom": (None, None),
                   "rmst_difference": ("rmst_difference", "tau"),
                   "risk_difference": ("risk_difference", "time")}
DEFAULT_HORIZON = 12.0
_WORDS = {"log_hr": "a log hazard ratio", "rmst_difference": "an RMST difference",
          "risk_difference": "a risk difference",
          "log_hr_per_month": "a log hazard ratio per month of therapy",
          "log_hr_ever": "a log hazard ratio of having started therapy"}
#: The kinds whose truth is an effect in a target population (``population``, default ATE),
#: and those populations.
POPULATION_KINDS = ("marginal_log_hr", "rmst_difference", "risk_difference")
POPULATIONS = ("ATE", "ATT", "ATC", "ATO", "ATM")


def scale_problem(estimates: tuple[str, float | None] | None, ename: str, table: dict
                  ) -> str | None:
    """Why a method estimating ``estimates`` (:func:`benchmarks.methods.estimate_scale`)
    cannot be judged against estimand ``ename`` (its ``table``), or None. Bias, coverage
    and RMSE of a log HR against an RMST difference's true value are numbers without
    meaning, and so are those of a 12-month RMST against the truth at 6 months."""
    scale, key = ESTIMAND_SCALES.get(table.get("kind"), (None, None))
    if estimates is None or scale is None:
        return None
    quantity, horizon = estimates
    if quantity != scale:
        return (f"estimates {_WORDS.get(quantity, quantity)}, but its estimand {ename!r} is "
                f"{_WORDS[scale]} (kind {table['kind']!r}): no performance measure compares "
                f"the two")
    want = table.get(key, DEFAULT_HORIZON) if key else None
    # (a horizon that is not a positive number is the generator's to name)
    if (key and isinstance(want, (int, float)) and not isinstance(want, bool) and want > 0
            and want != horizon):
        return (f"estimates at time = {horizon:g} months, but its estimand {ename!r} is at "
                f"{key} = {want:g}")
    return None


def population_problem(population: str | None, ename: str, table: dict) -> str | None:
    """Why a method estimating the effect in ``population``
    (:func:`benchmarks.methods.estimate_population`) cannot be judged against estimand
    ``ename`` (its ``table``), or None: overlap weights scored against the ATE's truth,
    or entropy balancing for the ATE against the ATT's, measure the distance between two
    populations, not the method."""
    want = table.get("population", "ATE")
    # (a population the generator does not know is the generator's to name)
    if population is None or table.get("kind") not in POPULATION_KINDS or not isinstance(
            want, str) or want.upper() not in POPULATIONS or want.upper() == population:
        return None
    return (f"estimates the effect in the {population} population, but its estimand "
            f"{ename!r} is the {want.upper()} population's (kind {table['kind']!r})")


def endpoint_problem(endpoint: str | None, ename: str, table: dict) -> str | None:
    """Why a method estimating on ``endpoint`` (:func:`benchmarks.methods.estimate_endpoint`)
    cannot be judged against estimand ``ename`` (its ``table``: ``endpoint``, default
    ``"os"``), or None. A PFS hazard ratio scored against the OS truth gives bias and
    coverage of nothing. (``custom`` estimands: any, unchecked.)"""
    kind = table.get("kind")
    if endpoint is None or kind == "custom" or kind not in ESTIMAND_SCALES:
        return None
    want = table.get("endpoint", "os")
    if endpoint != want and isinstance(want, str):
        return (f"estimates on endpoint {endpoint!r}, but its estimand {ename!r} is on "
                f"{want!r}" + (f" (set endpoint = {endpoint!r} in [estimands.{ename}])"
                               if kind != "log_hr_per_month" else ""))
    return None
