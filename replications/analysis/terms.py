"""Covariate terms: how an analysis plan names the columns of a model.

A term is written the way a methods section states a covariate:

``"albumin"``
    the variable as generated: one column for continuous, count and binary variables, one
    dummy per non-reference level (reference = first level) for categorical ones;
``"age>=60"``, ``"afp>400"``, ``"tumor_size<5"``
    a 0/1 indicator of a threshold (papers dichotomise continuous covariates this way);
``"3<=tumor_size<5"``
    a 0/1 indicator of a band between two thresholds (a Table 1 row "3-5 cm" of a
    continuous variable: ``<`` or ``<=`` on each side, the lower bound first);
``"child_pugh==A6"``, ``"pvtt_type==III|IV"``, ``"response!=PD"``
    a 0/1 indicator of one or more levels of a categorical variable (or of a number);
``{ variable = "age", cut = [50, 60] }``
    a categorical variable made by cutting a continuous one, with dummies for all but the
    lowest band.

Terms are parsed once (:func:`parse_term`), bound to a cohort :class:`~.schema.Schema`
(:func:`bind_terms`) and then build design matrices from plain arrays on every replicate
without pandas (:meth:`BoundTerms.matrix`). Missing values stay NaN; rows with a NaN are
dropped or imputed by the analysis's ``missing`` rule.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping, Sequence

import numpy as np

from tacebench.simulate.table1_split import split_level

from .schema import ORACLE_COLUMNS, Schema

__all__ = ["Term", "BoundTerms", "parse_term", "bind_terms", "TermError", "split_condition",
           "in_codes"]

_EXPR = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|==|!=|>|<)\s*(\S(?:.*\S)?)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_BAND = re.compile(rf"^\s*{_NUMBER}\s*(<=|<)\s*([A-Za-z_][A-Za-z0-9_]*)\s*(<=|<)\s*{_NUMBER}\s*$")


class TermError(ValueError):
    """A term that cannot be parsed or bound; the message says why."""


@dataclass(frozen=True)
class Term:
    text: str
    variable: str
    op: str | None = None            # a comparison, or "band" (value: lo, lo_op, hi_op, hi)
    value: Any = None                # float for thresholds, tuple[str] for level sets
    cut: tuple[float, ...] = ()

    @property
    def is_indicator(self) -> bool:
        return self.op is not None


def parse_term(spec: Any) -> Term:
    """Parse a term from its TOML form (a string or a ``{variable, cut}`` table)."""
    if isinstance(spec, Mapping):
        var = spec.get("variable")
        cut = spec.get("cut")
        if not isinstance(var, str) or not _NAME.match(var):
            raise TermError("a term table needs `variable`, a column name")
        if (not isinstance(cut, (list, tuple)) or not cut
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in cut)
                or list(cut) != sorted(cut)):
            raise TermError("`cut` must be a non-empty increasing list of numbers")
        text = f"{var}[{','.join(f'{c:g}' for c in cut)}]"
        return Term(text, var.strip(), cut=tuple(float(c) for c in cut))
    if not isinstance(spec, str):
        raise TermError("a term is a string such as \"age>=60\" or a {variable, cut} table")
    m = _NAME.match(spec)
    if m:
        return Term(spec.strip(), m.group(1))
    m = _BAND.match(spec)
    if m:
        lo, lo_op, var, hi_op, hi = m.groups()
        if not float(lo) < float(hi):
            raise TermError(f"a band needs its lower bound first: {lo} is not below {hi}")
        return Term(spec.strip(), var, "band", (float(lo), lo_op, hi_op, float(hi)))
    m = _EXPR.match(spec)
    if not m:
        raise TermError("cannot parse; write NAME, NAME>=NUMBER, LOW<=NAME<HIGH or "
                        "NAME==LEVEL")
    var, op, rhs = m.groups()
    if op in ("==", "!="):
        parts = tuple(p.strip() for p in rhs.split("|"))
        if not all(parts):
            raise TermError(f"empty level in {rhs!r}")
        return Term(spec.strip(), var, op, parts)
    try:
        value = float(rhs)
    except ValueError:
        raise TermError(f"{op} needs a number, got {rhs!r}") from None
    return Term(spec.strip(), var, op, value)


@dataclass(frozen=True)
class _Bound:
    term: Term
    names: tuple[str, ...]
    kind: str     # raw | dummies | indicator_num | indicator_band | indicator_levels | cut
    codes: tuple[int, ...] = ()     # level codes (dummies: one per column; indicator: the set)

    @cached_property
    def code_values(self) -> np.ndarray:
        return np.asarray(self.codes, dtype=float)

    @cached_property
    def cut_values(self) -> np.ndarray:
        return np.asarray(self.term.cut)


@dataclass(frozen=True)
class BoundTerms:
    """Terms bound to a schema; :meth:`matrix` builds the design matrix from arrays."""

    parts: tuple[_Bound, ...]

    # computed once per bound terms: a replicate command asks ~18,000 times (the
    # propensity cache key of every analysis and variant on every replicate)
    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(n for p in self.parts for n in p.names)

    @cached_property
    def terms(self) -> tuple[Term, ...]:
        return tuple(p.term for p in self.parts)

    @cached_property
    def texts(self) -> tuple[str, ...]:
        """Each term's text, in order."""
        return tuple(p.term.text for p in self.parts)

    def columns_of(self, term_text: str) -> list[int]:
        """Indices of the design columns a term produced (by its text)."""
        out, j = [], 0
        for p in self.parts:
            if p.term.text == term_text:
                out.extend(range(j, j + len(p.names)))
            j += len(p.names)
        return out

    def without(self, term_text: str) -> "BoundTerms":
        return BoundTerms(tuple(p for p in self.parts if p.term.text != term_text))

    def matrix(self, columns: Mapping[str, np.ndarray], index: np.ndarray | None = None
               ) -> np.ndarray:
        if not self.parts:
            n = len(next(iter(columns.values()))) if index is None else len(index)
            return np.empty((n, 0))
        # each term writes its columns into one preallocated matrix (a replicate command
        # builds ~90,000 term columns: their temporaries and the final stack cost more
        # than the comparisons)
        out, j = None, 0
        for p in self.parts:
            x = _take(columns, p.term.variable, index)
            if out is None:
                out = np.empty((x.shape[0], len(self.names)))
            k = len(p.names)
            _fill(p, x, out[:, j:j + k])
            j += k
        return out


