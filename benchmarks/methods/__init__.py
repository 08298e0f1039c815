"""Method registry: named estimator families that a study's ``[methods.<name>]`` configures.

Each family is one small module exposing

* ``OPTIONS``: its capability table, ``{option: (default, check)}``, where ``check`` is a
  tuple of allowed values or a type; :func:`validate_method` applies it when the study is
  loaded, so a misspelt option fails before the run starts;
* ``fit(data, config, rng) -> MethodOutput``: the estimator on one replicate's cohort
  columns (``dict[str, numpy.ndarray]``, the columns of :class:`simulate.Cohort`),
  calling the estimators package's array kernels, never pandas.

* optionally ``fit_batch(datas, config, shared) -> list[MethodOutput | None]``: its batched
  entry point, ``fit`` on a batch of replicates of one size (across-replicate kernels of
  :mod:`estimators.batch`), ``None`` for a replicate that ``fit`` must fit alone (see
  :mod:`benchmarks.methods._batched`); ``shared`` is a dict the methods of one batch share.
  :func:`get_fit_batch` finds it; the study runner uses it (:mod:`benchmarks.batch_chunk`).

A study may also name ``family = "package.module:function"`` for a method of its own; the
function has the ``fit`` signature and its options are passed through unchecked.

Methods of one replicate may share a deterministic fit through the replicate's
``data["_fits"]`` (:data:`SHARED_FITS`), a fresh :class:`SharedFits` that
:func:`benchmarks.dgm.prepared` puts in every replicate's columns: the weighting family's
robust and M-estimation twins fit the PS and weighted Cox model once, and every family fits
a PS model once per covariate list. Without it (a cohort
built by hand), each method fits on its own; the numbers are the same.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

#: Built-in families: name -> module (imported only when a study uses it).
FAMILIES: dict[str, str] = {
    "cox": "tacebench.benchmarks.methods.cox",
    "weighting": "tacebench.benchmarks.methods.weighting",
    "matching": "tacebench.benchmarks.methods.matching",
    "immortal": "tacebench.benchmarks.methods.immortal",
    "contrast": "tacebench.benchmarks.methods.contrast",
    "balancing": "tacebench.benchmarks.methods.balancing",
    "survival_ate": "tacebench.benchmarks.methods.survival_ate",
}


@dataclass(frozen=True)
class MethodOutput:
    """One method on one replicate.

    ``estimate`` and ``se`` are on the estimand's analysis scale (log HR for hazard ratios);
    ``ci`` overrides the Wald interval when the method has its own (e.g. bootstrap);
    ``extra`` holds diagnostics kept as ``x_<key>`` result columns (ESS, largest weight,
    patients dropped by matching, per-covariate ``smd_<name>`` for love plots).
    """

    estimate: float
    se: float
    converged: bool = True
    ci: tuple[float, float] | None = None
    extra: dict[str, float] = field(default_factory=dict)


def output_problem(out) -> str | None:
    """Why ``out``, what a method's ``fit`` returned, is not a :class:`MethodOutput` the
    runner can store (a study's own ``module:function`` method returning a tuple ended the
    whole run in a worker's traceback), or None. ``estimate`` and ``se`` must be numbers
    (not strings that look like them), ``ci`` None or a pair of numbers, ``extra`` a dict
    of numbers."""
    if not isinstance(out, MethodOutput):
        return (f"fit returned {type(out).__name__}, not MethodOutput(estimate, se, "
                f"converged=True, ci=None, extra={{}})")
    values = [("estimate", out.estimate), ("se", out.se)]
    if out.ci is not None:
        if not isinstance(out.ci, (tuple, list)) or len(out.ci) != 2:
            return f"fit returned MethodOutput with ci={out.ci!r}; ci must be None or (lower, upper)"
        values += [("ci", v) for v in out.ci]
    if not isinstance(out.extra, dict):
        return f"fit returned MethodOutput with extra={out.extra!r}; extra must be a dict"
    values += [(f"extra[{k!r}]", v) for k, v in out.extra.items()]
    for name, v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            return f"fit returned MethodOutput with {name}={v!r}, not a number"
    return None


#: Key of a replicate's :class:`SharedFits` in its cohort columns.
SHARED_FITS = "_fits"


class SharedFits:
    """Fits shared by the methods of one replicate, keyed by what determines them (the
    family and its fit options), never by object identity.

    ``get_or_fit(key, fit)`` returns the stored result of ``fit()`` or runs and stores it;
    a fit that failed (``ValueError``, ``KeyError``, ``LinAlgError``) is stored as its
    exception and raised afresh for every method that asks for it. Fits must be
    deterministic functions of the replicate's columns and ``key``, so sharing cannot
    change a number. One instance lives exactly as long as its replicate's columns.
    """

    def __init__(self):
        self._fits: dict = {}

    def __len__(self) -> int:
        return len(self._fits)

    def __contains__(self, key) -> bool:
        return key in self._fits

    def get_or_fit(self, key, fit: Callable[[], Any]) -> Any:
        if key not in self._fits:
            try:
                self._fits[key] = (True, fit())
            except (ValueError, KeyError, np.linalg.LinAlgError) as exc:
                self._fits[key] = (False, exc)
        ok, value = self._fits[key]
        if not ok:
            raise type(value)(*value.args)
        return value


def shared_fits(data) -> SharedFits | None:
    """The replicate's :class:`SharedFits` (``data["_fits"]``), or ``None`` if it has none."""
    store = data.get(SHARED_FITS) if hasattr(data, "get") else None
    return store if isinstance(store, SharedFits) else None


def _resolve(family: str):
    if ":" in family:
        mod, _, attr = family.partition(":")
        try:
            return None, getattr(importlib.import_module(mod), attr)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"family {family!r} cannot be imported: {exc}") from None
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)} or 'module:function'; "
                         f"got {family!r}")
    module = importlib.import_module(FAMILIES[family])
    return module, module.fit


