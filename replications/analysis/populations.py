"""Population filters: which patients an analysis uses.

A population is one filter or a list of filters applied in order (all must hold):

=================== ============================================ ==========================
filter              TOML                                         keeps
=================== ============================================ ==========================
all                 ``"all"``                                    everyone
response_assessed   ``"response_assessed"``                      patients with a response
                                                                 assessment (the paper's
                                                                 "imaging cohort")
landmark            ``{ landmark = 3, endpoint = "os" }``        patients still at risk at
                                                                 the landmark; survival
                                                                 times restart there
                                                                 (Anderson, Cain & Gelber
                                                                 1983)
where               ``{ where = "tace==Yes" }``                  rows where a 0/1 term is 1
arm                 ``{ arm = "TACE+sorafenib" }``               one arm (single-arm models)
=================== ============================================ ==========================
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from tacebench.records import ArrayRecord

from .options import REQUIRED, Option, OptionError, check_options, label, number
from .schema import Schema
from .terms import TermError, bind_terms, parse_term

__all__ = ["POPULATIONS", "PopulationKind", "Subset", "parse_population"]


@dataclass(frozen=True, eq=False)
class Subset(ArrayRecord):
    """Rows of the cohort in the analysis population and the landmark, if any."""

    index: np.ndarray
    landmark: tuple[str, float] | None = None


@dataclass(frozen=True)
class PopulationKind:
    name: str
    options: Mapping[str, Option]
    needs_response: bool = False
    doc: str = ""


def _where(v):
    try:
        t = parse_term(v)
    except TermError as exc:
        raise OptionError(str(exc)) from None
    if not t.is_indicator:
        raise OptionError("`where` needs a 0/1 condition such as \"tace==Yes\" or \"age>=60\"")
    return t


POPULATIONS: dict[str, PopulationKind] = {
    "all": PopulationKind("all", {}, doc="everyone in the cohort"),
    "response_assessed": PopulationKind("response_assessed", {}, needs_response=True,
                                        doc="patients with a tumour-response assessment"),
    "landmark": PopulationKind("landmark", {
        "landmark": Option(number(0, open_lo=True), REQUIRED, "months"),
        "endpoint": Option(label, "os", "survival endpoint that defines 'alive at landmark'"),
    }, doc="alive and at risk at the landmark; time restarts there"),
    "where": PopulationKind("where", {"where": Option(_where, REQUIRED, "0/1 term")},
                            doc="rows where a 0/1 condition holds"),
    "arm": PopulationKind("arm", {"arm": Option(label, REQUIRED, "arm label")},
                          doc="one arm only"),
}


@dataclass(frozen=True)
class PopulationStep:
    kind: str
    options: Mapping[str, Any]


def parse_population(raw, add_problem: Callable[[str, Any, str, str], None], key: str
                     ) -> tuple[PopulationStep, ...]:
    """Parse the ``population`` value; reports problems through ``add_problem``."""
    items = raw if isinstance(raw, list) else [raw]
    steps = []
    for i, item in enumerate(items):
        k = f"{key}[{i}]" if isinstance(raw, list) else key
        if isinstance(item, str):
            if item not in ("all", "response_assessed"):
                add_problem(k, item, "unknown population filter; expected one of "
                            f"{sorted(POPULATIONS)}", "unknown-population")
                continue
            steps.append(PopulationStep(item, {}))
        elif isinstance(item, Mapping):
            kinds = [n for n in ("landmark", "where", "arm") if n in item]
            if len(kinds) != 1:
                add_problem(k, dict(item), "a population table needs exactly one of "
                            "`landmark`, `where`, `arm`", "unknown-population")
                continue
            pk = POPULATIONS[kinds[0]]
            opts = check_options(pk.options, item, k, add_problem, f"the {pk.name} filter")
            for name, opt in pk.options.items():
                if name not in opts and not opt.required:
                    opts[name] = opt.default
            if all(n in opts for n in pk.options):
                steps.append(PopulationStep(pk.name, opts))
        else:
            add_problem(k, item, "expected \"all\", \"response_assessed\" or a table such "
                        "as { landmark = 3, endpoint = \"os\" }", "unknown-population")
    return tuple(steps)


def validate_population(steps, schema: Schema, add_problem, key: str) -> None:
    """Check the filters against what the cohort generates."""
    for s in steps:
        if POPULATIONS[s.kind].needs_response and not schema.has("response"):
            add_problem(key, s.kind, "the cohort has no tumour-response model", "not-generated")
        if s.kind == "landmark" and s.options["endpoint"] not in schema.endpoints:
            add_problem(f"{key}.endpoint", s.options["endpoint"],
                        f"the cohort generates no such endpoint; it has {list(schema.endpoints)}",
                        "not-generated")
        if s.kind == "where":
            try:
                bind_terms([s.options["where"]], schema)
            except TermError as exc:
                add_problem(f"{key}.where", s.options["where"].text, str(exc), "not-generated")
        if s.kind == "arm" and s.options["arm"] not in schema.arms:
            add_problem(f"{key}.arm", s.options["arm"],
                        f"no such arm; arms are {list(schema.arms)}", "unknown-arm")


def compile_population(steps, schema: Schema, levels=None) -> Callable[[Mapping], Subset]:
    """A function from cohort columns to the :class:`Subset` of analysed rows."""
    ops = []
    landmark = None
    for s in steps:
        if s.kind == "response_assessed":
            ops.append(lambda c: np.asarray(c["response"]) >= 0)
        elif s.kind == "landmark":
            ep, at = s.options["endpoint"], s.options["landmark"]
            landmark = (ep, at)
            ops.append(lambda c, ep=ep, at=at: np.asarray(c[f"{ep}_time"]) > at)
        elif s.kind == "where":
            bound = bind_terms([s.options["where"]], schema, levels)
            ops.append(lambda c, b=bound: b.matrix(c)[:, 0] == 1.0)
        elif s.kind == "arm":
            code = schema.arms.index(s.options["arm"])
            ops.append(lambda c, code=code: np.asarray(c["arm"]) == code)

    def run(columns: Mapping) -> Subset:
        n = len(columns["treated"])
        keep = np.ones(n, dtype=bool)
        for op in ops:
            keep &= op(columns)
        return Subset(np.flatnonzero(keep), landmark)

    return run
