"""Building blocks of the cohort specification: errors, number checks, summaries.

``SpecError`` (a ``ValueError``) names the offending field and value; the TOML loader
prefixes the file and key path. ``Summary`` holds one arm's published summary of one
variable; ``AssumedSplit`` an explicitly assumed category split of a continuous one.
Everything here is re-exported by :mod:`simulate.spec`.

Tolerance for published percentages: proportions given for the levels of a variable
must sum to 1 within ``PROPORTION_TOL`` (0.015, i.e. the rounding of up to ~10
percentages printed with one decimal); they are then renormalised.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

#: sum-to-one tolerance for published level proportions (rounded percentages)
PROPORTION_TOL = 0.015


class FrozenDict(dict):
    """A read-only dict (picklable, unlike ``MappingProxyType``)."""

    def _readonly(self, *args, **kwargs):
        raise TypeError("spec mappings are read-only")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


class SpecError(ValueError):
    """Invalid cohort specification; ``problems`` lists ``(key, message)`` pairs."""

    def __init__(self, problems: list[tuple[str, str]] | str, message: str | None = None):
        if isinstance(problems, str):
            problems = [(problems, message or "invalid")]
        self.problems = list(problems)
        lines = [f"{k}: {m}" if k else m for k, m in self.problems]
        super().__init__(lines[0] if len(lines) == 1 else
                         f"{len(lines)} problems:\n  " + "\n  ".join(lines))

    def prefixed(self, prefix: str) -> "SpecError":
        sep = "" if not prefix else "."
        return SpecError([(f"{prefix}{sep}{k}" if k else prefix, m) for k, m in self.problems])


class CohortSpecError(SpecError):
    """A cohort's problems found when compiling it, after it loaded: ``problems`` keyed
    inside the cohort as its dataclasses name them (``outcomes.os.effects[0].hr``, what a
    caller adding its own ``cohorts.<name>.`` prefix expects), ``where`` the file and
    cohort (``cohort.toml: cohorts.main``), and the message naming both, as a load-time
    error's does."""

    def __init__(self, err: SpecError, where: str):
        super().__init__([(f"{where}.{k}" if k else where, m) for k, m in err.problems])
        self.problems, self.where = list(err.problems), where