def validate_method(family: str, options: dict[str, Any], *, where: str = "method") -> dict:
    """Check ``options`` against the family's capability table; return them with defaults."""
    module, _ = _resolve(family)
    if module is None:
        return dict(options)
    table = module.OPTIONS
    unknown = sorted(set(options) - set(table))
    if unknown:
        raise ValueError(f"{where}: unknown option(s) {unknown!r} for family {family!r}; "
                         f"allowed: {sorted(table)}")
    out = {}
    for key, (default, check) in table.items():
        value = options.get(key, default)
        if isinstance(check, tuple) and value not in check:
            raise ValueError(f"{where}: {key} must be one of {check!r}; got {value!r}")
        if isinstance(check, type) and not isinstance(value, check):
            raise ValueError(f"{where}: {key} must be {check.__name__}; got {value!r}")
        if callable(check) and not isinstance(check, type):
            check(value, f"{where}: {key}")
        out[key] = value
    return out


def method_problems(family: str, options: dict[str, Any], config: dict[str, Any]) -> list[str]:
    """What a method's options ask that its fit cannot do on any cohort, one line each
    (a configuration that fails, or is silently ignored, in every replicate): each family's
    ``option_problems(options, config)``, ``options`` as the study wrote them, ``config``
    with defaults (:func:`validate_method`). ``[]`` for a study's own family."""
    module, _ = _resolve(family)
    check = getattr(module, "option_problems", None) if module is not None else None
    return [] if check is None else check(options, config)


def needs_covariates(config, what: str) -> list[str]:
    """``option_problems`` line of a family that cannot fit without ``covariates``."""
    return [] if config["covariates"] else [f"{what} needs covariates (a list of column "
                                            f"names, or ['*'] for every measured one)"]


#: What the estimate of a family without a ``quantity`` option is: a log hazard ratio.
LOG_HR = "log_hr"


def estimate_scale(family: str, config: dict[str, Any]) -> tuple[str, float | None] | None:
    """What a method's estimate is, for :func:`benchmarks.study.study_from_dict` to match
    it with its estimand: ``(LOG_HR, None)``, or ``(quantity, time)`` for a family whose
    ``quantity`` option picks an RMST or risk difference at horizon ``time``; ``None`` for
    a study's own ``module:function`` family (not known). ``config``: the method's options
    with their defaults (:func:`validate_method`)."""
    module, _ = _resolve(family)
    if module is None:
        return None
    if hasattr(module, "estimate_scale"):  # (the immortal family: per month or ever)
        return module.estimate_scale(config)
    if "quantity" in module.OPTIONS:
        return config["quantity"], float(config["time"])
    return LOG_HR, None


def estimate_population(family: str, config: dict[str, Any]) -> str | None:
    """The population whose effect a method estimates (``"ATE"``, ``"ATT"``, ``"ATC"``,
    ``"ATO"``, ``"ATM"``: its weights', matching's or working models' target), for
    :func:`benchmarks.study.study_from_dict` to match it with its estimand's; ``None``
    where the family has none (a Cox model of the sample, unweighted curves) or is a
    study's own. A family states it by a ``population(config)`` function."""
    module, _ = _resolve(family)
    population = getattr(module, "population", None) if module is not None else None
    return None if population is None else population(config)


def estimate_endpoint(family: str, config: dict[str, Any]) -> str | None:
    """The endpoint (``"os"`` or ``"pfs"``) a method's estimate is of: its ``endpoint``
    option; ``None`` for a study's own ``module:function`` family (not known)."""
    module, _ = _resolve(family)
    if module is None or "endpoint" not in module.OPTIONS:
        return None
    return config["endpoint"]


def get_fit(family: str) -> Callable:
    """The ``fit`` function of a family (cached by the import system)."""
    return _resolve(family)[1]


def get_fit_batch(family: str) -> Callable | None:
    """The family's batched entry point ``fit_batch``, or ``None`` (one replicate at a time)."""
    module, _ = _resolve(family)
    return getattr(module, "fit_batch", None) if module is not None else None


