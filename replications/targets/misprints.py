"""``misprint``: a number the paper prints wrongly, stated as the authors meant it.

A target's ``value`` / ``percent``, ``ci``, ``p``, ``se``, ``sd`` and ``count`` hold the
numbers meant; its ``misprint = {ci = [117, 2.41], why = "..."}`` holds the same keys as
printed and ``why``, what the correction rests on. The print is what the quote check looks
for in the target's source; everything that computes (verdicts, the reported SE,
intervals, accounting, the audit's rules) reads the target's own keys, the numbers meant,
so no reader can pick up the print by mistake. The audit reports each declared misprint as
a finding about the paper (rule ``misprint``), with the print next to the correction.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Mapping

from tacebench.replications.analysis.problems import Problems

from .fields import sub_table, text_value

__all__ = ["Misprint", "MISPRINT_KEYS", "parse_misprint", "corrected_texts", "as_printed",
           "misprint_pairs", "describe_misprint"]

#: TOML keys of a misprint -> the number fields (:attr:`Target.printed`) they print.
_FIELDS = {"value": ("value",), "percent": ("value",), "ci": ("ci_lo", "ci_hi"),
           "p": ("p",), "se": ("se",), "sd": ("sd",), "count": ("count",)}
MISPRINT_KEYS = frozenset(_FIELDS) | {"why"}
#: How a message names each field.
_NAMES = {"value": "estimate", "ci_lo": "CI", "ci_hi": "CI", "p": "p", "se": "SE",
          "sd": "SD", "count": "count"}


@dataclass(frozen=True)
class Misprint:
    """The numbers of a target the paper prints wrongly.

    ``numbers``: ``(field, printed value)`` for each field whose print differs from the
    number meant (fields as in :attr:`Target.printed`: ``value``, ``ci_lo``, ``ci_hi``,
    ``p``, ``se``, ``sd``, ``count``; a percentage on the 0-1 scale, as the target stores
    it); ``texts``: ``(field, printed text)`` as the quote prints them; ``why``: what the
    correction rests on.
    """

    numbers: tuple[tuple[str, float], ...]
    why: str
    texts: tuple[tuple[str, str], ...] = ()

    def printed(self, name: str) -> float | None:
        """The printed value of field ``name``; None if it is printed as meant."""
        return dict(self.numbers).get(name)


def _number(v: Any) -> bool:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def parse_misprint(raw: Mapping, meant: Mapping[str, Any], path: str,
                   probs: Problems) -> Misprint | None:
    """The ``misprint`` table of one raw target, or None (absent or with problems).

    Parameters
    ----------
    raw : Mapping
        The raw ``[[targets]]`` entry.
    meant : Mapping
        The target's parsed numbers as meant: ``value`` (0-1 for a percentage), ``ci``,
        ``p``, ``se``, ``sd``, ``count``, and ``percent_scale``.
    path : str
        The entry's location (``targets[3]``) for messages.
    probs : Problems
        Where problems are recorded: a key the target does not state, a malformed
        number, a print equal to the number meant, a missing ``why``.

    Returns
    -------
    Misprint or None
    """
    n0, mpath = len(probs), f"{path}.misprint"
    m = sub_table(raw, "misprint", MISPRINT_KEYS, probs, path,
                  "{<key> = <number as printed>, why}")
    if m is None:
        return None
    why = text_value(m, "why", probs, mpath, required=True)
    keys = [k for k in _FIELDS if k in m]
    if not keys:
        probs.add(mpath, dict(m), f"must give at least one number as printed "
                  f"({', '.join(_FIELDS)})", "missing-key")
    numbers = []
    for k in keys:
        v, here = m[k], f"{mpath}.{k}"
        if k not in raw:
            probs.add(here, v, f"the target states no {k}: give the number meant as the "
                      f"target's {k}, the print here", "missing-key")
            continue
        if k == "ci":
            if not (isinstance(v, list) and len(v) == 2 and all(map(_number, v))):
                probs.add(here, v, "must be [lower, upper] as printed, two finite numbers",
                          "malformed-number")
                continue
            given = (float(v[0]), float(v[1]))
            scale = 100.0 if meant.get("percent_scale") else 1.0
            given = (given[0] / scale, given[1] / scale)
            was = meant.get("ci")
        elif not _number(v):
            probs.add(here, v, "must be a finite number, as printed", "malformed-number")
            continue
        else:
            given = (float(v) / 100.0 if k == "percent" else float(v),)
            was = (meant.get(_FIELDS[k][0]),)
        if was is None or None in was:
            continue                      # the target's own key reports its problem
        diff = [(f, g) for f, g, w in zip(_FIELDS[k], given, was) if g != w]
        if not diff:
            probs.add(here, v, f"equals the number meant (the target's {k}): a misprint "
                      "records a print that differs from it", "malformed-value")
        numbers += diff
    if len(probs) > n0 or not numbers:
        return None
    return Misprint(tuple(numbers), why)


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def corrected_texts(meant: Mapping[str, float], misprint: Misprint,
                    found: Mapping[str, str], percent: bool) -> dict[str, str]:
    """How each corrected number reads: with its own digits (``1.17``), or with as many
    decimals as the target's other printed estimate and bounds when they have more (a
    bound meant ``1.00`` beside ``1.00`` is written ``1.0`` in TOML), which sets the
    rounding the audit and the verdict give it.

    Parameters
    ----------
    meant : Mapping
        Field -> the number meant, on the stored scale.
    misprint : Misprint
        The declaration (its fields are the corrected ones).
    found : Mapping
        Field -> printed text of the numbers printed as meant.
    percent : bool
        The estimate and bounds are percentages (stored on the 0-1 scale).
    """
    near = [_decimals(found[f]) for f in ("value", "ci_lo", "ci_hi") if f in found]
    out = {}
    for name, _ in misprint.numbers:
        v = meant[name] * (100.0 if percent and name in ("value", "ci_lo", "ci_hi") else 1.0)
        own = repr(float(v))
        own = own[:-2] if own.endswith(".0") else own
        d = max([_decimals(own)] + (near if name in ("value", "ci_lo", "ci_hi") else []))
        out[name] = f"{v:.{d}f}"
    return out


def as_printed(t):
    """The target with the numbers the paper prints (the audit's view of the print); a
    target without a misprint is returned as it is. An estimate read off a CI printed
    alone stays the corrected CI's centre: the print has no estimate of its own."""
    m = t.misprint
    if m is None:
        return t
    nums = {"value": t.value, "p": t.p, "se": t.se, "sd": t.sd, "count": t.count,
            **({"ci_lo": t.ci[0], "ci_hi": t.ci[1]} if t.ci else {})}
    nums.update(m.numbers)
    texts = {**dict(t.printed), **dict(m.texts)}
    ci = (nums["ci_lo"], nums["ci_hi"]) if t.ci else None
    return replace(t, value=nums["value"], p=nums["p"], se=nums["se"], sd=nums["sd"],
                   count=nums["count"], ci=ci, misprint=None, printed=tuple(texts.items()))


def misprint_pairs(t) -> list[tuple[str, str, str]]:
    """``[("CI", "117-2.41", "1.17-2.41")]``: each misprinted number of ``t`` (estimate,
    CI, p, SE, SD, count) as printed and as meant; ``[]`` without a misprint."""
    m = t.misprint
    if m is None:
        return []
    shown = dict(t.printed)
    print_text = {**shown, **dict(m.texts)}
    pct = "%" if t.percent_scale else ""
    out = []
    for name in ("value", "ci", "p", "se", "sd", "count"):
        fields = ("ci_lo", "ci_hi") if name == "ci" else (name,)
        if all(m.printed(f) is None for f in fields):
            continue
        suffix = pct if name in ("value", "ci") else ""
        out.append((_NAMES[fields[0]],
                    "-".join(print_text.get(f, "?") for f in fields) + suffix,
                    "-".join(shown.get(f, "?") for f in fields) + suffix))
    return out


def describe_misprint(t) -> str:
    """``"CI printed 117-2.41, read as 1.17-2.41"`` (``""`` without a misprint)."""
    return "; ".join(f"{label} printed {was}, read as {now}"
                     for label, was, now in misprint_pairs(t))
