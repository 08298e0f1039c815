"""Readings: the alternatives a paper's methods section leaves open, declared as data.

A methods section rarely pins every choice an analysis makes: "IPTW" without saying
whether the weights were stabilized, "a caliper of 0.2" without its scale, "1:1 matching"
without the matching order. ``analysis.toml`` states the reading tacebench runs by default
in each ``[[analyses]]`` table, and declares the alternatives the text leaves open in
top-level ``[[readings]]`` tables::

    [[readings]]
    option = "stabilized"                 # an option of the analyses' adjustment
    values = [false, true]                # every value considered, the declared one included
    analyses = ["iptw", "landmark_3m_iptw"]   # the analyses this one choice of the paper governs
    why = "the Statistics section names IPTW weights but not whether they were stabilized"

``option`` is any option of the analyses' adjustment kind (``stabilized``, ``truncate``,
``estimand``, ``caliper``, ``caliper_scale``, ``order``, ``replace``, ``fit_on``,
``covariates`` given as ``[covariate_sets]`` names or term lists, ...) or one of the
outcome model's ``ties`` / ``robust``; ``"none"`` stands for an option's unset value (e.g.
no truncation). One declaration is one choice the paper made once: every analysis it lists
takes the same value in a given reading. Declarations sharing an analysis form a **group**, whose readings are the
Cartesian product of its declarations' values (at most :data:`MAX_READINGS`); reading 0 is
the declared one (each analysis as its own table states it).

The reproduction run analyses every replicate under every reading of every group (the same
cohorts, so readings are compared paired), and :mod:`replications.reading_choice` says which
reading the paper's numbers favour and judges each number under the reading the *other*
numbers favour.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

from .adjustments import ADJUSTMENTS, check_combination
from .options import OptionError, choice, boolean
from .problems import MISSING, Problems

__all__ = ["ReadingChoice", "Reading", "ReadingGroup", "parse_readings", "MAX_READINGS",
           "MODEL_OPTIONS", "apply_reading"]

#: Largest number of readings of one group: each reading reruns its analyses on every
#: replicate, and a preference among very many readings says little (multiplicity).
MAX_READINGS = 64

#: Options of the outcome model (the analysis's ``cox`` table) a reading may vary.
MODEL_OPTIONS = {"ties": choice("efron", "breslow"), "robust": boolean}

#: Options no reading may vary: targets bind to the outcome model's terms at compile time.
#: (``fit_on`` may: where the propensity model is fitted, the whole cohort or the
#: analysis's population, is a choice of method; the outcome model's population is the
#: analysis's either way.)
_FIXED = {"outcome_covariates": "targets bind to the outcome model's terms",
          "treatment": "targets bind to the outcome model's terms"}
_KEYS = {"option", "values", "analyses", "why"}


@dataclass(frozen=True)
class ReadingChoice:
    """One ``[[readings]]`` entry: an option, its alternative values, the analyses it
    governs and why the paper leaves it open."""

    option: str
    values: tuple[Any, ...]
    labels: tuple[str, ...]
    analyses: tuple[str, ...]
    why: str
    key: str = ""
    declared: int = 0               # index in ``values`` of the analyses' own value


@dataclass(frozen=True)
class Reading:
    """One joint assignment of a group's choices: ``values[k]`` for ``choices[k]``."""

    index: int
    values: tuple[Any, ...]
    label: str


@dataclass(frozen=True)
class ReadingGroup:
    """Choices that share analyses, and their readings (reading 0 is the declared one)."""

    choices: tuple[ReadingChoice, ...]
    analyses: tuple[str, ...]
    readings: tuple[Reading, ...] = field(default=())

    @property
    def name(self) -> str:
        return " + ".join(c.option for c in self.choices) + \
            f" ({', '.join(self.analyses)})"

    def overrides(self, reading: Reading, analysis: str) -> dict[str, Any]:
        """Option -> value that ``reading`` sets on ``analysis`` (its choices only)."""
        return {c.option: v for c, v in zip(self.choices, reading.values)
                if analysis in c.analyses}


