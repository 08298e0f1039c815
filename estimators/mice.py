"""Multiple imputation by chained equations (MICE) and Rubin's-rules pooling.

``mice_impute`` runs ``m`` independent chains of fully conditional specification (van
Buuren & Groothuis-Oudshoorn 2011, J Stat Softw 45(3)), as R ``mice::mice``: each variable
with missing values is initialised with random draws from its observed values, then at
each of ``max_iter`` iterations every such variable (left to right, mice's "roman" visit
sequence) is re-imputed from a regression on the current values of all other variables
(categorical predictors dummy-coded), with the methods of :mod:`estimators.mice_methods`:
predictive mean matching for continuous variables, logistic regression for binary ones and
multinomial logistic regression for categorical ones, by default. Each chain has its own
generator spawned from ``seed`` (``SeedSequence.spawn``), so the result is the same
whatever ``n_jobs``.

Why not ``statsmodels.imputation.mice.MICEData``: it imputes every variable by predictive
mean matching on a linear model (categorical codes treated as numbers, no logistic or
multinomial draw), rebuilds patsy/formulaic design matrices at every step (~1.5 s for one
20-iteration chain on n = 423 with three incomplete variables, against milliseconds here,
which matters inside Monte Carlo loops), and only statsmodels >= 0.15 takes an explicit RNG.
It remains a useful independent check of PMM in the tests.

Include the outcome in the imputation model (for survival, the event indicator and the
Nelson–Aalen cumulative hazard; White & Royston 2009); it is simply another column here.
Pool per-imputation estimates with :func:`rubin_pool` (or :meth:`MICEResult.pool`).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from joblib import Parallel, delayed

from tacebench.records import ArrayRecord

from ._checks import check_choice, check_n_jobs, check_positive_int
from .design import _as_frame, _require_columns
from .mice_methods import DEFAULT_METHOD, METHODS, impute_categorical, impute_norm, impute_pmm
from .rubin import RubinResult, rubin_pool

if TYPE_CHECKING:           # annotations only: pandas is imported by to_frame and the
    import pandas as pd     # frame paths, not by a replicate worker

__all__ = ["MICEResult", "mice_impute", "rubin_pool", "RubinResult"]


@dataclass(frozen=True, eq=False)
class _Var(ArrayRecord):
    name: str
    kind: str                 # continuous | binary | categorical
    method: str | None        # None: fully observed (predictor only)
    values: np.ndarray        # float64; categorical as codes 0..K-1; NaN where missing
    levels: tuple = ()        # categorical labels for codes
    coded: bool = False       # the column holds the codes (numeric, levels given)


@dataclass(frozen=True, eq=False)
class MICEResult(ArrayRecord):
    """``m`` completed data sets and the imputation record.

    Attributes
    ----------
    imputations : tuple of DataFrame
        The completed data sets (same index, columns and labels as the input).
    methods : dict
        Method per imputed variable.
    kinds : dict
        Variable kind per column used.
    visit_sequence : tuple of str
    predictors : dict
        Predictor columns per imputed variable.
    missing : dict
        Row positions that were missing, per imputed variable.
    imputed_values : dict
        ``(m, n_missing)`` array of the final imputed values (codes for categorical).
    chain_mean : dict
        ``(m, max_iter)`` mean of the imputed values at each iteration (convergence
        diagnostic, as ``mice``'s ``chainMean``; categorical on the code scale).
    m, max_iter : int
    seed_entropy : int or None
        Entropy of the root ``SeedSequence`` (reproduces the run); None when a Generator
        was given.
    """

    imputations: tuple
    methods: dict
    kinds: dict
    visit_sequence: tuple
    predictors: dict
    missing: dict
    imputed_values: dict
    chain_mean: dict = field(repr=False)
    m: int = 5
    max_iter: int = 10
    seed_entropy: int | None = None

    def complete(self, i: int) -> pd.DataFrame:
        """The ``i``-th completed data set (0-based)."""
        if not 0 <= i < self.m:
            raise ValueError(f"i must lie in [0, {self.m - 1}]; got {i}")
        return self.imputations[i]

    def analyze(self, fn: Callable[[pd.DataFrame], object]) -> list:
        """Apply ``fn`` to each completed data set."""
        return [fn(d) for d in self.imputations]

    def pool(self, fn: Callable[[pd.DataFrame], tuple[float, float]], *,
             df_complete: float = np.inf, conf_level: float = 0.95) -> RubinResult:
        """Rubin's rules over ``fn(data) -> (estimate, se)`` on each completed data set."""
        out = np.array([tuple(map(float, fn(d))) for d in self.imputations])
        if out.ndim != 2 or out.shape[1] != 2:
            raise ValueError("fn must return (estimate, se) for each completed data set")
        return rubin_pool(out[:, 0], se=out[:, 1], df_complete=df_complete, conf_level=conf_level)


# --- input ---------------------------------------------------------------------------

def _variable(s: pd.Series, name: str, categorical, method) -> _Var:
    import pandas as pd
    na = s.isna().to_numpy()
    if na.all():
        raise ValueError(f"frame[{name!r}] has no observed values")
    is_cat = (name in categorical or isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype))
              or s.dtype == object)
    coded = False
    if is_cat:
        levels = categorical.get(name)
        if levels is None:
            if isinstance(s.dtype, pd.CategoricalDtype):
                levels = list(s.cat.categories)
            else:
                obs = pd.unique(s[~na])
                try:
                    levels = sorted(obs)
                except TypeError:
                    levels = sorted(obs, key=str)
        levels = list(levels)
        if pd.api.types.is_numeric_dtype(s) and categorical.get(name) is not None:
            coded = True
            codes = s.to_numpy(dtype=float, na_value=np.nan)
            bad = ~na & ~np.isin(codes, np.arange(len(levels)))
        else:
            lookup = {lev: i for i, lev in enumerate(levels)}
            codes = np.array([np.nan if m else lookup.get(v, -1) for v, m in zip(s, na)], dtype=float)
            bad = codes == -1
        if bad.any():
            raise ValueError(f"frame[{name!r}] has values {pd.unique(s[bad])[:3].tolist()} "
                             f"not among its levels {levels}")
        kind, values = "categorical", codes
    else:
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            raise ValueError(f"frame[{name!r}] is not numeric (dtype {s.dtype}); list it in categorical=")
        values = s.to_numpy(dtype=float, na_value=np.nan)
        if np.isinf(values).any():
            raise ValueError(f"frame[{name!r}] has infinite values")
        kind = "binary" if np.isin(values[~na], (0.0, 1.0)).all() else "continuous"
        levels = []
    if na.any():
        meth = method or DEFAULT_METHOD[kind]
        check_choice(meth, f"methods[{name!r}]", METHODS)
        if kind not in METHODS[meth]:
            raise ValueError(f"methods[{name!r}] = {meth!r} cannot impute a {kind} variable "
                             f"(it imputes {METHODS[meth]})")
        if (~na).sum() < 2:
            raise ValueError(f"frame[{name!r}] needs at least 2 observed values to be imputed")
        if meth == "norm" and pd.api.types.is_integer_dtype(s):
            raise ValueError(f"methods[{name!r}] = 'norm' draws non-integer values, which "
                             f"frame[{name!r}] (dtype {s.dtype}) cannot hold: use 'pmm' or "
                             f"convert the column to float")
    else:
        meth = None
    return _Var(name, kind, meth, values, tuple(levels), coded)


