"""Option validators shared by the capability tables of populations, adjustments, estimates.

Each validator takes the raw TOML value and returns the normalised value or raises
:class:`OptionError` with a message saying what was expected. The tables are data, so
``tacebench check`` and the compiler read the same rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .terms import TermError, parse_term

__all__ = ["Option", "OptionError", "boolean", "choice", "number", "integer", "terms",
           "percentiles", "label", "REQUIRED"]


class OptionError(ValueError):
    pass


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED = _Required()


@dataclass(frozen=True)
class Option:
    check: Callable[[Any], Any]
    default: Any = None
    doc: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == v


def boolean(v):
    if not isinstance(v, bool):
        raise OptionError("expected true or false")
    return v


def choice(*allowed):
    def check(v):
        if v not in allowed:
            raise OptionError(f"expected one of {list(allowed)}")
        return v
    check.allowed = allowed
    return check


def number(lo=None, hi=None, *, open_lo=False):
    def check(v):
        if not _is_number(v):
            raise OptionError("expected a number")
        if lo is not None and (v < lo or (open_lo and v == lo)):
            raise OptionError(f"expected a number {'>' if open_lo else '>='} {lo}")
        if hi is not None and v > hi:
            raise OptionError(f"expected a number <= {hi}")
        return float(v)
    return check


def integer(lo=None):
    def check(v):
        if not isinstance(v, int) or isinstance(v, bool):
            raise OptionError("expected an integer")
        if lo is not None and v < lo:
            raise OptionError(f"expected an integer >= {lo}")
        return v
    return check


def terms(v):
    if not isinstance(v, list):
        raise OptionError("expected a list of covariate terms")
    out = []
    for i, t in enumerate(v):
        try:
            out.append(parse_term(t))
        except TermError as exc:
            raise OptionError(f"item [{i}] {t!r}: {exc}") from None
    texts = [t.text for t in out]
    dup = {x for x in texts if texts.count(x) > 1}
    if dup:
        raise OptionError(f"duplicated term(s) {sorted(dup)}")
    return tuple(out)


def percentiles(v):
    if (not isinstance(v, list) or len(v) != 2 or not all(_is_number(x) for x in v)
            or not 0 <= v[0] < v[1] <= 100):
        raise OptionError("expected [lo, hi] percentiles with 0 <= lo < hi <= 100")
    return (float(v[0]), float(v[1]))


def label(v):
    if not isinstance(v, str) or not v:
        raise OptionError("expected a non-empty string")
    return v


def check_options(table: dict[str, Option], raw, key: str, add, owner: str,
                  skip: tuple[str, ...] = ()) -> dict:
    """Check each ``name = value`` of ``raw`` against an option ``table``.

    An unknown name or a malformed value is reported through ``add(key, value, message,
    kind)`` and left out, so that every problem of a file is collected in one pass;
    ``owner`` names the analysis kind or filter in the message; names in ``skip`` (e.g. the
    ``method`` selector itself) are not options. Returns the checked values.
    """
    opts = {}
    for name, value in raw.items():
        if name in skip:
            continue
        if name not in table:
            add(f"{key}.{name}", value, f"unknown option for {owner}; expected {sorted(table)}",
                "unknown-option")
            continue
        try:
            opts[name] = table[name].check(value)
        except OptionError as exc:
            add(f"{key}.{name}", value, str(exc), "malformed")
    return opts
