"""The responders of each response endpoint: which level codes of a cohort's response
column count as a response (``[response]`` of ``analysis.toml``, bound to a cohort)."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from .problems import SPEC_GAP
from .schema import Schema


def compile_responders(response: Mapping, schema: Schema, add) -> dict[str, tuple[str, np.ndarray]]:
    """Each response endpoint of ``[response]`` -> (the column it reads, responder codes).

    Parameters
    ----------
    response : mapping of str to ResponseEndpoint
        ``AnalysisPlan.response``.
    schema : Schema
        The cohort's columns; ``schema.responses`` gives each response column's levels.
    add : callable
        ``Problems.add``: levels outside the column's are an error, a column the cohort
        does not generate a warning.

    Returns
    -------
    dict of str to (str, numpy.ndarray)
        Endpoint -> (column, level codes that count). A ``"level"`` endpoint becomes one
        endpoint per category, ``"<name>:<level>"``; an endpoint on a column the cohort
        does not generate is left out (its targets are then reported as not generated).
    """
    out: dict[str, tuple[str, np.ndarray]] = {}
    for ep, spec in response.items():
        known = schema.responses.get(spec.column)
        if known is None:
            if spec.column != "response":
                add(f"response.{ep}.column", spec.column, "no such response column; the cohort "
                    f"generates {sorted(schema.responses) or 'none'}; {SPEC_GAP}", "not-generated",
                    "warning")
            continue
        if spec.levels == "level":       # one endpoint per category: "<ep>:<level>"
            out.update({f"{ep}:{x}": (spec.column, np.array([float(j)]))
                        for j, x in enumerate(known)})
            continue
        out[ep] = (spec.column, np.array([known.index(x) for x in spec.levels if x in known],
                                         dtype=float))
        if any(x not in known for x in spec.levels):
            add(f"response.{ep}", list(spec.levels), f"levels must be among {list(known)} "
                f"(the levels of {spec.column!r})", "unknown-level")
    return out