def _take(columns, name, index):
    x = np.asarray(columns[name])
    return (x if index is None else x[index]).astype(float, copy=False)


#: The comparison of a numeric indicator, by its operator.
_COMPARE = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less,
            "==": np.equal, "!=": np.not_equal}
#: The lower bound of a band, ``LOW < x`` or ``LOW <= x``, by its operator (bound first).
_BELOW = {"<": np.less, "<=": np.less_equal}


def in_codes(x: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``np.isin(x, codes)`` for a few codes, by one comparison each (the same booleans,
    without isin's general machinery, which costs more than the comparisons here)."""
    if not codes.size:
        return np.zeros(x.shape, dtype=bool)
    hit = x == codes[0]
    for c in codes[1:]:
        hit |= x == c
    return hit


def _fill(p: _Bound, x: np.ndarray, out: np.ndarray) -> None:
    """Write term ``p``'s design columns of values ``x`` into ``out`` (n, its columns);
    rows whose value is missing (NaN, or a negative level code) get NaN."""
    if p.kind == "raw":
        out[:, 0] = x
        return
    if p.kind == "dummies":
        np.equal(x[:, None], p.code_values[None, :], out=out)
    elif p.kind == "indicator_levels":
        hit = in_codes(x, p.code_values)
        out[:, 0] = hit if p.term.op == "==" else ~hit
    elif p.kind == "indicator_num":
        with np.errstate(invalid="ignore"):
            _COMPARE[p.term.op](x, p.term.value, out=out[:, 0])
    elif p.kind == "indicator_band":
        lo, lo_op, hi_op, hi = p.term.value
        with np.errstate(invalid="ignore"):
            out[:, 0] = _BELOW[lo_op](lo, x) & _COMPARE[hi_op](x, hi)
    else:  # cut
        band = np.searchsorted(p.cut_values, x, side="right")
        np.equal(band[:, None], np.arange(1, p.cut_values.size + 1)[None, :], out=out)
    missing = ~np.isfinite(x)
    if p.kind in ("dummies", "indicator_levels"):
        missing |= x < 0
    out[missing] = np.nan


def _did_you_mean(name: str, columns) -> str:
    """'; did you mean 'pvtt'?' for a misspelt or mis-cased column, else ''."""
    observable = [c for c in columns if c not in ORACLE_COLUMNS]
    same_case = [c for c in observable if c.lower() == name.lower()]
    close = same_case or difflib.get_close_matches(name, observable, n=1, cutoff=0.8)
    return f"; did you mean {close[0]!r}?" if close else ""


def bind_terms(terms: Sequence[Term], schema: Schema, levels: Mapping | None = None
               ) -> BoundTerms:
    """Bind parsed terms to a schema; raises :class:`TermError` naming the first bad term.

    ``levels`` (from a generated cohort) overrides the schema's levels where given, since a
    derived categorical's labels are only known once generated.
    """
    parts = []
    for t in terms:
        col = schema.columns.get(t.variable)
        if col is None:
            raise TermError(f"the cohort does not generate a column {t.variable!r}"
                            + _did_you_mean(t.variable, schema.columns))
        if t.variable in ORACLE_COLUMNS or col.unmeasured:
            raise TermError(f"{t.variable!r} is not observable (unmeasured or the true PS)")
        lv = tuple(str(x) for x in (levels or {}).get(t.variable, col.levels))
        categorical = bool(lv) and col.kind in ("categorical", "derived")
        if t.cut:
            if categorical:
                raise TermError(f"`cut` needs a numeric variable; {t.variable!r} is categorical")
            names = tuple(f"{t.variable}>={c:g}" for c in t.cut)
            parts.append(_Bound(t, names, "cut"))
        elif t.op in ("==", "!=") and categorical:
            unknown = [v for v in t.value if v not in lv]
            if unknown:
                raise TermError(f"{t.variable!r} has no level {unknown[0]!r}; levels are {lv}")
            parts.append(_Bound(t, (t.text,), "indicator_levels",
                                tuple(lv.index(v) for v in t.value)))
        elif t.op == "band":
            if categorical:
                raise TermError(f"a band needs a numeric variable; {t.variable!r} is "
                                f"categorical (write {t.variable}==LEVEL|LEVEL)")
            parts.append(_Bound(t, (t.text,), "indicator_band"))
        elif t.op is not None:
            if categorical:
                raise TermError(f"{t.op} needs a numeric variable; {t.variable!r} is categorical"
                                f" (write {t.variable}==LEVEL)")
            if t.op in ("==", "!="):
                try:
                    t = Term(t.text, t.variable, t.op, float(t.value[0]))
                except ValueError:
                    raise TermError(f"{t.variable!r} is numeric; compare it with a number")
            parts.append(_Bound(t, (t.text,), "indicator_num"))
        elif categorical:
            names = tuple(f"{t.variable}[{lab}]" for lab in lv[1:])
            parts.append(_Bound(t, names, "dummies", tuple(range(1, len(lv)))))
        else:
            parts.append(_Bound(t, (t.text,), "raw"))
    return BoundTerms(tuple(parts))


def split_condition(variable: str, level: str, schema: Schema) -> str | None:
    """The condition a printed split level names on a continuous column, else None.

    A Table 1 row ``Age > 60 years`` (level ``"> 60"``) of a continuous variable is the
    share of the arm in the bin above the cut: ``"age>=60"`` (bins are ``[cut, ...)``, as the
    generator cuts them; the boundary has probability 0 for a continuous variable). A
    categorical variable keeps its level names, whatever they look like.

    Parameters
    ----------
    variable : str
        The target's ``term``.
    level : str
        The target's ``level``.
    schema : Schema
        The analysed cohort's columns.

    Returns
    -------
    str or None
        ``"age>=60"`` / ``"age<60"``, or None when the level is not a cut comparison or the
        column is not a continuous one.
    """
    cut = split_level(level)
    col = schema.columns.get(variable)
    if cut is None or col is None or col.kind != "continuous" or col.levels:
        return None
    return f"{variable}{'>=' if cut[0] == '>' else '<'}{cut[1]:g}"
