"""Covariate part of the cohort specification: frozen dataclasses with validation.

Every class validates itself on construction and raises :class:`SpecError` (a
``ValueError``) naming the offending field and value. The TOML loader
(:mod:`simulate.io`) prefixes the file and key path (``cohorts.main.variables[2]
(tumor_size).arms.TACE.sd``) and collects all problems of a file into one message.

Tolerance for published percentages: proportions given for the levels of a variable
must sum to 1 within ``PROPORTION_TOL`` (0.015, i.e. the rounding of up to ~10
percentages printed with one decimal); they are then renormalised. Counts must be
non-negative integers and sum to the arm's ``n`` where the arm size is known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .spec_base import (PROPORTION_TOL, AssumedSplit, FrozenDict, SpecError, Summary,  # noqa: F401 (re-exported)
                        _count, _finite, _prob, _ratio, _set, assumed_split_from,
                        summary_from)

VARIABLE_TYPES = ("continuous", "binary", "categorical", "count", "multiselect")
DISTRIBUTIONS = ("normal", "lognormal", "gamma")
DERIVED_KINDS = ("albi_score", "albi_grade", "child_pugh_points", "child_pugh_class")
MISSING_MECHANISMS = ("MCAR", "MAR")
#: most options of a multiselect variable (its patterns are enumerated: up to 2^K)
MAX_OPTIONS = 12



@dataclass(frozen=True)
class Arm:
    """A treatment arm: the paper's label (verbatim in outputs), size and treated flag."""

    label: str
    n: int
    treated: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.label, str) or not self.label:
            raise SpecError("label", f"must be a non-empty string, got {self.label!r}")
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n <= 0:
            raise SpecError("n", f"must be a positive integer, got {self.n!r}")
        if not isinstance(self.treated, bool):
            raise SpecError("treated", f"must be true or false, got {self.treated!r}")