def apply_reading(analysis, overrides: Mapping[str, Any]):
    """The :class:`~.plan.Analysis` as ``overrides`` reads it (adjustment options and the
    outcome model's ``ties`` / ``robust``)."""
    opts = {k: v for k, v in overrides.items() if k not in MODEL_OPTIONS}
    model = {k: v for k, v in overrides.items() if k in MODEL_OPTIONS}
    return replace(analysis, options={**analysis.options, **opts}, **model)


def _label(value, raw) -> str:
    if value is None:
        return "none"
    if isinstance(raw, str):
        return raw
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple) and value and hasattr(value[0], "text"):
        return "[" + ", ".join(t.text for t in value) + "]"
    if isinstance(value, tuple):
        return "[" + ", ".join(f"{x:g}" if isinstance(x, float) else str(x)
                               for x in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _check_value(option: str, kinds, raw, sets: Mapping):
    """Normalise one alternative through the option's own validator (every governed
    analysis's kind must accept it)."""
    value = raw
    if option in MODEL_OPTIONS:
        return MODEL_OPTIONS[option](raw)
    opt = ADJUSTMENTS[kinds[0]].options[option]
    if raw == "none" and opt.default is None:
        return None
    if isinstance(raw, str) and option in ADJUSTMENTS[kinds[0]].covariate_options:
        if raw not in sets:
            raise OptionError(f"names no [covariate_sets] entry (defined: {sorted(sets)})")
        value = sets[raw]
    out = None
    for kind in kinds:
        out = ADJUSTMENTS[kind].options[option].check(value)
    return out


def _current(analysis, option: str):
    if option in MODEL_OPTIONS:
        return getattr(analysis, option)
    return analysis.options.get(option)


def parse_readings(raw, analyses: Sequence, sets: Mapping, problems: Problems
                   ) -> tuple[ReadingGroup, ...]:
    """Parse the top-level ``[[readings]]`` array against the parsed analyses.

    Every problem goes to ``problems`` (key ``readings[i].<field>``); an entry with a
    problem is left out, the others still form groups.
    """
    if raw is None:
        return ()
    add = problems.add
    if not isinstance(raw, list):
        add("readings", raw, "expected an array of [[readings]] tables")
        return ()
    by_name = {a.name: a for a in analyses}
    choices: list[ReadingChoice] = []
    for i, item in enumerate(raw):
        c = _parse_choice(item, f"readings[{i}]", by_name, sets, problems)
        if c is not None:
            choices.append(c)
    for i, c in enumerate(choices):         # one analysis, one option: one declaration
        for d in choices[:i]:
            both = set(c.analyses) & set(d.analyses)
            if c.option == d.option and both:
                add(f"{c.key}.option", c.option, f"already declared by {d.key} for "
                    f"{sorted(both)}", "duplicate")
    return _groups(choices, by_name, add)


def _parse_choice(item, key: str, by_name: Mapping, sets: Mapping, problems: Problems
                  ) -> ReadingChoice | None:
    add = problems.add
    if not isinstance(item, Mapping):
        add(key, item, "each [[readings]] entry must be a table with option, values, "
            "analyses and why")
        return None
    n0 = len(problems)
    for k in item:
        if k not in _KEYS:
            add(f"{key}.{k}", item[k], f"unknown key; expected {sorted(_KEYS)}", "unknown-key")
    why = item.get("why", MISSING)
    if not isinstance(why, str) or not why.strip():
        add(f"{key}.why", why, "say why the paper leaves this choice open (every assumption "
            "is stated with its reason)", "fill-me")
    names = item.get("analyses", MISSING)
    if not (isinstance(names, list) and names and all(isinstance(n, str) for n in names)):
        add(f"{key}.analyses", names, "list the analyses this choice governs", "fill-me")
        return None
    unknown = [n for n in names if n not in by_name]
    if unknown:
        add(f"{key}.analyses", unknown, f"no such analysis (defined: {sorted(by_name)})",
            "missing-analysis")
        return None
    targets = [by_name[n] for n in names]
    if not all(a.valid for a in targets):
        return None                         # the analysis's own problems are reported
    option = item.get("option", MISSING)
    kinds = [a.method for a in targets]
    allowed = set.intersection(*(set(ADJUSTMENTS[k].options) | set(MODEL_OPTIONS)
                                 for k in kinds))
    if not isinstance(option, str) or option not in allowed or option in _FIXED:
        why_not = f" ({_FIXED[option]})" if option in _FIXED else ""
        add(f"{key}.option", option, f"not an option every listed analysis has{why_not}; "
            f"expected one of {sorted(allowed - set(_FIXED))}", "unknown-option")
        return None
    values = item.get("values", MISSING)
    if not isinstance(values, list) or len(values) < 2:
        add(f"{key}.values", values, "list at least two alternatives, the declared one "
            "included", "fill-me")
        return None
    parsed, labels = [], []
    for j, v in enumerate(values):
        try:
            parsed.append(_check_value(option, kinds, v, sets))
            labels.append(_label(parsed[-1], v))
        except OptionError as exc:
            add(f"{key}.values[{j}]", v, str(exc), "malformed")
    if len(problems) > n0:
        return None
    if len(set(map(repr, parsed))) < len(parsed):
        add(f"{key}.values", values, "alternatives repeat", "duplicate")
        return None
    current = {a.name: _current(a, option) for a in targets}
    if len(set(map(repr, current.values()))) > 1:
        add(f"{key}.analyses", names, f"the analyses state different values of {option} "
            f"({ {n: _label(v, None) for n, v in current.items()} }); one choice of the "
            "paper takes one value", "incompatible")
        return None
    declared = current[names[0]]
    hits = [j for j, v in enumerate(parsed) if repr(v) == repr(declared)]
    if not hits:
        add(f"{key}.values", values, f"must include the value the analyses state "
            f"({_label(declared, None)})", "incompatible")
        return None
    return ReadingChoice(option, tuple(parsed), tuple(labels), tuple(names), why.strip(),
                         key, hits[0])


def _groups(choices: list[ReadingChoice], by_name: Mapping, add
            ) -> tuple[ReadingGroup, ...]:
    """Connected components of choices over shared analyses, with their readings."""
    groups: list[list[ReadingChoice]] = []
    for c in choices:
        joined = [g for g in groups if any(set(c.analyses) & set(d.analyses) for d in g)]
        merged = [c] + [d for g in joined for d in g]
        groups = [g for g in groups if g not in joined] + [merged]
    out = []
    for g in groups:
        g = sorted(g, key=lambda c: c.key)
        names = tuple(dict.fromkeys(n for c in g for n in c.analyses))
        n = 1
        for c in g:
            n *= len(c.values)
        if n > MAX_READINGS:
            add(g[0].key, [c.option for c in g], f"{n} readings for analyses {list(names)}; "
                f"at most {MAX_READINGS}", "too-many-readings")
            continue
        # reading 0 = every choice at its declared value; the rest in product order
        orders = [[c.declared] + [j for j in range(len(c.values)) if j != c.declared]
                  for c in g]
        readings = []
        bad = False
        for idx in itertools.product(*orders):
            values = tuple(c.values[j] for c, j in zip(g, idx))
            label = ", ".join(f"{c.option}={c.labels[j]}" for c, j in zip(g, idx))
            reading = Reading(len(readings), values, label)
            for name in names:
                a = by_name[name]
                over = {c.option: v for c, v in zip(g, values) if name in c.analyses}
                opts = {**a.options, **{k: v for k, v in over.items()
                                        if k not in MODEL_OPTIONS}}
                for k, msg in check_combination(a.method, opts):
                    add(g[0].key, label, f"reading {label!r} of analysis {name!r}: {msg}",
                        "incompatible")
                    bad = True
            readings.append(reading)
        if not bad:
            out.append(ReadingGroup(tuple(g), names, tuple(readings)))
    return tuple(out)
