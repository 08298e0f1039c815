"""Estimates an analysis shows without a paper number to judge them against.

An analysis of ``analysis.toml`` may list ``show = [{ quantity = "risk_difference",
endpoint = "os", time = 12 }, ...]``: what another analysis of the study's data would have
said (a doubly robust contrast, entropy-balanced HR, ...). Each entry is written as a
target is (``quantity``, ``endpoint``, ``arm``, ``contrast``, ``term``, ``level``,
``time``; no value, no source) and bound to its analysis by the same rules
(:func:`~.compile.bind_target`, called by ``replications.binding.bind_shown``); a ``contrast`` left out is the treated arm against the
reference arm. The run computes it on every replicate and the report shows its simulated
median and central 95% interval apart from the judged numbers. An entry that cannot be
computed is an error of ``tacebench check`` (a target that cannot is only a warning: it is
the paper's number, and its verdict says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .problems import MISSING

__all__ = ["SHOW_KEYS", "ShownEstimate", "parse_show"]

#: The keys of a shown estimate: a target's, less what the paper printed.
SHOW_KEYS = ("quantity", "endpoint", "arm", "contrast", "term", "level", "time")


@dataclass(frozen=True)
class ShownEstimate:
    """One estimate an analysis shows: ``id`` ``"<analysis>.show[j]"``, its fields (as a
    target's) and ``label``, what the report prints."""

    id: str
    analysis: str
    fields: Mapping[str, Any]
    key: str

    @property
    def label(self) -> str:
        f = self.fields
        parts = [f.get("endpoint"), f["quantity"]]
        if f.get("term") is not None:
            parts.append(str(f["term"]) + (f"={f['level']}" if f.get("level") else ""))
        if f.get("arm") is not None:
            parts.append(str(f["arm"]))
        if f.get("contrast") is not None:
            parts.append(" vs ".join(map(str, f["contrast"])))
        if f.get("time") is not None:
            parts.append(f"at {f['time']:g} months")
        return " ".join(str(p) for p in parts if p is not None)


def parse_show(raw, name: str, key: str, add) -> tuple[ShownEstimate, ...]:
    """The ``show`` list of analysis ``name`` (at ``key``, e.g. ``analyses[2]``); problems
    of form go to ``add``; whether the estimates exist is checked when they are bound."""
    if raw is MISSING:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        add(f"{key}.show", raw, "expected a list of tables such as { quantity = "
            "\"risk_difference\", endpoint = \"os\", time = 12 }")
        return ()
    out = []
    for j, entry in enumerate(raw):
        where = f"{key}.show[{j}]"
        unknown = sorted(set(entry) - set(SHOW_KEYS))
        if unknown:
            add(f"{where}.{unknown[0]}", entry[unknown[0]], f"unknown key; expected "
                f"{list(SHOW_KEYS)}", "unknown-key")
            continue
        if not isinstance(entry.get("quantity"), str):
            add(f"{where}.quantity", entry.get("quantity", MISSING), "a shown estimate needs "
                "its quantity, as a target's", "fill-me")
            continue
        time = entry.get("time")
        if time is not None and (isinstance(time, bool) or not isinstance(time, (int, float))
                                 or not time > 0):
            add(f"{where}.time", time, "expected a positive number of months", "malformed")
            continue
        out.append(ShownEstimate(f"{name}.show[{j}]", name, dict(entry), where))
    return tuple(out)