@dataclass(frozen=True)
class Variable:
    """A baseline covariate with its published per-arm summaries.

    ``type``: continuous | binary | categorical | count. A continuous variable with
    ``cutpoints`` is generated so that its category split matches the published
    ``counts``/``proportions`` per bin (bin i is ``[cut[i-1], cut[i])``); its shape within
    bins comes from a common base distribution fitted to ``overall`` (if given).
    ``assumed_split`` (:class:`AssumedSplit`) adds an explicitly assumed split to a
    continuous variable published as mean (SD): the generator matches both
    (:mod:`simulate.pieces`). A split whose arms also give ``mean`` and ``sd`` (a row printed
    as mean ± SD *and* as a cut split) is fitted to both, the mean and SD within their
    printed rounding (``rounding``: the unit of their last printed digit, else read from
    ``source``; :mod:`simulate.printed_split`). A ``multiselect`` variable names binary variables as its
    ``options`` (their per-arm shares are its summaries) and generates which of them each
    patient has as one pattern variable (:mod:`simulate.multiselect`); ``n_selected``
    is the pooled distribution of the number selected (index 0, 1, ...).
    """

    name: str
    type: str
    arms: Mapping[str, Summary] = field(default_factory=dict)
    distribution: str = "normal"
    lower: float | None = None
    upper: float | None = None
    levels: tuple[str, ...] = ()
    cutpoints: tuple[float, ...] = ()
    overall: Summary | None = None
    unit: str = ""
    source: str = ""
    assumed_split: AssumedSplit | None = None
    options: tuple[str, ...] = ()
    at_least_one: bool = False
    n_selected: Summary | None = None
    rounding: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier() or self.name != self.name.lower():
            raise SpecError("name", f"must be a snake_case identifier, got {self.name!r}")
        if self.name in _RESERVED:
            raise SpecError("name", f"{self.name!r} is a reserved output column")
        if self.type not in VARIABLE_TYPES:
            raise SpecError("type", f"must be one of {VARIABLE_TYPES}, got {self.type!r}")
        if self.distribution not in DISTRIBUTIONS:
            raise SpecError("distribution", f"must be one of {DISTRIBUTIONS}, got {self.distribution!r}")
        for k in ("lower", "upper"):
            if getattr(self, k) is not None:
                _set(self, k, _finite(k, getattr(self, k)))
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise SpecError("upper", f"must be > lower ({self.lower}), got {self.upper}")
        if self.distribution in ("lognormal", "gamma") and self.lower is not None and self.lower < 0:
            raise SpecError("lower", f"must be >= 0 for a {self.distribution} variable, got {self.lower}")
        _set(self, "levels", tuple(str(v) for v in self.levels))
        _set(self, "cutpoints", tuple(_finite(f"cutpoints[{i}]", c) for i, c in enumerate(self.cutpoints)))
        if any(b <= a for a, b in zip(self.cutpoints, self.cutpoints[1:])):
            raise SpecError("cutpoints", f"must be strictly increasing, got {list(self.cutpoints)}")
        if self.cutpoints and self.type != "continuous":
            raise SpecError("cutpoints", f"only a continuous variable takes cutpoints, not a {self.type} one "
                            "(give the split as a binary or categorical variable)")
        if self.type == "multiselect" or self.options or self.at_least_one or self.n_selected is not None:
            self._check_multiselect()
        elif not isinstance(self.arms, Mapping) or not self.arms:
            raise SpecError("arms", f"must give a summary for at least one arm, got {self.arms!r}")
        arms = {str(k): summary_from(f"arms.{k}", v) for k, v in self.arms.items()}
        _set(self, "arms", FrozenDict(arms))
        if self.overall is not None:
            _set(self, "overall", summary_from("overall", self.overall))
        if self.type == "categorical" and len(self.levels) < 2:
            raise SpecError("levels", f"a categorical variable needs >= 2 levels, got {list(self.levels)}")
        if len(set(self.levels)) != len(self.levels):
            raise SpecError("levels", f"must be distinct, got {list(self.levels)}")
        for label, s in arms.items():
            self._check_summary(f"arms.{label}", s)
        if self.assumed_split is not None:
            self._check_assumed_split(arms)
        self._check_printed_moments(arms)

    def _check_multiselect(self) -> None:
        if self.type != "multiselect":
            raise SpecError("options", f"options / at_least_one / n_selected belong to a multiselect variable, "
                            f"not a {self.type} one")
        if self.arms:
            raise SpecError("arms", "a multiselect variable has no arms of its own: each option is a binary "
                            "variable with its per-arm count")
        for k in ("levels", "cutpoints", "overall", "assumed_split", "lower", "upper"):
            if getattr(self, k) not in (None, ()):
                raise SpecError(k, f"does not apply to a multiselect variable, got {getattr(self, k)!r}")
        if isinstance(self.options, (str, bytes)) or not hasattr(self.options, "__len__"):
            raise SpecError("options", f"must be a list of variable names, got {self.options!r}")
        opts = tuple(str(o) for o in self.options)
        if not 2 <= len(opts) <= MAX_OPTIONS or len(set(opts)) != len(opts) or self.name in opts:
            raise SpecError("options", f"needs 2 to {MAX_OPTIONS} distinct binary variables other than itself, "
                            f"got {list(opts)}")
        _set(self, "options", opts)
        if not isinstance(self.at_least_one, bool):
            raise SpecError("at_least_one", f"must be true or false, got {self.at_least_one!r}")
        if self.n_selected is not None:
            ns = summary_from("n_selected", self.n_selected)
            probs = ns.level_probs()
            if probs is None or set(ns.fields()) - {"counts", "proportions"}:
                raise SpecError("n_selected", "needs counts or proportions of patients with 0, 1, 2, ... options")
            if len(probs) > len(opts) + 1:
                raise SpecError("n_selected", f"has {len(probs)} entries (0..{len(probs) - 1} selected) for "
                                f"{len(opts)} options")
            if self.at_least_one and probs[0] > 0:
                raise SpecError("n_selected", f"gives {probs[0]:.3g} of patients no option, contradicting "
                                "at_least_one = true")
            _set(self, "n_selected", ns)

    def _check_assumed_split(self, arms: Mapping[str, Summary]) -> None:
        sp = assumed_split_from("assumed_split", self.assumed_split)
        _set(self, "assumed_split", sp)
        if self.type != "continuous" or self.cutpoints:
            raise SpecError("assumed_split", "only a continuous variable published as mean (SD) takes an "
                            "assumed split (a published split goes in cutpoints + counts)")
        lo = self.lower if self.lower is not None else (0.0 if self.distribution != "normal" else None)
        for i, c in enumerate(sp.cutpoints):
            if (lo is not None and c <= lo) or (self.upper is not None and c >= self.upper):
                raise SpecError(f"assumed_split.cutpoints[{i}]", f"must lie inside the variable's bounds "
                                f"({lo}, {self.upper}), got {c}")
        for label, s in arms.items():
            extra = sorted(set(s.fields()) - {"mean", "sd"})
            if s.mean is None or s.sd is None or extra:
                raise SpecError(f"arms.{label}", f"an assumed split is fitted to mean and sd only, got "
                                f"{sorted(s.fields())}")
        for label in sp.arms:
            if label not in arms:
                raise SpecError(f"assumed_split.arms.{label}", f"unknown arm {label!r}; arms are {sorted(arms)}")
        if sp.proportions is None and set(sp.arms) != set(arms):
            raise SpecError("assumed_split.arms", f"without common proportions every arm needs its own, "
                            f"got {sorted(sp.arms)} for arms {sorted(arms)}")

    def _check_printed_moments(self, arms: Mapping[str, Summary]) -> None:
        """A split printed with the arms' mean and SD (:mod:`simulate.printed_split`)."""
        if self.rounding is not None:
            _set(self, "rounding", _finite("rounding", self.rounding, positive=True))
        if not self.is_split:
            if self.rounding is not None:
                raise SpecError("rounding", "applies to a printed split with its mean and sd "
                                "(cutpoints + counts + mean + sd), not to this variable")
            return
        with_moments = sorted(lab for lab, s in arms.items() if s.mean is not None or s.sd is not None)
        for label in with_moments:
            s = arms[label]
            extra = sorted(set(s.fields()) - {"mean", "sd", "counts", "proportions"})
            if s.mean is None or s.sd is None or extra:
                raise SpecError(f"arms.{label}", f"a split printed with its mean and SD takes counts (or "
                                f"proportions), mean and sd, got {sorted(s.fields())}")
        if with_moments and len(with_moments) != len(arms):
            raise SpecError("arms", f"the mean and sd of a split are printed for arms {with_moments} but "
                            f"not for {sorted(set(arms) - set(with_moments))}: give them for every arm "
                            "or for none")
        if with_moments and self.overall is not None:
            raise SpecError("overall", "a split whose arms give mean and sd is fitted to them; the "
                            "overall summary is not used (remove it)")
        if self.rounding is not None and not with_moments:
            raise SpecError("rounding", "applies to the printed mean and sd of a split; the arms give none")

    @property
    def printed_moments(self) -> bool:
        """A split printed with each arm's mean and SD (fitted within their rounding)."""
        return self.is_split and all(s.mean is not None for s in self.arms.values())

    @property
    def is_split(self) -> bool:
        return self.type == "continuous" and bool(self.cutpoints)

    @property
    def n_bins(self) -> int:
        return len(self.cutpoints) + 1

    def _check_summary(self, key: str, s: Summary) -> None:
        t = self.type
        if t == "binary":
            if s.p is None and s.count is None and s.level_probs() is None:
                raise SpecError(key, "a binary variable needs p or count")
            if s.level_probs() is not None and len(s.level_probs()) != 2:
                raise SpecError(key, "binary counts/proportions need exactly 2 entries [no, yes]")
        elif t == "categorical":
            probs = s.level_probs()
            if probs is None:
                raise SpecError(key, "a categorical variable needs counts or proportions")
            if len(probs) != len(self.levels):
                raise SpecError(key, f"has {len(probs)} entries for {len(self.levels)} levels {list(self.levels)}")
        elif self.is_split:
            probs = s.level_probs()
            if probs is None:
                raise SpecError(key, f"a variable with cutpoints needs counts or proportions for its "
                                f"{self.n_bins} bins")
            if len(probs) != self.n_bins:
                raise SpecError(key, f"has {len(probs)} entries for {self.n_bins} bins "
                                f"(cutpoints {list(self.cutpoints)})")
        else:
            if s.sd is None and s.mean is None and s.median is None:
                raise SpecError(key, f"a {t} variable needs mean/sd, or median with q1/q3 or min/max")
            if s.mean is None and s.median is None:
                raise SpecError(key, "needs a location: mean or median")
            if s.sd is None and not ((s.q1 is not None and s.q3 is not None)
                                     or (s.min is not None and s.max is not None)):
                raise SpecError(key, "needs a spread: sd, q1 and q3, or min and max")
            lo = self.lower if self.lower is not None else (0.0 if self.distribution != "normal" else None)
            if t == "count" and self.lower is None:
                lo = 1.0
            for k in ("mean", "median"):
                v = getattr(s, k)
                if v is not None and lo is not None and v <= lo and not (t == "count" and v == lo and s.sd is None):
                    raise SpecError(f"{key}.{k}", f"must exceed the lower bound {lo}, got {v}")
                if v is not None and self.upper is not None and v >= self.upper:
                    raise SpecError(f"{key}.{k}", f"must be below the upper bound {self.upper}, got {v}")

    def arm_probs(self, label: str, n: int | None = None) -> tuple[float, ...]:
        """Level (or bin) probabilities in arm ``label`` of size ``n``; binary as (P(0), P(1))."""
        s = self.arms[label]
        probs = s.level_probs()
        if probs is not None:
            return probs
        if self.type == "binary":
            if s.p is not None:
                return (1.0 - s.p, s.p)
            if n is None:
                raise ValueError(f"n: the arm size is needed to turn count {s.count} into a proportion")
            return (1.0 - s.count / n, s.count / n)
        raise ValueError(f"label: variable {self.name!r} has no level probabilities in arm {label!r}")