def _design_block(v: _Var, x: np.ndarray) -> np.ndarray:
    if v.kind == "categorical":
        return (x[:, None] == np.arange(1, len(v.levels))[None, :]).astype(float)
    return x[:, None]


# --- one chain ---------------------------------------------------------------------

def _chain(variables: list[_Var], predictors: dict, max_iter: int, donors: int,
           rng: np.random.Generator):
    cur = {v.name: v.values.copy() for v in variables}
    miss = {v.name: np.isnan(v.values) for v in variables if v.method}
    for name, mask in miss.items():
        obs = cur[name][~mask]
        cur[name][mask] = rng.choice(obs, size=int(mask.sum()))
    byname = {v.name: v for v in variables}
    trace = {name: np.empty(max_iter) for name in miss}
    state = {name: {} for name in miss}
    for it in range(max_iter):
        for name, mask in miss.items():
            v = byname[name]
            blocks = [np.ones((len(mask), 1))] + [_design_block(byname[p], cur[p]) for p in predictors[name]]
            X = np.hstack(blocks)
            y_obs, X_obs, X_mis = cur[name][~mask], X[~mask], X[mask]
            if v.method == "pmm":
                new = impute_pmm(y_obs, X_obs, X_mis, rng, donors=donors)
            elif v.method == "norm":
                new = impute_norm(y_obs, X_obs, X_mis, rng)
            else:
                n_cat = 2 if v.kind == "binary" else len(v.levels)
                new = impute_categorical(y_obs, X_obs, X_mis, rng, n_cat=n_cat, state=state[name])
            cur[name][mask] = new
            trace[name][it] = new.mean()
    return cur, trace


def _restore(frame: pd.DataFrame, variables: list[_Var], cur: dict) -> pd.DataFrame:
    import pandas as pd
    out = frame.copy()
    for v in variables:
        if v.method is None:
            continue
        s = frame[v.name]
        if v.kind == "categorical" and not v.coded:
            labels = np.asarray(v.levels, dtype=object)[cur[v.name].astype(int)]
            if isinstance(s.dtype, pd.CategoricalDtype):
                out[v.name] = pd.Categorical(labels, categories=s.cat.categories, ordered=s.cat.ordered)
            elif s.dtype == object:
                out[v.name] = labels
            else:  # the column's own type (numeric labels, a string dtype)
                out[v.name] = pd.array(labels.tolist(), dtype=s.dtype)
        elif isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            # nullable Int64 / Float64 / boolean: every method allowed for the column
            # imputes values the dtype holds (checked up front by _variable)
            out[v.name] = pd.array(cur[v.name], dtype=s.dtype)
        else:
            out[v.name] = cur[v.name]
    return out


