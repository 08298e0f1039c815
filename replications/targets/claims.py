"""``[[claims]]``: statements in a paper's words that its own numbers can contradict.

A claim is a quote (verbatim, like a target's ``source``) and its structured reading,
which the audit checks against the targets (:mod:`replications.audit.claims`):

- ``balance``: every SMD of ``analysis`` (or of ``terms``) is below ``threshold``
  ("after matching all SMDs were below 10%", "well balanced after weighting" with the
  paper's declared threshold);
- ``significance``: the ``terms`` are (``significant = true``) or are not significant at
  ``alpha`` in ``analysis`` ("no significant effect was found for age, ...");
- ``not_determined``: the paper says ``endpoints`` were not determined;
- ``conversion``: ``value`` ``unit`` printed as ``converted`` ``converted_unit``
  ("43 weeks (10.8 months)");
- ``follow_up``: a follow-up of ``follow_up_max`` months printed for a study whose
  patients were followed between ``window`` (``["2013-01", "2023-12"]``, first and last
  month);
- ``direction``: the sentence says a ``higher`` value of ``variable`` is ``better`` or
  ``worse`` for the patient ("more preserved liver function (higher ALBI scores)":
  ``variable = "albi"``, ``higher = "better"``), checked against the variable's declared
  clinical direction (:data:`CLINICAL_DIRECTIONS`) and the ratios listed in ``estimates``
  (the paper's HR or OR of the higher vs the lower level).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from tacebench.replications.analysis.problems import MISSING, Problems

from .fields import text_value, unknown_keys

__all__ = ["Claim", "CLAIM_KINDS", "CLAIM_KEYS", "CLINICAL_DIRECTIONS", "DIRECTIONS",
           "UNITS_IN_DAYS", "parse_claims"]

#: Keys each claim kind requires (beyond ``id``, ``kind``, ``where``, ``quote``).
CLAIM_KINDS: dict[str, tuple[str, ...]] = {
    "balance": ("analysis", "threshold"),
    "significance": ("analysis", "terms", "significant"),
    "not_determined": ("endpoints",),
    "conversion": ("value", "unit", "converted", "converted_unit"),
    "follow_up": ("follow_up_max", "window"),
    "direction": ("variable", "higher"),
}
#: Graded covariates whose higher values mean a sicker patient, by the scales' definitions:
#: ALBI grade (Johnson PJ et al., J Clin Oncol 2015;33:550-8), Child-Pugh class (Pugh RN
#: et al., Br J Surg 1973;60:646-9), BCLC stage (Llovet JM et al., Semin Liver Dis
#: 1999;19:329-38), ECOG performance status (Oken MM et al., Am J Clin Oncol 1982;5:649-55)
#: and alpha-fetoprotein, a marker of tumour burden and poor prognosis (EASL Clinical
#: Practice Guidelines, J Hepatol 2018;69:182-236).
CLINICAL_DIRECTIONS: dict[str, str] = {"albi": "worse", "child_pugh": "worse",
                                       "bclc": "worse", "ecog": "worse", "afp": "worse"}
DIRECTIONS = ("better", "worse")
CLAIM_KEYS = frozenset({"id", "kind", "where", "quote", "analysis", "terms", "threshold",
                        "significant", "alpha", "endpoints", "value", "unit", "converted",
                        "converted_unit", "follow_up_max", "window", "variable",
                        "higher", "estimates", "note"})
#: Length of each time unit in days (a month is 365.25 / 12 days, a year 365.25).
UNITS_IN_DAYS = {"days": 1.0, "weeks": 7.0, "months": 365.25 / 12, "years": 365.25}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Claim:
    """One claim: where it is printed, its quote, and its structured reading."""

    id: str
    kind: str
    where: str
    quote: str
    analysis: str | None = None
    terms: tuple[str, ...] = ()
    threshold: float | None = None
    significant: bool | None = None
    alpha: float = 0.05
    endpoints: tuple[str, ...] = ()
    value: float | None = None
    unit: str | None = None
    converted: float | None = None
    converted_unit: str | None = None
    follow_up_max: float | None = None
    window: tuple[str, str] | None = None
    note: str | None = None
    variable: str | None = None
    higher: str | None = None
    estimates: tuple[str, ...] = ()

    @property
    def window_months(self) -> int | None:
        """Months from the first to the end of the last month of ``window``."""
        if self.window is None:
            return None
        (y0, m0), (y1, m1) = (map(int, w.split("-")) for w in self.window)
        return (y1 - y0) * 12 + (m1 - m0) + 1


def _number(raw: Mapping, key: str, probs: Problems, path: str, *, positive=False):
    v = raw.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (positive and v <= 0):
        probs.add(f"{path}.{key}", v, "must be a " + ("positive " if positive else "")
                  + "number", "malformed-value")
        return None
    return float(v)


def _texts(raw: Mapping, key: str, probs: Problems, path: str) -> tuple[str, ...]:
    v = raw.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
        probs.add(f"{path}.{key}", v, "must be a list of names", "malformed-value")
        return ()
    return tuple(v)


def _parse_claim(raw: Any, path: str, probs: Problems) -> Claim | None:
    n0 = len(probs)
    if isinstance(raw, Mapping):
        unknown_keys(raw, CLAIM_KEYS, probs, path)
    else:
        probs.add(path, raw, "must be a table", "malformed-value")
        return None
    cid, kind, where, quote = (
        text_value(raw, key, probs, path, required=True, snake=key == "id",
                   choices=tuple(CLAIM_KINDS) if key == "kind" else None)
        for key in ("id", "kind", "where", "quote"))
    for key in CLAIM_KINDS.get(kind, ()):
        if key not in raw:
            probs.add(f"{path}.{key}", MISSING, f"a {kind} claim needs {key}", "missing-key")
    significant = raw.get("significant")
    if significant is not None and not isinstance(significant, bool):
        probs.add(f"{path}.significant", significant, "must be true or false",
                  "malformed-value")
    units = [raw.get(k) for k in ("unit", "converted_unit") if k in raw]
    for key, u in zip(("unit", "converted_unit"), units):
        if u not in UNITS_IN_DAYS:
            probs.add(f"{path}.{key}", u, f"must be one of {sorted(UNITS_IN_DAYS)}",
                      "unknown-value")
    window = raw.get("window")
    if window is not None and not (isinstance(window, list) and len(window) == 2 and all(
            isinstance(w, str) and _MONTH.match(w) for w in window) and window[0] <= window[1]):
        probs.add(f"{path}.window", window, 'must be ["YYYY-MM", "YYYY-MM"], first <= last',
                  "malformed-value")
    nums = {k: _number(raw, k, probs, path, positive=k != "value")
            for k in ("threshold", "alpha", "value", "converted", "follow_up_max")}
    analysis = text_value(raw, "analysis", probs, path)
    note = text_value(raw, "note", probs, path)
    terms, endpoints = _texts(raw, "terms", probs, path), _texts(raw, "endpoints", probs, path)
    variable = text_value(raw, "variable", probs, path, snake=True)
    higher = text_value(raw, "higher", probs, path, choices=DIRECTIONS)
    estimates = _texts(raw, "estimates", probs, path)
    if kind == "direction" and variable and variable not in CLINICAL_DIRECTIONS \
            and not estimates:
        probs.add(f"{path}.variable", variable, "has no declared clinical direction "
                  f"(known: {sorted(CLINICAL_DIRECTIONS)}); give the ratios it contradicts "
                  "in estimates", "unknown-value")
    if len(probs) != n0:
        return None
    return Claim(cid, kind, where, quote, analysis, terms, nums["threshold"], significant,
                 nums["alpha"] or 0.05, endpoints, nums["value"], raw.get("unit"),
                 nums["converted"], raw.get("converted_unit"), nums["follow_up_max"],
                 tuple(window) if window else None, note, variable, higher, estimates)


def parse_claims(data: Mapping, seen: Mapping[str, str], probs: Problems) -> tuple[Claim, ...]:
    """The ``[[claims]]`` tables of a parsed ``targets.toml``.

    Parameters
    ----------
    data : Mapping
        The whole parsed file.
    seen : Mapping
        Every target id of the file -> its location (a claim id may not repeat one).
    probs : Problems
        Where problems are recorded.

    Returns
    -------
    tuple of Claim
    """
    items = data.get("claims")
    if items is None:
        return ()
    if not isinstance(items, list):
        probs.add("claims", items, "must be an array of tables ([[claims]])", "malformed-value")
        return ()
    out, ids = [], {}
    for i, raw in enumerate(items):
        c = _parse_claim(raw, f"claims[{i}]", probs)
        if c is None:
            continue
        if c.id in seen or c.id in ids:
            probs.add(f"claims[{i}].id", c.id, "repeats the id of a target or claim "
                      f"({seen.get(c.id) or ids[c.id]})", "duplicate-id")
            continue
        missing = [e for e in c.estimates if e not in seen]
        if missing:
            probs.add(f"claims[{i}].estimates", missing, "names no target", "unknown-target")
            continue
        ids[c.id] = f"claims[{i}]"
        out.append(c)
    return tuple(out)