def check_covariates(value, where: str) -> None:
    """Option check: a list of column names; ``"*"`` (every measured covariate) may stand
    alone or with exclusions ``"-name"`` (as R's ``. - name``)."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip("-")
                                              for v in value):
        raise ValueError(f"{where} must be a list of column names; got {value!r}")
    keep = [v for v in value if not v.startswith("-")]
    if len(keep) != len(value) and keep != ["*"]:
        raise ValueError(f"{where}: exclusions '-name' go with '*' alone, as in "
                         f"['*', '-x']; got {value!r}")
    if "*" in keep and keep != ["*"]:  # (covariate_names would look for a column "*")
        raise ValueError(f"{where}: '*' stands alone or with exclusions '-name'; to add "
                         f"{[v for v in keep if v != '*']!r} to the measured covariates, "
                         f"name every covariate; got {value!r}")


def check_number(value, where: str) -> None:
    """Option check: a real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where} must be a number; got {value!r}")


def check_truncate(value, where: str) -> None:
    """Option check: ``[]`` (none) or ``[lower, upper]`` percentiles with 0 <= lo < hi <= 100."""
    if value == []:
        return
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, (int, float)) for v in value)
            or not 0 <= value[0] < value[1] <= 100):
        raise ValueError(f"{where} must be [] or [lower, upper] percentiles; got {value!r}")


def covariate_names(data: dict[str, np.ndarray], covariates: list[str]) -> list[str]:
    """Expand ``["*"]`` to the generator's list of measured covariates, less any
    ``"-name"`` exclusions (a name the cohort does not have is ignored, so one method
    serves scenarios on different base studies)."""
    drop = {c[1:] for c in covariates if c.startswith("-")}
    covariates = [c for c in covariates if not c.startswith("-")]
    if covariates != ["*"]:
        return list(covariates)
    if "_covariates" not in data:
        raise KeyError("covariates = ['*'] needs a generator that lists its measured "
                       "covariates in data['_covariates'] (the 'cohort' generator does)")
    return [str(c) for c in data["_covariates"] if str(c) not in drop]


def design(data: dict[str, np.ndarray], covariates: list[str], *,
           pool_by: np.ndarray | None = None) -> np.ndarray:
    """Covariate matrix (n x p) from cohort columns; categorical codes become indicators.

    ``["*"]`` stands for every measured baseline covariate the generator lists in
    ``data["_covariates"]`` (the cohort's variables; not derived scores, not ``u_*``).

    A categorical variable -- one named in ``data["_levels"]`` (simulate's level names; its
    codes are floats) or, for generators without that map, a column of integer codes --
    with more than two observed levels is expanded to indicators of each observed level
    against the lowest; everything else (continuous columns, 0/1 codes) enters as is.

    ``pool_by`` (the 0/1 treatment, for a propensity model): a level seen in one arm only
    makes the PS MLE not exist (quasi-complete separation: fitted PS of exactly 0 or 1),
    so it is pooled with its neighbour (the next lower level; the next higher for the
    lowest), repeatedly, while more than two levels remain -- as analysts pool a sparse
    grade (seed 003's ALBI grade 3, about 1% of patients, with ALBI 2).
    """
    n = len(data["treated"])
    categorical = data.get("_levels", {})
    cols = []
    for name in covariate_names(data, covariates):
        if name not in data:
            raise KeyError(f"covariate {name!r} is not a cohort column")
        x = np.asarray(data[name])
        if x.dtype.kind == "f" and np.isnan(x).any():  # (a fit would fail on it, unnamed)
            raise ValueError(f"covariate {name!r} has {int(np.isnan(x).sum())} missing "
                             f"values (NaN)")
        is_code = name in categorical or x.dtype.kind in "iu"
        levels = _levels(data, name, x) if is_code else ()
        if len(levels) > 2 and pool_by is not None:
            x, levels = _pool_one_arm_levels(x, levels, np.asarray(pool_by) == 1)
        if len(levels) > 2:
            cols.extend((x == lev).astype(np.float64) for lev in levels[1:])
        else:
            cols.append(x.astype(np.float64, copy=False))
    return np.column_stack(cols) if cols else np.empty((n, 0))


def _levels(data, name: str, x: np.ndarray) -> np.ndarray:
    """``np.unique(x)`` of the column ``name``: once per replicate, whichever design asks
    (a PS model's and a Cox model's on the same replicate), through its shared fits;
    read-only."""
    def unique() -> np.ndarray:
        levels = np.unique(x)
        levels.flags.writeable = False
        return levels

    store = shared_fits(data)
    return unique() if store is None else store.get_or_fit(("levels", name), unique)


def _pool_one_arm_levels(x: np.ndarray, levels: np.ndarray, treated: np.ndarray):
    levels = list(levels)
    while len(levels) > 2:
        in_t = [bool((x[treated] == lev).any()) for lev in levels]
        in_c = [bool((x[~treated] == lev).any()) for lev in levels]
        one_arm = [k for k in range(len(levels)) if not (in_t[k] and in_c[k])]
        if not one_arm:
            break
        k = one_arm[0]
        x = np.where(x == levels[k], levels[k - 1] if k else levels[1], x)
        del levels[k]
    return x, np.asarray(levels)
