"""``analysis.toml``: the paper's analysis plan, parsed into frozen dataclasses.

Parsing never stops at the first mistake: every problem is appended to a
:class:`~.problems.Problems` list naming the file, the key and the value, so that
``tacebench check`` can show them all at once. :func:`load_plan` raises a
:class:`~.problems.StudyError` listing them; :func:`parse_plan` returns the plan and the list.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .adjustments import ADJUSTMENTS, check_combination
from .estimates import ESTIMATES
from .options import check_options
from .populations import PopulationStep, parse_population
from .problems import MISSING, Problems, toml_problem
from .readings import ReadingGroup, parse_readings
from .show import parse_show

__all__ = ["Analysis", "AnalysisPlan", "load_plan", "parse_plan", "DEFAULT_RESPONSE",
           "ResponseEndpoint"]


@dataclass(frozen=True)
class ResponseEndpoint:
    """A response endpoint of ``[response]``: the response column it reads and the levels
    that count as responders, or ``"level"`` (targets pick one category with ``level``)."""

    levels: tuple[str, ...] | str
    column: str = "response"


#: Response endpoints and the best-response levels that count as responders (mRECIST /
#: RECIST: objective response = CR + PR, disease control = CR + PR + SD). The value
#: "level" makes an endpoint whose targets pick one category with their ``level``.
DEFAULT_RESPONSE = {"orr": ResponseEndpoint(("CR", "PR")), "dcr": ResponseEndpoint(("CR", "PR", "SD")),
                    "response": ResponseEndpoint("level")}

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_ANALYSIS_KEYS = {"name", "cohort", "population", "adjustment", "estimates", "cox", "missing",
                  "description", "source", "smd_sd", "show"}
_TOP_KEYS = {"analyses", "response", "study", "aliases", "covariate_sets", "readings"}
_SET_OPTIONS = ("covariates", "outcome_covariates", "on", "treatment_covariates")


@dataclass(frozen=True)
class Analysis:
    name: str
    cohort: str = "main"
    population: tuple[PopulationStep, ...] = (PopulationStep("all", {}),)
    method: str = "none"
    options: Mapping[str, Any] = field(default_factory=dict)
    estimates: tuple[str, ...] = ()
    ties: str = "efron"
    robust: bool = False
    missing: str = "complete_case"
    description: str = ""
    key: str = ""                   # "analyses[i]" for messages
    valid: bool = True              # False when its own entries have problems (not compiled)
    smd_sd: str = "unweighted"      # SD in SMD denominators: unweighted (Austin) | weighted
    show: tuple = ()                # estimates shown, not judged (.show.ShownEstimate)


@dataclass(frozen=True)
class AnalysisPlan:
    analyses: tuple[Analysis, ...]
    response: Mapping[str, ResponseEndpoint]
    file: str = "analysis.toml"
    readable: bool = True           # False when the file is missing or not valid TOML
    aliases: Mapping[str, Any] = field(default_factory=dict)
    readings: tuple[ReadingGroup, ...] = ()     # alternatives the methods leave open

    def term_for(self, term: str | None, level: str | None = None):
        """The analysis term a target's ``term`` (and ``level``) stands for.

        ``[aliases]`` maps the paper's labels, as targets.toml writes them, to terms:
        ``ecog_1 = "ecog==1"``, or with a level ``"age:<60" = "age<60"``.
        """
        if term is None:
            return None
        if level is not None and f"{term}:{level}" in self.aliases:
            return self.aliases[f"{term}:{level}"]
        return self.aliases.get(term, term)

    def get(self, name: str) -> Analysis:
        for a in self.analyses:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.analyses)


def load_plan(path: str | Path) -> AnalysisPlan:
    plan, problems = parse_plan(path)
    problems.raise_if_any()
    return plan


def parse_plan(path: str | Path) -> tuple[AnalysisPlan, Problems]:
    path = Path(path)
    problems = Problems(str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add("", MISSING, "file not found", "missing-file")
        return AnalysisPlan((), dict(DEFAULT_RESPONSE), str(path), False), problems
    except tomllib.TOMLDecodeError as exc:
        problems.extend([toml_problem(problems.file, exc)])
        return AnalysisPlan((), dict(DEFAULT_RESPONSE), str(path), False), problems
    return parse_plan_dict(raw, problems), problems


def parse_plan_dict(raw: Mapping, problems: Problems) -> AnalysisPlan:
    for k in raw:
        if k not in _TOP_KEYS:
            problems.add(k, raw[k], f"unknown top-level key; expected {sorted(_TOP_KEYS)}",
                         "unknown-key")
    response = _parse_response(raw.get("response", {}), problems)
    aliases = raw.get("aliases", {})
    if not isinstance(aliases, Mapping) or not all(isinstance(v, (str, Mapping))
                                                   for v in aliases.values()):
        problems.add("aliases", aliases, "expected a table of label = \"term\" entries")
        aliases = {}
    items = raw.get("analyses")
    if not isinstance(items, list) or not items:
        problems.add("analyses", items if items is not None else MISSING,
                     "define at least one [[analyses]] table", "fill-me")
        items = []
    sets = raw.get("covariate_sets", {})
    if not isinstance(sets, Mapping) or not all(isinstance(v, list) for v in sets.values()):
        problems.add("covariate_sets", sets, "expected a table of name = [terms] lists")
        sets = {}
    analyses, seen = [], set()
    for i, item in enumerate(items):
        a = _parse_analysis(item, f"analyses[{i}]", problems, sets)
        if a is None:
            continue
        if a.name in seen:
            problems.add(f"analyses[{i}].name", a.name, "duplicated analysis name", "duplicate")
        seen.add(a.name)
        analyses.append(a)
    readings = parse_readings(raw.get("readings"), analyses, sets, problems)
    return AnalysisPlan(tuple(analyses), response, problems.file, True, dict(aliases),
                        readings)


def _parse_response(raw, problems: Problems) -> dict:
    """``[response]``: ``name = [levels]``, ``name = "level"`` (both read the ``response``
    column) or ``name = { column = "response_6m", levels = [...] | "level" }``."""
    out = dict(DEFAULT_RESPONSE)
    if not isinstance(raw, Mapping):
        problems.add("response", raw, "expected a table such as { orr = [\"CR\", \"PR\"] }")
        return out
    for name, entry in raw.items():
        column, levels = "response", entry
        if isinstance(entry, Mapping):
            unknown = sorted(set(entry) - {"column", "levels"})
            column, levels = entry.get("column", MISSING), entry.get("levels", MISSING)
            if unknown or not isinstance(column, str) or not column:
                problems.add(f"response.{name}", dict(entry), "expected { column = \"<response "
                             "column>\", levels = [levels] or \"level\" }" +
                             (f"; unknown key(s) {unknown}" if unknown else ""))
                continue
        if levels == "level":
            out[name] = ResponseEndpoint("level", column)
            continue
        if not (isinstance(levels, list) and levels and all(isinstance(x, str) for x in levels)):
            problems.add(f"response.{name}" + (".levels" if isinstance(entry, Mapping) else ""),
                         levels, "expected a list of response levels or \"level\" (targets pick "
                         "one category by `level`)")
            continue
        out[name] = ResponseEndpoint(tuple(levels), column)
    return out


def _parse_analysis(item, key: str, problems: Problems, sets: Mapping = {}
                    ) -> Analysis | None:
    add = problems.add
    if not isinstance(item, Mapping):
        add(key, item, "each [[analyses]] entry must be a table")
        return None
    for k in item:
        if k not in _ANALYSIS_KEYS:
            add(f"{key}.{k}", item[k], f"unknown key; expected {sorted(_ANALYSIS_KEYS)}",
                "unknown-key")
    name = item.get("name", MISSING)
    if not isinstance(name, str) or not _NAME.match(name):
        add(f"{key}.name", name, "needs a snake_case name (targets refer to it)", "fill-me"
            if name is MISSING or name == "" else "malformed")
        name = f"<{key}>"
    cohort = item.get("cohort", "main")
    if not isinstance(cohort, str):
        add(f"{key}.cohort", cohort, "expected a cohort name such as \"main\"")
        cohort = "main"
    population = parse_population(item.get("population", "all"), add, f"{key}.population")
    method, options = _parse_adjustment(item.get("adjustment", {"method": "none"}),
                                        f"{key}.adjustment", problems, sets)
    estimates = item.get("estimates", MISSING)
    if not isinstance(estimates, list) or not estimates:
        add(f"{key}.estimates", estimates, f"list the estimates, from {sorted(ESTIMATES)}",
            "fill-me")
        estimates = []
    n_before = len(problems)
    good = []
    for j, e in enumerate(estimates):
        if e not in ESTIMATES:
            add(f"{key}.estimates[{j}]", e, f"unknown estimate; expected one of "
                f"{sorted(ESTIMATES)}", "unknown-estimate")
            continue
        allowed = ESTIMATES[e].adjustments
        served = ADJUSTMENTS[method].estimates if method is not None else None
        if method is not None and allowed is not None and method not in allowed:
            add(f"{key}.estimates[{j}]", e, f"needs an adjustment among {list(allowed)}, "
                f"not {method!r}", "incompatible")
        elif served is not None and e not in served:
            add(f"{key}.estimates[{j}]", e, f"method {method!r} reports only "
                f"{list(served)}", "incompatible")
        else:
            good.append(e)
    cox = item.get("cox", {})
    ties, robust = "efron", False
    if not isinstance(cox, Mapping):
        add(f"{key}.cox", cox, "expected a table { ties = \"efron\", robust = true }")
    else:
        for k, v in cox.items():
            if k == "ties" and v in ("efron", "breslow"):
                ties = v
            elif k == "robust" and isinstance(v, bool):
                robust = v
            else:
                add(f"{key}.cox.{k}", v, "expected ties = \"efron\"|\"breslow\", robust = "
                    "true|false")
    missing = item.get("missing", "complete_case")
    if missing not in ("complete_case", "mean"):
        add(f"{key}.missing", missing, "expected \"complete_case\" or \"mean\"")
        missing = "complete_case"
    smd_sd = item.get("smd_sd", "unweighted")
    if smd_sd not in ("unweighted", "weighted"):
        add(f"{key}.smd_sd", smd_sd, "expected \"unweighted\" (Austin 2009, cobalt) or "
            "\"weighted\" (tableone's svyCreateTableOne)")
        smd_sd = "unweighted"
    show = parse_show(item.get("show", MISSING), name, key, add)
    # an analysis with problems of its own is reported once, not again by every target
    valid = method is not None and len(problems) == n_before and not any(
        p.key.startswith(f"{key}.") for p in problems.items)
    return Analysis(name, cohort, population, method or "none", options if method else {},
                    tuple(good), ties, robust, missing, str(item.get("description", "")), key,
                    valid, smd_sd, show)


def _parse_adjustment(raw, key: str, problems: Problems, sets: Mapping = {}):
    add = problems.add
    if isinstance(raw, str):
        raw = {"method": raw}
    if isinstance(raw, Mapping):
        raw = dict(raw)
        for opt in _SET_OPTIONS:            # covariates = "ps_model" names a covariate set
            if isinstance(raw.get(opt), str):
                if raw[opt] in sets:
                    raw[opt] = sets[raw[opt]]
                else:
                    add(f"{key}.{opt}", raw[opt], f"names no [covariate_sets] entry "
                        f"(defined: {sorted(sets)})", "unknown-set")
                    raw.pop(opt)
    if not isinstance(raw, Mapping):
        add(key, raw, "expected a table such as { method = \"iptw\", covariates = [...] }")
        return None, {}
    method = raw.get("method", MISSING)
    if not isinstance(method, str) or method not in ADJUSTMENTS:
        add(f"{key}.method", method, f"unknown analysis kind; expected one of "
            f"{sorted(ADJUSTMENTS)}", "unknown-analysis-kind")
        return None, {}
    kind = ADJUSTMENTS[method]
    opts: dict[str, Any] = check_options(kind.options, raw, key, add, f"method {method!r}",
                                         skip=("method",))
    ok = True
    for name, opt in kind.options.items():
        if name in opts:
            continue
        if opt.required:
            if name not in raw:
                add(f"{key}.{name}", MISSING, f"method {method!r} needs `{name}`", "fill-me")
            ok = False
        else:
            opts[name] = opt.default
    if ok:
        for k, msg in check_combination(method, opts):
            add(f"{key}.{k}", raw.get(k, MISSING), msg, "incompatible")
    return (method, opts) if ok else (None, {})