_RESERVED = {"arm", "treated", "os_time", "os_event", "pfs_time", "pfs_event", "response",
             "true_ps", "true_ps_measured", "systemic_start", "systemic_duration", "entry_time"}


@dataclass(frozen=True)
class Correlation:
    """Gaussian-copula correlation: a default matrix and explicit latent-scale pairs."""

    default: str = "clinical"
    pairs: tuple[tuple[str, str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.default not in ("clinical", "independent"):
            raise SpecError("default", f"must be 'clinical' or 'independent', got {self.default!r}")
        out = []
        for i, pr in enumerate(self.pairs):
            if isinstance(pr, (str, bytes)) or len(pr) != 3:
                raise SpecError(f"pairs[{i}]", f"must be [name, name, r], got {pr!r}")
            a, b, r = pr
            r = _finite(f"pairs[{i}][2]", r)
            if not -1.0 < r < 1.0:
                raise SpecError(f"pairs[{i}][2]", f"correlation must lie in (-1, 1), got {r}")
            if a == b:
                raise SpecError(f"pairs[{i}]", f"pairs a variable with itself: {a!r}")
            out.append((str(a), str(b), r))
        _set(self, "pairs", tuple(out))


@dataclass(frozen=True)
class Derived:
    """A variable computed from generated ones (ALBI, Child-Pugh)."""

    name: str
    kind: str
    inputs: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SpecError("name", f"must be a snake_case identifier, got {self.name!r}")
        if self.kind not in DERIVED_KINDS:
            raise SpecError("kind", f"must be one of {DERIVED_KINDS}, got {self.kind!r}")
        _set(self, "inputs", FrozenDict({str(k): str(v) for k, v in dict(self.inputs).items()}))


@dataclass(frozen=True)
class Unmeasured:
    """Binary unmeasured confounder: prevalence, treatment odds ratio, outcome HRs."""

    name: str = "u_confounder"
    prevalence: float = 0.5
    treatment_or: float = 1.0
    os_hr: float = 1.0
    pfs_hr: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.startswith("u_") or not self.name.isidentifier():
            raise SpecError("name", f"must be an identifier starting with 'u_', got {self.name!r}")
        p = _prob("prevalence", self.prevalence)
        if not 0 < p < 1:
            raise SpecError("prevalence", f"must lie strictly between 0 and 1, got {p}")
        _set(self, "prevalence", p)
        for k in ("treatment_or", "os_hr"):
            _set(self, k, _ratio(k, getattr(self, k)))
        if self.pfs_hr is not None:
            _set(self, "pfs_hr", _ratio("pfs_hr", self.pfs_hr))


@dataclass(frozen=True)
class MissingRule:
    """Missingness of one covariate: MCAR, or MAR through a logistic model on another
    (``depends_on``), on its true value as generated, also where another rule blanks it."""

    variable: str
    rate: float
    mechanism: str = "MCAR"
    depends_on: str | None = None
    odds_ratio: float = 3.0

    def __post_init__(self) -> None:
        r = _prob("rate", self.rate)
        if r >= 1:
            raise SpecError("rate", f"must be < 1, got {r}")
        _set(self, "rate", r)
        if self.mechanism not in MISSING_MECHANISMS:
            raise SpecError("mechanism", f"must be one of {MISSING_MECHANISMS}, got {self.mechanism!r}")
        if self.mechanism == "MAR" and not self.depends_on:
            raise SpecError("depends_on", "MAR missingness needs depends_on = <variable>")
        _set(self, "odds_ratio", _ratio("odds_ratio", self.odds_ratio))