def mice_impute(
    frame,
    m: int = 5,
    *,
    seed,
    max_iter: int = 10,
    columns: Sequence[str] | None = None,
    categorical: Sequence[str] | Mapping[str, Sequence] | None = None,
    methods: Mapping[str, str] | None = None,
    predictors: Mapping[str, Sequence[str]] | None = None,
    donors: int = 5,
    n_jobs: int = 1,
) -> MICEResult:
    """Multiple imputation by chained equations with ``m`` independent chains.

    Parameters
    ----------
    frame : DataFrame (or mapping of columns)
        Missing values as NaN / None. Columns outside ``columns`` are carried along
        untouched and not used.
    m : int
        Number of imputations (chains).
    seed : int, numpy.random.SeedSequence or numpy.random.Generator
        Required: the imputations are random. Chain ``k`` uses the ``k``-th child
        (``SeedSequence.spawn`` / ``Generator.spawn``).
    max_iter : int
        Iterations per chain (R ``maxit``, default 5 there; seed 000 used 20).
    columns : sequence of str, optional
        Columns taking part (imputed if incomplete, predictors otherwise). Default: all.
    categorical : sequence of str or mapping name -> levels, optional
        Categorical columns; with a mapping, numeric codes ``i`` mean ``levels[i]``
        (simulate's convention), and the completed column holds codes; otherwise it holds
        the column's own values. Object, string-dtype (``string[python]``,
        ``string[pyarrow]``) and pandas-category columns are categorical anyway. Pandas
        nullable columns (``Int64``, ``Float64``, ``boolean``, as ``convert_dtypes``
        makes) keep their dtype; ``"norm"`` cannot impute an integer column.
    methods : mapping, optional
        Method per incomplete column: ``"pmm"``, ``"norm"``, ``"logreg"``, ``"polyreg"``
        (default pmm / logreg / polyreg by kind; see ``mice_methods.METHODS``).
    predictors : mapping, optional
        Predictor columns per incomplete column (default: all other participating columns;
        R's ``predictorMatrix``).
    donors : int
        Donor pool size for PMM (R default 5).
    n_jobs : int
        Chains run in parallel with joblib; results do not depend on it.

    Returns
    -------
    MICEResult
    """
    frame = _as_frame(frame)
    m = check_positive_int(m, "m")
    max_iter = check_positive_int(max_iter, "max_iter")
    donors = check_positive_int(donors, "donors")
    n_jobs = check_n_jobs(n_jobs)
    if seed is None:
        raise ValueError("seed must be given (an int, a numpy.random.SeedSequence or Generator)")
    if isinstance(seed, np.random.Generator):
        ss, children = None, seed.spawn(m)
    else:
        try:
            ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
        except (TypeError, ValueError):
            raise ValueError(f"seed must be a non-negative int, SeedSequence or Generator; got {seed!r}") from None
        children = [np.random.default_rng(c) for c in ss.spawn(m)]
    columns = list(frame.columns) if columns is None else list(columns)
    _require_columns(frame, columns)
    cat = dict(categorical) if isinstance(categorical, Mapping) else {c: None for c in categorical or ()}
    methods = dict(methods or {})
    for label, keys in (("categorical", cat), ("methods", methods), ("predictors", predictors or {})):
        stray = [c for c in keys if c not in columns]
        if stray:
            raise ValueError(f"{label} names {stray}, which are not among the columns {columns}")
    variables = [_variable(frame[c], c, cat, methods.get(c)) for c in columns]
    stray = [c for c in methods if not frame[c].isna().any()]
    if stray:
        raise ValueError(f"methods names {stray}, which have no missing values")
    incomplete = [v.name for v in variables if v.method]
    preds = {}
    for name in incomplete:
        p = list((predictors or {}).get(name, [c for c in columns if c != name]))
        bad = [c for c in p if c not in columns or c == name]
        if bad:
            raise ValueError(f"predictors[{name!r}] has {bad}: not other participating columns")
        preds[name] = p
    runs = Parallel(n_jobs=n_jobs)(
        delayed(_chain)(variables, preds, max_iter, donors, rng) for rng in children)
    miss = {name: np.flatnonzero(frame[name].isna().to_numpy()) for name in incomplete}
    return MICEResult(
        imputations=tuple(_restore(frame, variables, cur) for cur, _ in runs),
        methods={v.name: v.method for v in variables if v.method},
        kinds={v.name: v.kind for v in variables},
        visit_sequence=tuple(incomplete),
        predictors=preds,
        missing=miss,
        imputed_values={n: np.array([cur[n][miss[n]] for cur, _ in runs]) for n in incomplete},
        chain_mean={n: np.array([tr[n] for _, tr in runs]) for n in incomplete},
        m=m, max_iter=max_iter,
        seed_entropy=int(ss.entropy) if ss is not None and isinstance(ss.entropy, int) else None,
    )