def _finite(key: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(key, f"must be a number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise SpecError(key, f"must be finite, got {value!r}")
    if positive and v <= 0:
        raise SpecError(key, f"must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise SpecError(key, f"must be >= 0, got {value!r}")
    return v


#: The range a hazard or odds ratio of the model may take: far wider than any a paper
#: reports (|log ratio| <= 13.8), narrow enough that a typo such as ``1e308``, whose log
#: sends the generator's linear predictor past what ``exp`` can hold, is named here
#: rather than failing the calibration with no key.
RATIO_RANGE = (1e-6, 1e6)


def ratio_beyond(log_ratio: float) -> str | None:
    """The ratio ``exp(log_ratio)`` as a message prints it when it leaves
    :data:`RATIO_RANGE` (``e^N`` where ``exp`` would overflow, ``1/...`` below the range),
    else None: the bound of a ratio the model compounds (a per-unit effect across a
    covariate's range, a monthly HR over months of therapy)."""
    size = abs(log_ratio)
    if size <= math.log(RATIO_RANGE[1]):
        return None
    text = f"e^{size:.0f}" if size > 700 else f"{math.exp(size):.3g}"
    return text if log_ratio > 0 else "1/" + text


def _ratio(key: str, value: Any) -> float:
    """A hazard or odds ratio: a finite number in :data:`RATIO_RANGE`."""
    v = _finite(key, value, positive=True)
    lo, hi = RATIO_RANGE
    if not lo <= v <= hi:
        raise SpecError(key, f"must lie in [{lo:g}, {hi:g}] (a hazard or odds ratio), "
                        f"got {value!r}")
    return v


def _prob(key: str, value: Any) -> float:
    v = _finite(key, value)
    if not 0.0 <= v <= 1.0:
        raise SpecError(key, f"must lie in [0, 1], got {value!r}")
    return v


def _count(key: str, value: Any) -> int:
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value != int(value) or value < 0):
        raise SpecError(key, f"must be a non-negative integer, got {value!r}")
    return int(value)


def _set(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class Summary:
    """One arm's published summary of one variable (only the fields the paper gives).

    Continuous/count: any of ``mean``, ``sd``, ``median``, ``q1``, ``q3``, ``min``,
    ``max``. Binary: ``p`` or ``count``. Categorical and category splits of a
    continuous variable: ``counts`` or ``proportions`` per level / bin.
    """

    mean: float | None = None
    sd: float | None = None
    median: float | None = None
    q1: float | None = None
    q3: float | None = None
    min: float | None = None
    max: float | None = None
    p: float | None = None
    count: int | None = None
    counts: tuple[int, ...] | None = None
    proportions: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        for k in ("mean", "median", "q1", "q3", "min", "max"):
            v = getattr(self, k)
            if v is not None:
                _set(self, k, _finite(k, v))
        if self.sd is not None:
            _set(self, "sd", _finite("sd", self.sd, positive=True))
        if self.p is not None:
            _set(self, "p", _prob("p", self.p))
        if self.count is not None:
            _set(self, "count", _count("count", self.count))
        if self.counts is not None:
            if isinstance(self.counts, (str, bytes)) or not hasattr(self.counts, "__len__"):
                raise SpecError("counts", f"must be a list of integers, got {self.counts!r}")
            _set(self, "counts", tuple(_count(f"counts[{i}]", c) for i, c in enumerate(self.counts)))
            if sum(self.counts) <= 0:
                raise SpecError("counts", f"must not all be zero, got {list(self.counts)}")
        if self.proportions is not None:
            if isinstance(self.proportions, (str, bytes)) or not hasattr(self.proportions, "__len__"):
                raise SpecError("proportions", f"must be a list, got {self.proportions!r}")
            ps = tuple(_prob(f"proportions[{i}]", v) for i, v in enumerate(self.proportions))
            if abs(sum(ps) - 1.0) > PROPORTION_TOL:
                raise SpecError("proportions", f"must sum to 1 (tolerance {PROPORTION_TOL} for rounded "
                                f"percentages), got {list(self.proportions)} summing to {sum(ps):.4f}")
            _set(self, "proportions", ps)
        for lo, hi in (("q1", "median"), ("median", "q3"), ("q1", "q3"), ("min", "max"),
                       ("min", "median"), ("median", "max")):
            a, b = getattr(self, lo), getattr(self, hi)
            if a is not None and b is not None and a > b:
                raise SpecError(hi, f"must be >= {lo} ({a}), got {b}")

    def fields(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    def spread(self) -> float | None:
        """The SD, else the normal-theory SD from the IQR (``(q3 - q1) / 1.349``), else from
        the range (``(max - min) / 4``); None when the summary gives no spread."""
        if self.sd is not None:
            return self.sd
        if self.q1 is not None and self.q3 is not None and self.q3 > self.q1:
            return (self.q3 - self.q1) / 1.349
        if self.min is not None and self.max is not None and self.max > self.min:
            return (self.max - self.min) / 4.0
        return None

    def level_probs(self, n: int | None = None) -> tuple[float, ...] | None:
        """Proportions per level from ``counts`` or ``proportions`` (renormalised)."""
        if self.counts is not None:
            tot = sum(self.counts)
            return tuple(c / tot for c in self.counts)
        if self.proportions is not None:
            tot = sum(self.proportions)
            return tuple(p / tot for p in self.proportions)
        return None


def missing_keys(key: str, cls: type, value: Mapping, exc: TypeError) -> list[tuple[str, str]]:
    """The required fields of dataclass ``cls`` absent from the TOML table ``value``, one
    ``(key.field, "is required")`` each; for any other TypeError its text."""
    required = [f.name for f in dataclasses.fields(cls)
                if f.init and f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    absent = [name for name in required if name not in value]
    if not absent:
        return [(key, str(exc).split(".__init__() ")[-1])]
    return [(f"{key}.{name}", "is required (the key is missing)") for name in absent]


_TEXT = {"str", "str | None"}


def text_problems(key: str, cls: type, value: Mapping) -> list[tuple[str, str]]:
    """A problem for each text field of dataclass ``cls`` given a non-text value in the
    TOML table ``value`` (a label given as a table or a number, say): checked before the
    class compares it with anything."""
    out = []
    for f in dataclasses.fields(cls):
        v = value.get(f.name)
        if f.type in _TEXT and v is not None and not isinstance(v, str):
            out.append((f"{key}.{f.name}" if key else f.name,
                        f"must be a string (text in quotes), got {v!r}"))
    return out


def _table_from(key: str, value: Any, cls: type, what: str, fields: str) -> Any:
    """``cls(**value)`` for a TOML table, errors prefixed with ``key``."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise SpecError(key, f"must be a table {what}, got {value!r}")
    allowed = set(cls.__dataclass_fields__)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SpecError(key, f"unknown {fields} {unknown}; allowed: {sorted(allowed)}")
    if text_problems(key, cls, value):
        raise SpecError(text_problems(key, cls, value))
    try:
        return cls(**value)
    except SpecError as e:
        raise e.prefixed(key) from None
    except TypeError as e:  # a required field is missing
        raise SpecError(missing_keys(key, cls, value, e)) from None


def summary_from(key: str, value: Any) -> Summary:
    return _table_from(key, value, Summary, "of summaries", "summary field(s)")


@dataclass(frozen=True)
class AssumedSplit:
    """An explicitly *assumed* category split of a continuous variable.

    For a variable published only as mean (SD) whose shape matters (a heavy-tailed lab
    such as AFP, analysed at a clinical cut point): bin ``i`` is ``[cut[i-1], cut[i])``
    and holds ``proportions[i]`` of every arm (or ``arms[label]`` per arm). The split is
    not a published number, so ``rationale`` (the evidence it rests on) is required.
    """

    cutpoints: tuple[float, ...]
    proportions: tuple[float, ...] | None = None
    arms: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    rationale: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.cutpoints, (str, bytes)) or not hasattr(self.cutpoints, "__len__") \
                or not len(self.cutpoints):
            raise SpecError("cutpoints", f"must be a non-empty list of numbers, got {self.cutpoints!r}")
        cuts = tuple(_finite(f"cutpoints[{i}]", c) for i, c in enumerate(self.cutpoints))
        if any(b <= a for a, b in zip(cuts, cuts[1:])):
            raise SpecError("cutpoints", f"must be strictly increasing, got {list(cuts)}")
        _set(self, "cutpoints", cuts)
        if not isinstance(self.rationale, str) or not self.rationale.strip():
            raise SpecError("rationale", "an assumed split must state its evidence (a non-empty string)")
        if self.proportions is None and not self.arms:
            raise SpecError("proportions", "give the assumed proportions (all arms) or arms.<label> = [...]")
        if self.proportions is not None:
            _set(self, "proportions", self._probs("proportions", self.proportions))
        if not isinstance(self.arms, Mapping):
            raise SpecError("arms", f"must be a table of label = [proportions], got {self.arms!r}")
        _set(self, "arms", FrozenDict({str(k): self._probs(f"arms.{k}", v) for k, v in self.arms.items()}))

    def _probs(self, key: str, value: Any) -> tuple[float, ...]:
        s = summary_from(key, {"proportions": value})
        if len(s.proportions) != len(self.cutpoints) + 1:
            raise SpecError(key, f"has {len(s.proportions)} entries for {len(self.cutpoints) + 1} bins "
                            f"(cutpoints {list(self.cutpoints)})")
        if min(s.proportions) <= 0:
            raise SpecError(key, f"every bin needs a positive share, got {list(s.proportions)}")
        return s.level_probs()

    def probs(self, label: str) -> tuple[float, ...]:
        """Bin proportions assumed in arm ``label``."""
        return self.arms.get(label, self.proportions)


def assumed_split_from(key: str, value: Any) -> AssumedSplit:
    return _table_from(key, value, AssumedSplit, "{cutpoints, proportions, rationale}", "key(s)")


# ---- helpers of the spec dataclasses: lists of tables, sub-tables, quotes

def _source(value: Any) -> None:
    """``source``: the verbatim quote of the paper an entry comes from (free text)."""
    if not isinstance(value, str):
        raise SpecError("source", f"must be a string (a verbatim quote), got {value!r}")


def _tuple(key: str, value: Any) -> tuple:
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise SpecError(key, f"must be a list, got {value!r}")
    return tuple(value)


def tables_of(key: str, value: Any, cls: type) -> tuple:
    """A list of ``cls`` from TOML tables (or ``cls`` instances); errors name ``key[i]``."""
    out = []
    for i, t in enumerate(_tuple(key, value)):
        try:
            out.append(t if isinstance(t, cls) else cls(**_kw(t, cls, f"{key}[{i}]")))
        except SpecError as err:
            raise err.prefixed(f"{key}[{i}]") from None
        except TypeError as err:       # a required key is missing
            raise SpecError(missing_keys(f"{key}[{i}]", cls, t, err)) from None
    return tuple(out)


def _kw(value: Any, cls: type, key: str) -> dict:
    if not isinstance(value, Mapping):
        raise SpecError("", f"must be a table, got {value!r}")
    allowed = set(cls.__dataclass_fields__)
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise SpecError("", f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    if text_problems("", cls, value):
        raise SpecError(text_problems("", cls, value))
    return dict(value)


def _sub(owner, key: str, cls) -> None:
    """Build the sub-table ``key`` of ``owner`` as ``cls``, prefixing its errors."""
    value = getattr(owner, key)
    if value is not None and not isinstance(value, cls):
        try:
            _set(owner, key, cls(**_kw(value, cls, key)))
        except SpecError as err:
            raise err.prefixed(key) from None
